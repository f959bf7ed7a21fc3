"""What a baseline holds per segment: its profile and what it learnt about the model.

Segment profiles are built in the baseline's second pass (the one on fixed
histogram edges) by a :class:`~monitor.segments.profiles.SegmentProfiler`; the
model parts (reference performance with intervals, CBPE calibration, the
multivariate reconstruction) are fitted on the baseline's row sample restricted
to the segment, so a segment is judged against its own reference and not the
aggregate's (a region that was always harder is not "degraded").
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from monitor.profiles.dataset import DatasetProfile
from monitor.profiles.reservoir import Reservoir
from monitor.segments.plan import SegmentFamily
from monitor.segments.profiles import SegmentProfiler

if TYPE_CHECKING:
    from monitor.baseline.reference import Baseline
    from monitor.spec.model_version import ModelVersion

SEGMENTS_SCHEMA_VERSION = 1


def segment_sample(reservoir: Reservoir, family: SegmentFamily, index: int) -> Reservoir:
    """The rows of a bottom-k sample that fall in one segment: a uniform sample of it."""
    out = Reservoir(reservoir.k, reservoir.seed, reservoir.key_columns)
    if reservoir.table is not None and reservoir.table.num_rows:
        keep = np.flatnonzero(family.codes(reservoir.table) == index)
        out.table = reservoir.table.take(pa.array(keep)) if len(keep) else None
    return out


@dataclass
class SegmentBaselines:
    """Per-segment reference profiles and model parts of one baseline."""

    families: list[SegmentFamily]
    profiles: dict[str, DatasetProfile]
    performance: dict[str, dict[str, Any]] = field(default_factory=dict)

    def family(self, name: str) -> SegmentFamily | None:
        return next((f for f in self.families if f.name == name), None)

    def baseline_for(self, whole: Baseline, family: SegmentFamily, index: int) -> Baseline:
        """A :class:`Baseline` of one segment: its profile, sample and model parts."""
        key = family.keys[index]
        profile = self.profiles[key]
        seg_profile = DatasetProfile(
            profile.columns,
            profile.row_count,
            segment_sample(whole.profile.reservoir, family, index),
        )
        return replace(whole, profile=seg_profile, performance=self.performance.get(key))

    def to_document(self) -> dict[str, Any]:
        return {
            "schema_version": SEGMENTS_SCHEMA_VERSION,
            "families": [f.to_dict() for f in self.families],
            "profiles": {k: p.to_document() for k, p in self.profiles.items()},
            "performance": self.performance,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> SegmentBaselines:
        if doc.get("schema_version") != SEGMENTS_SCHEMA_VERSION:
            raise ValueError(
                f"segment baselines of schema version {doc.get('schema_version')} are not supported; "
                "rebuild the baseline with `raiwatch baseline create --segments`"
            )
        return cls(
            [SegmentFamily.from_dict(f) for f in doc["families"]],
            {k: DatasetProfile.from_document(p) for k, p in doc["profiles"].items()},
            dict(doc.get("performance") or {}),
        )


def fit_segment_baselines(
    profiler: SegmentProfiler, sample: Reservoir, mv: ModelVersion, *, seed: int = 0
) -> SegmentBaselines:
    """Segment baselines from the profiler of the reference pass and the baseline's sample."""
    from monitor.baseline.model_parts import fit_model_baselines  # imports the signals

    performance: dict[str, dict[str, Any]] = {}
    for family in profiler.families:
        for i, key in enumerate(family.keys):
            rows = segment_sample(sample, family, i).to_pandas()
            # a metric can be undefined in some bootstrap draws of a small segment
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                performance[key] = fit_model_baselines(mv, rows, seed=seed)
    return SegmentBaselines(profiler.families, profiler.profiles(), performance)
