"""The local engine: today's Arrow-batch, column-parallel builder behind the engine interface.

An engine profiles a *source* with a :class:`~monitor.profiles.dataset.ProfilePlan`.
For the local engine a source is a CSV/Parquet/JSONL file, a Delta table
directory, a pandas frame or an Arrow table, read in bounded batches by
:func:`monitor.ingest.sources.iter_batches`.

    >>> import pandas as pd
    >>> from monitor.profiles.dataset import ColumnPlan, ProfilePlan
    >>> from monitor.spec.model_version import FeatureSpec
    >>> plan = ProfilePlan((ColumnPlan(FeatureSpec(name="x", type="numeric")),), reservoir_size=0)
    >>> LocalEngine().profile(pd.DataFrame({"x": [1.0, None, 3.0]}), plan).columns["x"].nulls
    1
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa

from monitor.errors import DataError
from monitor.ingest.sources import file_columns, iter_batches
from monitor.ingest.time_filter import in_window
from monitor.profiles.dataset import (
    DatasetProfile,
    ProfilePlan,
    build_chunk_profiles,
    build_profile,
)


class ProfileEngine(Protocol):
    """What :func:`monitor.baseline.reference.create_baseline` and window runs need of an engine."""

    name: str

    def columns(self, source: Any) -> list[str]:
        """Column names of ``source`` (read from its schema only)."""
        ...

    def profile(
        self,
        source: Any,
        plan: ProfilePlan,
        *,
        columns: Sequence[str] | None = None,
        what: str = "input",
    ) -> DatasetProfile:
        """The profile of every row of ``source``."""
        ...

    def chunk_profiles(
        self,
        source: Any,
        plan: ProfilePlan,
        bounds: Sequence[int],
        *,
        columns: Sequence[str] | None = None,
        what: str = "input",
    ) -> list[DatasetProfile]:
        """Profiles of the contiguous row ranges ``[bounds[i], bounds[i+1])``."""
        ...

    def describe(self, source: Any) -> dict[str, Any]:
        """What was read, for the stored baseline's ``source`` field."""
        ...


class LocalEngine:
    """Profile files or frames in this process: Arrow batches, columns on ``threads`` threads."""

    name = "local"

    def __init__(
        self,
        *,
        threads: int = 2,
        batch_rows: int = 262_144,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.threads = threads
        self.batch_rows = batch_rows
        self.on_batch = on_batch

    def _batches(self, source: Any, columns: Sequence[str] | None) -> Iterable[Any]:
        if isinstance(source, str | Path | pd.DataFrame | pa.Table):
            return iter_batches(source, batch_rows=self.batch_rows, columns=columns)
        return source  # already an iterable of batches

    def columns(self, source: Any) -> list[str]:
        if isinstance(source, pd.DataFrame):
            return list(source.columns)
        if isinstance(source, pa.Table):
            return source.schema.names
        return file_columns(source)

    def profile(
        self,
        source: Any,
        plan: ProfilePlan,
        *,
        columns: Sequence[str] | None = None,
        what: str = "input",
        start: Any = None,
        end: Any = None,
        time_column: str | None = None,
        segments: Any = None,
    ) -> DatasetProfile:
        """The profile of ``source`` (rows with ``start <= time_column < end`` when given)."""
        if start is None and end is None:
            batches = self._batches(source, columns)
        elif time_column is None:
            raise DataError("cannot select the window: give the time_column to filter on")
        else:
            read = None if columns is None else [*columns, time_column]
            batches = (in_window(b, time_column, start, end) for b in self._batches(source, read))
        return build_profile(
            batches,
            plan,
            threads=self.threads,
            what=what,
            on_batch=self.on_batch,
            segments=segments,
        )

    def chunk_profiles(
        self,
        source: Any,
        plan: ProfilePlan,
        bounds: Sequence[int],
        *,
        columns: Sequence[str] | None = None,
        what: str = "input",
        segments: Any = None,
    ) -> list[DatasetProfile]:
        # ``segments``: a SegmentProfiler fed in the same pass (monitor/segments/profiles.py)
        return build_chunk_profiles(
            self._batches(source, columns), plan, list(bounds), threads=self.threads, what=what,
            segments=segments,
        )  # fmt: skip

    def describe(self, source: Any) -> dict[str, Any]:
        from monitor.baseline.reference import _fingerprint  # the baseline module imports engines

        if isinstance(source, str | Path | pd.DataFrame | pa.Table):
            return _fingerprint(source)
        return {"kind": "batches"}
