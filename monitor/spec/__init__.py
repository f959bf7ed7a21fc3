"""spec: see DESIGN.md, layout."""
