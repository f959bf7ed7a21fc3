"""engines: see DESIGN.md, layout."""
