"""Build dataset profiles from batches in bounded memory, column-parallel.

A :class:`ProfilePlan` fixes what the baseline decided once (histogram edges,
value ranges, known categories); every window profiled with the same plan is
comparable with the baseline and with every other window, and profiles built
from partitions merge into the profile of the whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from monitor.ingest.conform import TYPE_ERRORS_COLUMN, conform, profile_kind, type_error_masks
from monitor.profiles.column import (
    CategoricalProfile,
    ColumnProfile,
    NumericProfile,
    column_from_dict,
)
from monitor.profiles.reservoir import Reservoir
from monitor.spec.model_version import FeatureSpec

PROFILE_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ColumnPlan:
    """How one column is profiled: fixed by the baseline."""

    spec: FeatureSpec
    edges: np.ndarray | None = None
    value_range: tuple[float, float] | None = None
    known_categories: frozenset[str] | None = None

    @property
    def kind(self) -> str:
        return profile_kind(self.spec)

    def new_profile(self, top_k: int) -> ColumnProfile:
        if self.kind == "numeric":
            return NumericProfile(edges=self.edges)
        return CategoricalProfile(top_k=top_k)


@dataclass(frozen=True)
class ProfilePlan:
    columns: tuple[ColumnPlan, ...]
    reservoir_size: int = 10_000
    top_k: int = 1000
    seed: int = 0
    key_column: str | None = None  # a unique row id makes the best sampling key
    key_columns: tuple[str, ...] = ()  # without an id: the (few) columns rows are keyed by
    passthrough: tuple[str, ...] = ()  # extra columns kept in the sample (target, timestamp)

    @property
    def specs(self) -> list[FeatureSpec]:
        return [c.spec for c in self.columns]


@dataclass
class DatasetProfile:
    """Profiles of every column of a dataset (or window) plus a row sample."""

    columns: dict[str, ColumnProfile]
    row_count: int
    reservoir: Reservoir
    schema_version: int = PROFILE_SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        if set(self.columns) != set(other.columns):
            raise ValueError(
                f"cannot merge profiles of different columns: {sorted(self.columns)} "
                f"vs {sorted(other.columns)}"
            )
        cols: dict[str, ColumnProfile] = {}
        for name, prof in self.columns.items():
            cols[name] = prof.merge(other.columns[name])  # type: ignore[arg-type]
        return DatasetProfile(cols, self.row_count + other.row_count, self.reservoir.merge(other.reservoir))

    def to_document(self) -> dict[str, Any]:
        """JSON-able summary (the reservoir travels separately as Parquet bytes)."""
        return {
            "schema_version": self.schema_version,
            "row_count": self.row_count,
            "reservoir": {"k": self.reservoir.k, "seed": self.reservoir.seed},
            "columns": {n: p.to_dict() for n, p in self.columns.items()},
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any], sample: bytes | None = None) -> DatasetProfile:
        if doc.get("schema_version") != PROFILE_SCHEMA_VERSION:
            raise ValueError(
                f"profile schema version {doc.get('schema_version')} is not supported "
                f"(this raiwatch reads {PROFILE_SCHEMA_VERSION}); rebuild the baseline"
            )
        r = doc["reservoir"]
        res = (
            Reservoir.from_parquet_bytes(sample, r["k"], r["seed"])
            if sample
            else Reservoir(r["k"], r["seed"])
        )
        cols = {n: column_from_dict(d) for n, d in doc["columns"].items()}
        return cls(cols, doc["row_count"], res)


def _update_column(
    plan: ColumnPlan, prof: ColumnProfile, table: pa.Table, masks: dict[str, np.ndarray]
) -> None:
    col = table.column(plan.spec.name).combine_chunks()
    te = masks.get(plan.spec.name)
    if isinstance(prof, NumericProfile):
        values = col.to_numpy(zero_copy_only=False)
        prof.update(np.asarray(values, dtype=np.float64), te, plan.value_range)
    else:
        prof.update(col, te, plan.known_categories)


def build_profile(
    batches: Iterable[pa.RecordBatch | pa.Table | pd.DataFrame],
    plan: ProfilePlan,
    *,
    threads: int = 2,
    what: str = "input",
    on_batch: Any = None,
    tap: Any = None,
    segments: Any = None,
) -> DatasetProfile:
    """Profile ``batches`` with ``plan``; memory is bounded by the batch size.

    Parameters
    ----------
    batches
        Arrow batches or pandas frames holding at least the planned columns.
    plan
        Columns, edges, ranges and known categories fixed by the baseline.
    threads
        Columns are profiled in parallel on this many threads.
    on_batch
        Optional callback ``on_batch(rows)`` after each batch (progress bars).
    tap
        Optional callback ``tap(batch)`` seeing every raw batch (e.g. to join labels).
    segments
        Optional :class:`~monitor.segments.profiles.SegmentProfiler`: segment profiles
        in the same pass (the whole profile is then the merge of a family's segments).
    """
    return build_chunk_profiles(
        batches, plan, None, threads=threads, what=what, on_batch=on_batch, tap=tap, segments=segments
    )[0]


def _new_state(plan: ProfilePlan) -> DatasetProfile:
    profiles = {c.spec.name: c.new_profile(plan.top_k) for c in plan.columns}
    sample_cols: Sequence[str] | None = (
        [plan.key_column] if plan.key_column else (list(plan.key_columns) or None)
    )
    return DatasetProfile(profiles, 0, Reservoir(plan.reservoir_size, plan.seed, sample_cols))


def _split(batch: Any, n: int, pos: int, bounds: Sequence[int] | None) -> list[tuple[int, Any]]:
    """``(chunk index, slice)`` pieces of a batch holding rows ``[pos, pos + n)``."""
    if bounds is None:
        return [(0, batch)]
    pieces = []
    lo = 0
    while lo < n:
        chunk = int(np.searchsorted(bounds, pos + lo, side="right")) - 1
        hi = min(n, bounds[chunk + 1] - pos) if chunk + 1 < len(bounds) else n
        piece = batch.iloc[lo:hi] if isinstance(batch, pd.DataFrame) else batch.slice(lo, hi - lo)
        pieces.append((min(chunk, len(bounds) - 2), piece))
        lo = hi
    return pieces


def build_chunk_profiles(
    batches: Iterable[pa.RecordBatch | pa.Table | pd.DataFrame],
    plan: ProfilePlan,
    bounds: Sequence[int] | None,
    *,
    threads: int = 2,
    what: str = "input",
    on_batch: Any = None,
    tap: Any = None,
    segments: Any = None,
) -> list[DatasetProfile]:
    """Profiles of contiguous row ranges ``[bounds[i], bounds[i+1])`` in one pass.

    ``bounds=None`` profiles everything as one range. Rows past the last bound
    go to the last range. ``segments`` (a
    :class:`~monitor.segments.profiles.SegmentProfiler`) sees every conformed batch;
    without ``bounds`` the whole profile is the merge of its first family.
    """
    merged_whole = segments is not None and bounds is None
    n_states = 1 if bounds is None else len(bounds) - 1
    states = [_new_state(plan) for _ in range(n_states)]
    specs = plan.specs
    pos = 0
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for batch in batches:
            n = len(batch) if isinstance(batch, pd.DataFrame) else batch.num_rows
            if n == 0:
                continue
            table = conform(batch, specs, what=what)
            if tap is not None:
                tap(batch)
            if segments is not None:
                segments.update(pool, table, batch, whole=merged_whole)
            if not merged_whole:
                for i, piece in _split(table, n, pos, bounds):
                    raw = batch if bounds is None else None
                    _profile_piece(pool, plan, states[i], piece, raw)
            pos += n
            if on_batch is not None:
                on_batch(n)
    if merged_whole and pos:
        return [segments.whole()]
    return states


def _profile_piece(
    pool: ThreadPoolExecutor, plan: ProfilePlan, state: DatasetProfile, table: pa.Table, raw: Any
) -> None:
    n = table.num_rows
    masks = type_error_masks(table)
    profiles = state.columns
    futures = [
        pool.submit(_update_column, c, profiles[c.spec.name], table, masks) for c in plan.columns
    ]
    if plan.reservoir_size and raw is not None:
        # Every sampled row carries the type-error column (null when clean), so a
        # row's key does not depend on whether its batch had type errors.
        if TYPE_ERRORS_COLUMN not in table.schema.names:
            table = table.append_column(TYPE_ERRORS_COLUMN, pa.nulls(n, pa.string()))
        state.reservoir.update(_with_passthrough(table, raw, plan))
    for f in futures:
        f.result()
    state.row_count += n


def _with_passthrough(table: pa.Table, batch: Any, plan: ProfilePlan) -> pa.Table:
    extra = [c for c in (plan.key_column, *plan.passthrough) if c and c not in table.schema.names]
    names = list(batch.columns) if isinstance(batch, pd.DataFrame) else batch.schema.names
    for c in extra:
        if c not in names:
            continue
        if isinstance(batch, pd.DataFrame):
            values = batch[c]
            arr = pa.array(values.astype(str).where(values.notna(), None) if values.dtype == object else values)
        else:
            arr = batch.column(c)
        table = table.append_column(c, arr)
    return table
