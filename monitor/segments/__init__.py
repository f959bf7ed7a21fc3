"""Segments: every signal per segment, in the same pass, inside the monitor's budget.

* :mod:`~monitor.segments.spec` — the ``segments:`` block of a monitor (:class:`SegmentSpec`);
* :mod:`~monitor.segments.cohorts` — an RAI bundle's error cohorts as row predicates;
* :mod:`~monitor.segments.plan` — families fixed by the baseline, rows to segment codes;
* :mod:`~monitor.segments.profiles` — segment profiles built in the window's own pass;
* :mod:`~monitor.segments.baseline` — what a baseline holds per segment;
* :mod:`~monitor.segments.evaluate` — the signals on each segment, on a share of the budget.
"""

from __future__ import annotations

from monitor.segments.spec import SegmentSpec, load_segments, parse_segments

__all__ = ["SegmentSpec", "load_segments", "parse_segments"]
