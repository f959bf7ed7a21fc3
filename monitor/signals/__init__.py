"""signals: see DESIGN.md, layout."""
