"""What a run checks and how strictly: the ``signals:`` block of a monitor.

Every field has the DESIGN default, so an empty block runs data drift,
dataset drift, prediction drift and data quality with default methods::

    signals:
      data_drift:
        features: [income, age]          # default: every monitored feature
        methods: {age: ks}               # per-feature metric override
        thresholds:
          wasserstein: {type: std, k: 3} # calibrated from the baseline chunks
          age: {value: 0.01}             # per-feature constant
        bh_correction: true
      data_quality: {max_increase: 0.05}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.metrics import METRICS
from monitor.signals.thresholds import ThresholdSpec


class DriftConfig(BaseModel):
    """Data drift (features) or prediction drift (model outputs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    features: tuple[str, ...] | None = None
    methods: dict[str, str] = Field(default_factory=dict)
    thresholds: dict[str, ThresholdSpec] = Field(default_factory=dict)
    exact: bool = False
    bh_correction: bool = False
    min_rows: int = Field(default=30, ge=1)

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: dict[str, str]) -> dict[str, str]:
        for col, metric in value.items():
            if metric not in METRICS:
                raise ValueError(
                    f"method {metric!r} for {col!r} is unknown; available: {', '.join(METRICS)}"
                )
        return value


class DatasetDriftConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    drift_share: float = Field(default=0.5, gt=0, le=1)
    importance: dict[str, float] | None = None


class QualityConfig(BaseModel):
    """Data quality: window rates compared with the baseline's rates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    features: tuple[str, ...] | None = None
    max_increase: float = Field(default=0.05, gt=0, le=1)
    min_rows: int = Field(default=30, ge=1)


class PerformanceConfig(BaseModel):
    """Realised performance once labels have arrived (joined by request id)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    max_drop: float | None = Field(default=None, gt=0, lt=1)  # constant relative drop
    calibration: Literal["interval", "std"] = "std"  # 3 bootstrap σ, scaled to the window size
    min_labels: int = Field(default=30, ge=1)


class EstimatedPerformanceConfig(BaseModel):
    """CBPE: performance estimated from calibrated scores before labels arrive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    max_drop: float | None = Field(default=None, gt=0, lt=1)


class ConceptDriftConfig(BaseModel):
    """Change detectors (river) on the time-ordered error stream; state carried across runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    detectors: tuple[Literal["adwin", "ddm", "eddm", "page_hinkley", "kswin"], ...] | None = None


class MultivariateConfig(BaseModel):
    """Joint-distribution drift on the baseline and window reservoir samples."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    methods: tuple[Literal["pca", "domain_classifier"], ...] = ("pca",)
    min_rows: int = Field(default=50, ge=10)


class AttributionConfig(BaseModel):
    """NDCG of the real model's permutation-importance ranking, window vs baseline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    threshold: float = Field(default=0.9, gt=0, le=1)
    k: int | None = Field(default=None, ge=1)
    min_labels: int = Field(default=100, ge=10)


class SignalConfig(BaseModel):
    """Which signals a run evaluates, with their methods and thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_drift: DriftConfig = Field(default_factory=DriftConfig)
    dataset_drift: DatasetDriftConfig = Field(default_factory=DatasetDriftConfig)
    prediction_drift: DriftConfig = Field(default_factory=DriftConfig)
    data_quality: QualityConfig = Field(default_factory=QualityConfig)
    performance: PerformanceConfig = Field(default_factory=PerformanceConfig)
    estimated_performance: EstimatedPerformanceConfig = Field(default_factory=EstimatedPerformanceConfig)
    concept_drift: ConceptDriftConfig = Field(default_factory=ConceptDriftConfig)
    multivariate_drift: MultivariateConfig = Field(default_factory=MultivariateConfig)
    attribution_drift: AttributionConfig = Field(default_factory=AttributionConfig)
