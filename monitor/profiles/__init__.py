"""profiles: see DESIGN.md, layout."""
