"""Segment profiles built in the same pass as the window (or reference) profile.

:class:`SegmentProfiler` rides along :func:`monitor.profiles.dataset.build_profile`:
each conformed batch is sorted once by segment code per family (a stable
``take``), and every segment's contiguous slice updates that segment's profile —
the same column profiles, the same plan, so a segment's window is comparable with
its baseline. Within a family the segments (plus the rows in none) partition the
batch, so the window's own profile is the *merge* of the first family's profiles:
profiling with segments costs about one extra sort-and-take per family, not a
second profiling of the rows (measured in ``bench/segments_cost.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from monitor.ingest.conform import TYPE_ERRORS_COLUMN
from monitor.profiles.dataset import (
    DatasetProfile,
    ProfilePlan,
    _new_state,
    _profile_piece,
    _with_passthrough,
)
from monitor.segments.plan import SegmentFamily


class SegmentProfiler:
    """One profile per segment of every family (and, for the first family, the rows in none).

    Parameters
    ----------
    families
        The segment families, fixed by the baseline.
    plan
        The plan the window (or reference chunks) are profiled with; with
        ``reservoir_size`` > 0 each segment keeps its own row sample.
    """

    def __init__(self, families: Sequence[SegmentFamily], plan: ProfilePlan) -> None:
        if not families:
            raise ValueError("a SegmentProfiler needs at least one segment family")
        self.families = list(families)
        self.plan = plan
        # states[f][0] holds the rows of family f in no segment (kept for the first family only)
        self.states = [[_new_state(plan) for _ in range(len(f.keys) + 1)] for f in self.families]

    def update(self, pool: ThreadPoolExecutor, table: pa.Table, raw: Any, *, whole: bool) -> None:
        """Profile one conformed batch into every segment (``whole``: also the rows in none)."""
        if self.plan.reservoir_size:
            if TYPE_ERRORS_COLUMN not in table.schema.names:
                table = table.append_column(
                    TYPE_ERRORS_COLUMN, pa.nulls(table.num_rows, pa.string())
                )
            table = _with_passthrough(table, raw, self.plan)
        for f, family in enumerate(self.families):
            codes = family.codes(table)
            order = np.argsort(codes, kind="stable")
            starts = np.searchsorted(codes[order], np.arange(-1, len(family.keys) + 1), side="left")
            ordered = table if np.all(order[1:] > order[:-1]) else table.take(pa.array(order))
            for g in range(len(family.keys) + 1):
                lo, hi = int(starts[g]), int(starts[g + 1])
                if hi == lo or (g == 0 and not (whole and f == 0)):
                    continue
                piece = ordered.slice(lo, hi - lo)
                _profile_piece(pool, self.plan, self.states[f][g], piece, piece)

    def whole(self) -> DatasetProfile:
        """The profile of every row: the merge of the first family's partition."""
        merged = self.states[0][0]
        for state in self.states[0][1:]:
            merged = merged.merge(state)
        return merged

    def profiles(self) -> dict[str, DatasetProfile]:
        """Each segment's profile by key (``region=EU``, ``cohort=7``)."""
        out: dict[str, DatasetProfile] = {}
        for family, states in zip(self.families, self.states, strict=True):
            out.update(zip(family.keys, states[1:], strict=True))
        return out


def without_sample(plan: ProfilePlan) -> ProfilePlan:
    """``plan`` without a row sample (reference segments take theirs from the baseline's)."""
    return replace(plan, reservoir_size=0)
