"""Run the monitor's signals on every segment, inside the monitor's false-alarm budget.

The budget ``alpha`` (``signals.alpha``) is the probability that a window with no
change puts *any* signal of the monitor in ``alert``. With segments it is split
once more (Bonferroni, so it holds whatever the dependence between segments):

* the whole window gets ``alpha * (1 - segment_budget)``;
* each of the ``m`` segments judged in this window gets
  ``alpha * segment_budget / m``, which its signals split as usual (by
  ``budget_weight``, Holm across features).

By the union bound the monitor's page rate on no-change windows stays at or below
``alpha``, however many segments are declared (tested by simulation in
``tests/monitor/test_segments_budget.py``). A segment with fewer than ``min_rows``
rows in the window (or in the baseline) is not judged: it reports ``no_data`` with
the size needed, and takes no share of the budget.

>>> split_segment_budget(0.01, 0.5, 4)
(0.005, 0.00125)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from monitor.profiles.dataset import DatasetProfile
from monitor.segments.plan import SegmentFamily
from monitor.segments.profiles import SegmentProfiler
from monitor.segments.spec import DEFAULT_SEGMENT_BUDGET, SegmentSpec
from monitor.signals import SIGNALS
from monitor.signals.base import error, no_data
from monitor.signals.results import SignalResult
from monitor.spec.signal_config import SignalConfig

if TYPE_CHECKING:
    from monitor.baseline.reference import Baseline
    from monitor.spec.window import Window


def split_segment_budget(alpha: float, segment_budget: float, judged: int) -> tuple[float, float]:
    """``(whole window's alpha, each judged segment's alpha)``."""
    whole = alpha * (1 - segment_budget)
    return whole, (alpha * segment_budget / judged if judged else 0.0)


def segment_signals(spec: SegmentSpec, config: SignalConfig) -> list[str]:
    """The signals run on a family's segments: those named, else every enabled per-segment one."""
    settings = config.signal_settings()
    wanted = (
        spec.signals
        if spec.signals is not None
        else [n for n, e in SIGNALS.items() if e.per_segment]
    )
    return [n for n in wanted if settings[n].enabled and SIGNALS[n].per_segment]


@dataclass
class SegmentRun:
    """The segments of one window evaluation: what was declared and what was profiled."""

    specs: tuple[SegmentSpec, ...]
    budget: float = DEFAULT_SEGMENT_BUDGET
    profiler: SegmentProfiler | None = None
    missing: list[SegmentSpec] = field(default_factory=list)  # families the baseline lacks

    @classmethod
    def plan(
        cls, baseline: Baseline, specs: Sequence[SegmentSpec], budget: float
    ) -> SegmentRun | None:
        """Match the declared families with the baseline's; ``None`` without segments."""
        if not specs:
            return None
        stored = baseline.segments
        found = (
            [(s, stored.family(s.family)) for s in specs]
            if stored is not None
            else [(s, None) for s in specs]
        )
        families = [f for _, f in found if f is not None]
        profiler = SegmentProfiler(families, baseline.window_plan()) if families else None
        return cls(tuple(specs), budget, profiler, [s for s, f in found if f is None])

    def whole_config(self, config: SignalConfig) -> SignalConfig:
        """The whole window's signals on their share of the budget."""
        return config.model_copy(update={"alpha": config.alpha * (1 - self.budget)})


def _only(config: SignalConfig, names: list[str], alpha: float) -> SignalConfig:
    updates: dict[str, Any] = {"alpha": alpha}
    for name, settings in config.signal_settings().items():
        if name not in names and settings.enabled:
            updates[name] = settings.model_copy(update={"enabled": False})
    return config.model_copy(update=updates)


def _labelled_in(
    labelled: pd.DataFrame | None, family: SegmentFamily, index: int, mv: Any
) -> pd.DataFrame | None:
    if labelled is None or labelled.empty:
        return labelled
    return labelled.loc[family.frame_codes(labelled, mv) == index].reset_index(drop=True)


def evaluate_segments(
    baseline: Baseline,
    run: SegmentRun,
    config: SignalConfig,
    *,
    labelled: pd.DataFrame | None = None,
    model: Any = None,
    span: Window | None = None,
) -> list[SignalResult]:
    """Every segment's results (``segment`` set), sharing ``run.budget`` of ``config.alpha``."""
    from monitor.signals.evaluate import evaluate_profile  # the evaluator imports this module

    mv = baseline.model_version
    out: list[SignalResult] = []
    for spec in run.missing:
        why = (
            f"the baseline has no profiles for the segments {spec.family!r}; rebuild it with "
            "`raiwatch baseline create ... --segments <monitor.yaml>`"
        )
        out += [
            error(n, "segments", why).replace(segment=f"{spec.family}=*")
            for n in segment_signals(spec, config)
        ]
    if run.profiler is None or baseline.segments is None:
        return out
    window_profiles = run.profiler.profiles()
    specs = {s.family: s for s in run.specs}
    cells: list[tuple[SegmentSpec, SegmentFamily, int, DatasetProfile, Baseline]] = []
    for family in run.profiler.families:
        spec = specs[family.name]
        for i, key in enumerate(family.keys):
            cells.append(
                (
                    spec,
                    family,
                    i,
                    window_profiles[key],
                    baseline.segments.baseline_for(baseline, family, i),
                )
            )
    judged = sum(
        1 for spec, _, _, w, b in cells
        if w.row_count >= spec.min_rows and b.profile.row_count >= spec.min_rows and segment_signals(spec, config)
    )  # fmt: skip
    _, alpha = split_segment_budget(config.alpha, run.budget, judged)
    for spec, family, i, window, seg_base in cells:
        key, names = family.keys[i], segment_signals(spec, config)
        names = [n for n in names if SIGNALS[n].applies(mv)]
        short = _too_small(key, window.row_count, seg_base.profile.row_count, spec.min_rows)
        if short is not None:
            out += [
                no_data(n, "rows", short, n=window.row_count).replace(
                    segment=key,
                    details={
                        "rows_needed": spec.min_rows,
                        "reference_rows": seg_base.profile.row_count,
                    },
                )
                for n in names
            ]
            continue
        results = evaluate_profile(
            seg_base, window, _only(config, names, alpha),
            labelled=_labelled_in(labelled, family, i, mv), model=model, carry={}, span=span,
        )  # fmt: skip
        note = f"bonferroni over {judged} segments"
        out += [
            r.replace(
                segment=key,
                correction=f"{r.correction} + {note}" if r.correction else note,
                details={**r.details, "segment_filter": family.describe(key)}
                if family.kind == "cohorts"
                else r.details,
            )
            for r in results
        ]
    return out


def _too_small(key: str, rows: int, reference_rows: int, needed: int) -> str | None:
    if rows < needed:
        return (
            f"segment {key} has {rows} rows in this window; at least {needed} are needed to judge it "
            "(segments: min_rows); use a longer window or a lower min_rows"
        )
    if reference_rows < needed:
        return (
            f"segment {key} has {reference_rows} rows in the baseline; at least {needed} are needed "
            "(segments: min_rows); rebuild the baseline on more reference data"
        )
    return None
