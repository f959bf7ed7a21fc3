"""ingest: see DESIGN.md, layout."""
