"""What a run checks and how strictly: the ``signals:`` block of a monitor.

One block per entry of :data:`monitor.signals.SIGNALS` (the fields are built
from the registry, so a new signal needs no change here), plus the monitor's
false-alarm budget. Every field has a documented default, so an empty block
runs every signal that applies to the model version::

    signals:
      alpha: 0.01                       # P(any signal alerts | no change), per window
      correction: holm                  # across features: holm | benjamini-hochberg
      data_drift:
        features: [income, age]         # default: every monitored feature
        methods: {age: psi}             # effect metric for one column
        min_effect: {wasserstein: 0.1}  # smallest change that pages (metric or column)
      data_quality: {min_effect: 0.05}

>>> cfg = SignalConfig.model_validate({"alpha": 0.05, "data_drift": {"min_effect": {"age": 0.2}}})
>>> cfg.alpha, cfg.data_drift.min_effect["age"], cfg.data_quality.enabled
(0.05, 0.2, True)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, create_model, model_validator

from monitor.signals import SIGNALS, SignalSettings

_REMOVED = {
    "thresholds": "thresholds were replaced by the false-alarm budget: set `alpha` for the monitor "
    "and `min_effect` per metric or column",
    "bh_correction": "set `correction: benjamini-hochberg` at the top of the signals block",
    "max_increase": "set `min_effect` (the smallest rate increase that pages)",
}

_Blocks: Any = create_model(  # one field per registered signal
    "_SignalBlocks",
    __config__=ConfigDict(extra="forbid", frozen=True),
    **{name: (entry.settings, Field(default_factory=entry.settings)) for name, entry in SIGNALS.items()},  # type: ignore[call-overload]
)


class SignalConfig(_Blocks):  # type: ignore[misc]
    """Which signals a run evaluates, how strictly, and the monitor's false-alarm budget.

    ``alpha`` is the probability that a window with no change puts *any* signal of
    the monitor in ``alert``; it is split over the signals that apply (their
    ``budget_weight`` in the registry) and corrected across features.
    """

    alpha: float = Field(default=0.01, gt=0, lt=0.5)
    correction: Literal["holm", "benjamini-hochberg"] = "holm"

    @model_validator(mode="before")
    @classmethod
    def _explain_removed(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, block in data.items():
                if isinstance(block, dict):
                    for key, why in _REMOVED.items():
                        if key in block:
                            raise ValueError(f"signals.{name}.{key} is no longer supported: {why}")
        return data

    def signal_settings(self) -> dict[str, SignalSettings]:
        """Each registered signal's settings block, by name."""
        return {name: getattr(self, name) for name in SIGNALS}
