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
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.errors import SchemaError, format_validation_error

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


def parse_segments(data: Any, *, source: str = "<python>") -> tuple[tuple[SegmentSpec, ...], float]:
    """``(segments, segment_budget)`` of a mapping holding a ``segments:`` list (a monitor file)."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise SchemaError(
            f"{source}: expected a 'segments:' list, e.g. segments: [{{feature: region}}, "
            "{cohorts_from: bundles/credit-1}] (a monitor file works)"
        )
    try:
        specs = tuple(SegmentSpec.model_validate(s) for s in data["segments"])
        budget = float(data.get("segment_budget", DEFAULT_SEGMENT_BUDGET))
        if not 0 < budget < 1:
            raise ValueError(f"segment_budget must be between 0 and 1 (exclusive), got {budget}")
        return check_unique_families(specs), budget
    except ValidationError as err:
        raise SchemaError(format_validation_error("segments", source, err)) from None
    except ValueError as err:
        raise SchemaError(f"invalid segments in {source}: {err}") from None


def load_segments(path: str | Path) -> tuple[tuple[SegmentSpec, ...], float]:
    """The ``segments:`` (and ``segment_budget:``) of a YAML file such as a monitor's."""
    from monitor.spec.model_version import load_yaml

    p = Path(path)
    if not p.is_file():
        raise SchemaError(f"segments file {str(p)!r} does not exist; check the path")
    try:
        data = load_yaml(p.read_text())
    except yaml.YAMLError as err:
        raise SchemaError(f"segments file {str(p)!r} is not valid YAML: {err}") from err
    return parse_segments(data, source=str(p))
