"""alerting: see DESIGN.md, layout."""
