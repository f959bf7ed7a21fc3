"""What users declare: the ``segments:`` block of a monitor.

Each entry defines one *family* of segments: the values of a categorical or
boolean feature, or the error-analysis cohorts of an RAI insights bundle (by
their stored filters)::

    segments:
      - feature: region                 # one segment per value (the baseline's most frequent)
        max_values: 20
      - feature: sex
        min_rows: 300                   # smaller segments report no_data with the size needed
      - cohorts_from: bundles/credit-1  # the bundle's error-analysis cohorts
        top: 5                          # its 5 worst cohorts (default: every cohort)
    segment_budget: 0.5                 # share of signals.alpha spent on segments

>>> s = SegmentSpec.model_validate({"feature": "region"})
>>> s.family, s.min_rows
('region', 200)
>>> SegmentSpec.model_validate({"cohorts_from": "bundles/credit-1", "top": 3}).family
'cohorts:credit-1'
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_MIN_ROWS = 200
DEFAULT_SEGMENT_BUDGET = 0.5


class SegmentSpec(BaseModel):
    """One family of segments: ``feature:`` values or ``cohorts_from:`` a bundle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feature: str | None = None
    cohorts_from: str | None = None
    values: tuple[str, ...] | None = None  # feature: these values (default: the most frequent)
    max_values: int = Field(default=20, ge=1, le=200)
    top: int | None = Field(default=None, ge=1)  # cohorts: the N worst (default: all)
    min_rows: int = Field(default=DEFAULT_MIN_ROWS, ge=10)
    signals: tuple[str, ...] | None = None  # default: every enabled signal that runs per segment

    @model_validator(mode="after")
    def _one_source(self) -> SegmentSpec:
        if (self.feature is None) == (self.cohorts_from is None):
            raise ValueError(
                "a segment gives exactly one of 'feature: <categorical column>' or "
                "'cohorts_from: <RAI bundle directory>'"
            )
        if self.feature is None and self.values is not None:
            raise ValueError("'values' applies to 'feature' segments; remove it or use 'feature:'")
        if self.cohorts_from is None and self.top is not None:
            raise ValueError(
                "'top' applies to 'cohorts_from' segments; remove it or use 'cohorts_from:'"
            )
        if self.signals is not None:
            from monitor.signals import SIGNALS

            unknown = [s for s in self.signals if s not in SIGNALS]
            if unknown:
                raise ValueError(f"unknown signals {unknown}; choose from {list(SIGNALS)}")
        return self

    @property
    def family(self) -> str:
        """The family's name: the feature, or ``cohorts:<bundle directory name>``."""
        if self.feature is not None:
            return self.feature
        assert self.cohorts_from is not None
        return f"cohorts:{Path(self.cohorts_from).name}"


def check_unique_families(specs: tuple[SegmentSpec, ...]) -> tuple[SegmentSpec, ...]:
    """Each family once (two entries for one feature would split the budget twice)."""
    names = [s.family for s in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"each segment family once; {repeated} appear more than once")
    return specs
