"""baseline: see DESIGN.md, layout."""
