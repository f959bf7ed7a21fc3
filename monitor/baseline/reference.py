"""Baselines: the reference profile computed once, so runs never re-read raw data.

``create_baseline`` reads the reference data twice in bounded memory: the first
pass finds value ranges and a row sample, from which histogram edges are fixed
(baseline quantiles, or midpoints between distinct values for discrete
columns); the second pass profiles the reference on those edges (and, with
``segments``, every segment in the same pass). The model parts (reference
performance, CBPE, PCA, importances) are fitted on the sample.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from monitor.baseline.model_parts import fit_model_baselines
from monitor.engines.local import LocalEngine, ProfileEngine
from monitor.errors import SchemaError
from monitor.ingest.conform import missing_columns_error, profile_kind
from monitor.ingest.delta import delta_snapshot, is_delta_table
from monitor.profiles.column import CategoricalProfile, NumericProfile
from monitor.profiles.dataset import (
    ColumnPlan,
    DatasetProfile,
    ProfilePlan,
)
from monitor.profiles.reservoir import Reservoir
from monitor.segments.baseline import SegmentBaselines, fit_segment_baselines
from monitor.segments.plan import resolve_families
from monitor.segments.profiles import SegmentProfiler
from monitor.spec.model_version import FeatureSpec, ModelVersion

if TYPE_CHECKING:
    from monitor.segments.spec import SegmentSpec

BASELINE_SCHEMA_VERSION = 1
FULL_HASH_BYTES = 64 << 20
Source: TypeAlias = str | Path | pd.DataFrame | pa.Table


def histogram_edges(sample: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Edges for one numeric column from a sample of its finite values.

    Discrete columns (at most ``bins`` distinct values in the sample) get edges
    at the midpoints between distinct values, so every bin holds one value and
    binned distances are exact; continuous columns get sample quantiles.
    """
    sample = sample[np.isfinite(sample)]
    if len(sample) == 0 or not np.isfinite(lo):
        return np.array([0.0, 1.0])
    distinct = np.unique(np.concatenate([sample, [lo, hi]]))
    if len(distinct) == 1:
        v = float(distinct[0])
        half = max(abs(v) * 1e-9, 1e-12)
        return np.array([v - half, v + half])
    if len(distinct) <= bins:
        mids = (distinct[:-1] + distinct[1:]) / 2
        gap_lo = (distinct[1] - distinct[0]) / 2
        gap_hi = (distinct[-1] - distinct[-2]) / 2
        return np.concatenate([[distinct[0] - gap_lo], mids, [distinct[-1] + gap_hi]])
    qs = np.quantile(sample, np.linspace(0, 1, bins + 1)[1:-1])
    edges = np.unique(np.concatenate([[lo], qs, [hi]]))
    return edges


@dataclass
class Baseline:
    """Reference profile and sample, and what it learnt about the model.

    Everything a run judges against is fitted here, once (the histogram edges, the model
    parts below, the segment profiles); a run only reads it.

    ``performance`` holds ``{"performance": ..., "cbpe": ..., "attribution": ...}`` from
    :func:`monitor.baseline.model_parts.fit_model_baselines` (each part a dict, or
    ``{"error": reason}`` when it could not be built).
    """

    model_version: ModelVersion
    profile: DatasetProfile
    plan: ProfilePlan
    performance: dict[str, Any] | None = None
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    source: dict[str, Any] = field(default_factory=dict)
    segments: SegmentBaselines | None = None  # per-segment profiles (``segments:`` of a monitor)

    def window_plan(self) -> ProfilePlan:
        """The plan windows are profiled with: baseline edges, ranges and categories."""
        cols = []
        for c in self.plan.columns:
            prof = self.profile.columns[c.spec.name]
            if isinstance(prof, NumericProfile):
                rng = (prof.min, prof.max) if prof.n else None
                cols.append(replace(c, value_range=rng))
            else:
                assert isinstance(prof, CategoricalProfile)
                cols.append(replace(c, known_categories=frozenset(prof.counts)))
        return replace(self.plan, columns=tuple(cols))

    def to_document(self) -> dict[str, Any]:
        return {
            "schema_version": BASELINE_SCHEMA_VERSION,
            "model_version": self.model_version.model_dump(mode="json"),
            "created_at": self.created_at,
            "source": self.source,
            "plan": {
                "reservoir_size": self.plan.reservoir_size,
                "top_k": self.plan.top_k,
                "seed": self.plan.seed,
                "key_column": self.plan.key_column,
                "key_columns": list(self.plan.key_columns),
                "passthrough": list(self.plan.passthrough),
            },
            "profile": self.profile.to_document(),
            "performance": self.performance,
            **({"segments": self.segments.to_document()} if self.segments is not None else {}),
        }

    def sample_bytes(self) -> bytes:
        return self.profile.reservoir.to_parquet_bytes()

    @classmethod
    def from_document(cls, doc: dict[str, Any], sample: bytes | None = None) -> Baseline:
        if doc.get("schema_version") != BASELINE_SCHEMA_VERSION:
            raise ValueError(
                f"baseline schema version {doc.get('schema_version')} is not supported; "
                "rebuild it with `raiwatch baseline create`"
            )
        mv = ModelVersion.model_validate(doc["model_version"])
        profile = DatasetProfile.from_document(doc["profile"], sample)
        p = doc["plan"]
        cols = []
        for spec in mv.profiled_columns():
            prof = profile.columns[spec.name]
            edges = prof.edges if isinstance(prof, NumericProfile) else None
            cols.append(ColumnPlan(spec, edges=edges))
        plan = ProfilePlan(
            tuple(cols), p["reservoir_size"], p["top_k"], p["seed"], p["key_column"],
            tuple(p.get("key_columns", ())), tuple(p["passthrough"]),
        )  # fmt: skip
        # baselines from before this version also hold "chunks" (calibration profiles no
        # signal reads any more): ignored
        segments = SegmentBaselines.from_document(doc["segments"]) if doc.get("segments") else None
        return cls(
            mv, profile, plan, doc.get("performance"), doc["created_at"], doc.get("source", {}), segments
        )


def sampling_key_columns(specs: list[FeatureSpec], n: int = 4) -> tuple[str, ...]:
    """Columns that key the reservoir when there is no request id.

    Hashing a few columns (numeric first, they rarely tie) is as random as hashing
    the whole row and several times cheaper; rows equal on all of them are sampled
    together.
    """
    numeric = [s.name for s in specs if profile_kind(s) == "numeric"]
    other = [s.name for s in specs if profile_kind(s) != "numeric"]
    return tuple((numeric + other)[:n])


def _fingerprint(source: Source) -> dict[str, Any]:
    if isinstance(source, pd.DataFrame | pa.Table):
        return {"kind": "frame", "rows": len(source)}
    if is_delta_table(source):  # the log names the version, and the version the files
        return delta_snapshot(source).describe()
    p = Path(source)
    size = p.stat().st_size
    h = hashlib.sha256()
    with p.open("rb") as f:
        if size <= FULL_HASH_BYTES:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
            return {"kind": "file", "path": str(p), "sha256": h.hexdigest(), "bytes": size}
        # Large files: size + first and last 8 MiB (a Parquet footer holds the statistics
        # of every column chunk), so fingerprinting does not cost a full extra read.
        h.update(str(size).encode())
        h.update(f.read(8 << 20))
        f.seek(size - (8 << 20))
        h.update(f.read())
    return {"kind": "file", "path": str(p), "sha256_head_tail": h.hexdigest(), "bytes": size}


def create_baseline(
    model_version: ModelVersion,
    source: Source,
    *,
    bins: int = 1000,
    reservoir_size: int = 10_000,
    top_k: int = 1000,
    seed: int = 0,
    batch_rows: int = 262_144,
    threads: int = 2,
    on_batch: Callable[[int], None] | None = None,
    model: Any = None,
    engine: ProfileEngine | None = None,
    segments: Sequence[SegmentSpec] = (),
) -> Baseline:
    """Profile reference data (a file or frame) into a :class:`Baseline`.

    With a target column in the reference data the baseline also holds the reference
    performance and a CBPE calibration; with ``model`` (the real model, loaded from
    the model version's ``model_uri``) its permutation importance. ``engine`` chooses
    where the profiles are built (:mod:`monitor.engines`; default: this process).
    ``segments`` (the ``segments:`` of a monitor) adds a profile per segment, built in
    the second pass (local engine).
    """
    engine = engine or LocalEngine(threads=threads, batch_rows=batch_rows, on_batch=on_batch)
    specs = model_version.profiled_columns()
    available = engine.columns(source)
    missing = [s.name for s in specs if s.name not in available]
    if missing:  # checked here: the readers only load the wanted columns
        raise missing_columns_error("reference data", missing, available)
    key = model_version.id_column if model_version.id_column in available else None
    passthrough = tuple(
        c for c in (model_version.target, model_version.timestamp_column) if c and c in available
    )
    wanted = [s.name for s in specs] + [c for c in (key, *passthrough) if c]

    # Pass 1: ranges and a sample, to fix the histogram edges.
    plan0 = ProfilePlan(
        tuple(ColumnPlan(s) for s in specs), reservoir_size, top_k, seed, key,
        () if key else sampling_key_columns(specs), passthrough,
    )  # fmt: skip
    first = engine.profile(source, plan0, columns=wanted, what="reference data")
    sample = first.reservoir.to_pandas()
    cols = []
    for s in specs:
        prof = first.columns[s.name]
        if profile_kind(s) == "numeric":
            assert isinstance(prof, NumericProfile)
            values = pd.to_numeric(sample[s.name], errors="coerce").to_numpy(dtype=np.float64)
            cols.append(ColumnPlan(s, edges=histogram_edges(values, prof.min, prof.max, bins)))
        else:
            cols.append(ColumnPlan(s))
    plan = replace(plan0, columns=tuple(cols))

    # Pass 2: the profile on those edges (the sample is pass 1's).
    second_plan = replace(plan, reservoir_size=0)
    profiler = _segment_profiler(segments, model_version, first, second_plan, engine)
    extra: dict[str, Any] = {"segments": profiler} if profiler is not None else {}  # local engine only
    merged = engine.profile(source, second_plan, columns=wanted, what="reference data", **extra)
    merged.reservoir = first.reservoir
    model_parts = fit_model_baselines(model_version, first.reservoir.to_pandas(), model=model, seed=seed)
    segment_parts = (
        fit_segment_baselines(profiler, first.reservoir, model_version, seed=seed) if profiler is not None else None
    )
    return Baseline(
        model_version, merged, plan, model_parts, source=engine.describe(source),
        segments=segment_parts,
    )  # fmt: skip


def _segment_profiler(
    segments: Sequence[SegmentSpec], mv: ModelVersion, first: DatasetProfile, plan: ProfilePlan, engine: Any
) -> SegmentProfiler | None:
    if not segments:
        return None
    if engine.name != "local":
        raise SchemaError(
            f"segment baselines are built by the local engine, not {engine.name!r}; "
            "create the baseline without --engine spark, or without segments"
        )
    return SegmentProfiler(resolve_families(segments, mv, first), plan)


__all__ = ["Baseline", "Reservoir", "create_baseline", "histogram_edges"]
