"""Dataset drift: the share of features in ``alert`` for data drift.

It reads data drift's judgements (which already spend the budget), so it has
no budget of its own: a window with no change can only put it in ``alert`` when
data drift is already in ``alert``.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from monitor.signals.base import SignalContext, SignalSettings, no_data
from monitor.signals.results import SignalResult


class DatasetDriftSettings(SignalSettings):
    drift_share: float = Field(default=0.5, gt=0, le=1)
    importance: dict[str, float] | None = None


Settings = DatasetDriftSettings


def evaluate(context: SignalContext, settings: DatasetDriftSettings) -> list[SignalResult]:
    features = context.earlier.get("data_drift")
    if features is None:
        return [no_data("dataset_drift", "drift_share", "data drift is switched off; dataset drift reads its results")]
    judged = [r for r in features if r.status in ("ok", "warning", "alert")]
    drifted = [r.feature for r in judged if r.status == "alert"]
    if not judged:
        return [no_data("dataset_drift", "drift_share", "no feature could be judged in this window")]
    weights: Mapping[str, float] = settings.importance or {}
    if weights:
        total = sum(weights.get(r.feature or "", 0.0) for r in judged)
        share = sum(weights.get(f or "", 0.0) for f in drifted) / total if total else 0.0
    else:
        share = len(drifted) / len(judged)
    return [
        SignalResult(
            signal="dataset_drift", metric="drift_share", value=share, threshold=settings.drift_share,
            status="alert" if share >= settings.drift_share else "ok", effect_size=share,
            min_effect=settings.drift_share, current_size=len(judged), correction=judged[0].correction,
            details={"drifted_features": drifted, "weighted": bool(weights)},
        )
    ]  # fmt: skip
