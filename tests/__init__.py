"""raiwatch test suite (a regular package, so site-packages' stray `tests` packages cannot shadow it)."""
