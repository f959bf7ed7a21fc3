"""What every signal shares: the context it reads, its registry entry, its budget.

A signal is one module in :mod:`monitor.signals` with a pydantic settings model
and ``evaluate(context, settings) -> list[SignalResult]``; its
:class:`SignalEntry` in :data:`monitor.signals.SIGNALS` says what it needs and
how much of the monitor's false-alarm budget it gets. The config schema, the
empty-window results and the dashboard's panels all derive from the registry.

The budget: a monitor's ``alpha`` is the probability that a window with no
change puts *any* signal in ``alert``. It is split (Bonferroni) over the
signals that can page for this model version, in proportion to their
``budget_weight``; each signal keeps its own alert rate on no-change windows
at or below its share, correcting across its features itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from monitor.signals.results import SignalResult

if TYPE_CHECKING:
    from monitor.baseline.reference import Baseline
    from monitor.profiles.dataset import DatasetProfile
    from monitor.spec.window import Window

Needs = Literal["window", "labels", "scores", "model"]
# Where the dashboard shows a signal: per-feature drift tables, a timeline of the
# signal's values, the data-quality table, the performance panels or the
# change-detection view.
Panel = Literal["drift", "timeline", "quality", "performance", "changes"]


class SignalSettings(BaseModel):
    """Settings every signal has; each signal's own model adds its fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True


@dataclass
class SignalContext:
    """What a signal reads for one window (never mutated by a signal, but ``carry``).

    Parameters
    ----------
    baseline
        The baseline: reference profile and the state fitted once at its creation.
    window
        The window's profile.
    labelled
        The window's rows with a label joined (``None``: no label source for this run).
    alphas
        Each signal's share of the monitor's false-alarm budget.
    correction
        ``holm`` (family-wise, the default) or ``benjamini-hochberg`` across features.
    carry
        State carried between windows: ``carry[signal]`` is read as the state after
        the previous window and replaced by the state after this one.
    earlier
        Results of the signals evaluated before this one in the same run (dataset
        drift reads data drift's).
    challenger
        The challenger version's side of the window
        (:class:`monitor.signals.challenger.ChallengerWindow`), when the monitor
        declares one.
    """

    baseline: Baseline
    window: DatasetProfile
    labelled: pd.DataFrame | None = None
    model: Any = None
    span: Window | None = None
    alphas: Mapping[str, float] = field(default_factory=dict)
    correction: Literal["holm", "benjamini-hochberg"] = "holm"
    carry: dict[str, Any] = field(default_factory=dict)
    earlier: dict[str, list[SignalResult]] = field(default_factory=dict)
    challenger: Any = None

    @property
    def model_version(self) -> Any:
        return self.baseline.model_version

    def alpha(self, signal: str) -> float:
        """The share of the monitor's budget for ``signal`` (0 when it cannot page)."""
        return float(self.alphas.get(signal, 0.0))


def signals_on_panel(entries: Mapping[str, SignalEntry], panel: Panel) -> tuple[str, ...]:
    """Names of the registered signals a dashboard panel shows, in registry order."""
    return tuple(name for name, e in entries.items() if e.panel == panel)


Evaluate = Callable[[SignalContext, Any], list[SignalResult]]


@dataclass(frozen=True)
class SignalEntry:
    """One registered signal.

    Parameters
    ----------
    name
        The key in ``signals:`` and in stored results.
    title
        The dashboard panel's title.
    settings
        The pydantic model of its ``signals.<name>`` block.
    evaluate
        ``evaluate(context, settings) -> list[SignalResult]``.
    applies
        Whether the signal can run for a model version at all (e.g. prediction
        drift needs a prediction column); a signal that does not apply gets no
        share of the budget and no result.
    budget_weight
        Relative share of the monitor's false-alarm budget; 0 for a signal whose
        alerts are implied by another's (dataset drift by data drift).
    needs
        What it reads beyond the window profile (labels, the model).
    panel
        Which dashboard panel shows it.
    per_segment
        Whether it can run on each segment of a monitor's ``segments:`` (a signal that
        carries state across windows, or re-runs the model, runs on the whole window only).
    judges_empty_windows
        Whether it is evaluated on a window without rows (the traffic signal is);
        every other signal reports ``no_data`` there.
    """

    name: str
    title: str
    settings: type[SignalSettings]
    evaluate: Evaluate
    applies: Callable[[Any], bool] = lambda mv: True
    budget_weight: float = 1.0
    needs: Needs = "window"
    panel: Panel = "timeline"
    description: str = ""
    per_segment: bool = True
    judges_empty_windows: bool = False


def split_budget(
    alpha: float, entries: Mapping[str, SignalEntry], settings: Mapping[str, SignalSettings], model_version: Any
) -> dict[str, float]:
    """Bonferroni split of ``alpha`` over the enabled signals that apply and can page.

    >>> from monitor.signals import SIGNALS
    >>> from monitor.spec.signal_config import SignalConfig
    >>> from monitor.spec.model_version import parse_model_version
    >>> mv = parse_model_version({"name": "m", "version": "1", "task": "binary",
    ...     "features": [{"name": "x", "type": "numeric"}]})
    >>> shares = split_budget(0.01, SIGNALS, SignalConfig().signal_settings(), mv)
    >>> round(sum(shares.values()), 12) <= 0.01
    True
    """
    active = {
        name: e.budget_weight
        for name, e in entries.items()
        if settings[name].enabled and e.applies(model_version) and e.budget_weight > 0
    }
    total = sum(active.values())
    return {name: (alpha * w / total if total else 0.0) for name, w in active.items()}


def no_data(signal: str, metric: str, why: str, *, n: int | None = None, feature: str | None = None) -> SignalResult:
    """A result that says the check could not be judged, and why."""
    return SignalResult(signal=signal, feature=feature, metric=metric, value=None, status="no_data", current_size=n, message=why)


def error(signal: str, metric: str, why: str, *, n: int | None = None, feature: str | None = None) -> SignalResult:
    """A check that failed: stored as ``error`` with its message, never as ``ok``."""
    return SignalResult(signal=signal, feature=feature, metric=metric, value=None, status="error", current_size=n, message=why)
