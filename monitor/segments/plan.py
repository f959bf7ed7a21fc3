"""Segment families resolved against a baseline: which rows belong to which segment.

A :class:`SegmentFamily` is fixed when the baseline is created — a feature's
values (the baseline's most frequent, or those listed) or a bundle's cohorts with
their parsed filters — and stored with the baseline, so every window is cut the
same way. ``codes(table)`` gives each row of a conformed table the index of its
segment in the family, or ``-1`` when it is in none (a value outside the
family, a null, a row no cohort covers)::

    >>> import pyarrow as pa
    >>> fam = SegmentFamily(name="region", kind="feature", column="region", values=("EU", "US"))
    >>> fam.keys
    ('region=EU', 'region=US')
    >>> fam.codes(pa.table({"region": ["US", None, "EU", "APAC"]})).tolist()
    [1, -1, 0, -1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from monitor.errors import SchemaError
from monitor.ingest.conform import conform, profile_kind
from monitor.profiles.column import CategoricalProfile
from monitor.profiles.dataset import DatasetProfile
from monitor.segments.cohorts import Cohort, Condition, cohort_mask, read_cohorts
from monitor.segments.spec import SegmentSpec
from monitor.spec.model_version import ModelVersion


@dataclass(frozen=True)
class SegmentFamily:
    """One family of segments as the baseline fixed it."""

    name: str
    kind: Literal["feature", "cohorts"]
    column: str | None = None
    values: tuple[str, ...] = ()
    cohorts: tuple[Cohort, ...] = ()
    source: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        if self.kind == "feature":
            return tuple(f"{self.column}={v}" for v in self.values)
        return tuple(c.key for c in self.cohorts)

    @property
    def columns(self) -> list[str]:
        """The columns the family reads."""
        if self.kind == "feature":
            assert self.column is not None
            return [self.column]
        return sorted({col for c in self.cohorts for col in c.columns})

    def describe(self, key: str) -> str:
        """A readable definition of one segment (the cohort's filter)."""
        for c in self.cohorts:
            if c.key == key:
                return c.filter
        return key

    def codes(self, table: pa.Table) -> np.ndarray:
        """Segment index of each row of a conformed table (``-1``: in no segment)."""
        if self.kind == "feature":
            idx = pc.index_in(
                table.column(self.column), value_set=pa.array(self.values, pa.string())
            )
            return np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        codes = np.full(table.num_rows, -1, dtype=np.int64)
        for i, cohort in enumerate(self.cohorts):  # cohorts are tree leaves: disjoint
            codes[cohort_mask(table, cohort) & (codes < 0)] = i
        return codes

    def frame_codes(self, frame: pd.DataFrame, mv: ModelVersion) -> np.ndarray:
        """:meth:`codes` for raw rows (e.g. the window's labelled rows)."""
        specs = [f for f in mv.profiled_columns() if f.name in self.columns]
        return self.codes(conform(frame, specs, what="labelled rows"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "column": self.column, "values": list(self.values),
            "source": self.source,
            "cohorts": [
                {"key": c.key, "filter": c.filter, "error_rate": c.error_rate, "size": c.size,
                 "conditions": [[d.column, d.op, list(d.value) if isinstance(d.value, tuple) else d.value]
                                for d in c.conditions]}
                for c in self.cohorts
            ],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SegmentFamily:
        cohorts = tuple(_cohort_from_dict(c) for c in d.get("cohorts", []))
        return cls(
            d["name"],
            d["kind"],
            d.get("column"),
            tuple(d.get("values", ())),
            cohorts,
            d.get("source"),
        )


def _cohort_from_dict(c: dict[str, Any]) -> Cohort:
    conditions = tuple(
        Condition(col, op, tuple(v) if isinstance(v, list) else v) for col, op, v in c["conditions"]
    )
    return Cohort(c["key"], c["filter"], conditions, c.get("error_rate"), c.get("size"))


def resolve_families(
    specs: Sequence[SegmentSpec], mv: ModelVersion, profile: DatasetProfile
) -> list[SegmentFamily]:
    """Fix each declared family on the reference ``profile`` (at baseline creation)."""
    kinds = {f.name: profile_kind(f) for f in mv.profiled_columns()}
    out = []
    for spec in specs:
        if spec.feature is not None:
            out.append(_feature_family(spec, kinds, profile))
            continue
        assert spec.cohorts_from is not None
        cohorts = read_cohorts(spec.cohorts_from, top=spec.top)
        missing = sorted({c for cohort in cohorts for c in cohort.columns if c not in kinds})
        if missing:
            raise SchemaError(
                f"cohorts_from {spec.cohorts_from!r}: the cohort filters read {missing}, which the "
                f"model version {mv.name}:{mv.version} does not declare (declared: {sorted(kinds)}); "
                "build the bundle on the same features"
            )
        out.append(
            SegmentFamily(spec.family, "cohorts", cohorts=tuple(cohorts), source=spec.cohorts_from)
        )
    return out


def _feature_family(
    spec: SegmentSpec, kinds: dict[str, str], profile: DatasetProfile
) -> SegmentFamily:
    col = spec.feature
    assert col is not None
    if col not in kinds:
        raise SchemaError(
            f"segments: feature {col!r} is not a declared column; choose from {sorted(kinds)}"
        )
    prof = profile.columns[col]
    if kinds[col] != "categorical" or not isinstance(prof, CategoricalProfile):
        raise SchemaError(
            f"segments: feature {col!r} is numeric; segment by a categorical or boolean feature, "
            "or by the cohorts of an RAI bundle (cohorts_from:), whose filters cut numeric features"
        )
    if spec.values is not None:
        values = tuple(str(v) for v in spec.values)
    else:
        ranked = sorted(prof.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        values = tuple(v for v, _ in ranked[: spec.max_values])
    if not values:
        raise SchemaError(f"segments: feature {col!r} has no values in the reference data")
    return SegmentFamily(col, "feature", column=col, values=values)
