"""Champion / challenger: is the challenger version better than the champion on live traffic?

A monitor that declares ``challenger: {version: "2", mode: shadow | split}`` has
the challenger's window evaluated next to the champion's; this signal compares
their accuracy on labelled rows and says ``better``, ``worse`` or ``undecided``.

* **shadow** (both versions answer every request; their logs carry the same
  request ids): a *paired* comparison. Each window reports McNemar's exact and
  mid-p test on its discordant pairs and the prediction agreement rate; the
  verdict uses the discordant pairs accumulated since the challenger was
  deployed, through two one-sided mixture-SPRT e-processes (a Beta(10, 10)
  prior on the share of discordant pairs the challenger wins, restricted to
  the alternative side; :mod:`monitor.metrics.challenger_tests`). By Ville's
  inequality an e-process ever crosses ``2 / alpha`` with probability at most
  ``alpha / 2`` when the challenger is not better (resp. not worse), **however
  many windows are checked**, so looking every window does not inflate false
  verdicts. The accuracy difference comes with the matching anytime-valid
  interval.
* **split** (each version serves its own share of traffic): an *unpaired*
  two-proportion z-test on the accumulated labelled rows, checked at most
  ``max_looks`` times; look ``k`` may spend ``alpha/2 * ((k/K)^2 - ((k-1)/K)^2)``
  per direction (a group-sequential spending, Bonferroni across looks), so the
  false verdict rate over all looks stays within the share. After ``K`` looks
  the verdict is final.

``alpha`` is the signal's share of the monitor's false-alarm budget (split in
two: ``better`` and ``worse``). Status: ``undecided`` is ``ok``; ``better`` is a
``warning`` (worth acting on — promote — not a page); ``worse`` is an ``alert``.
A verdict is kept until the other one is reached or the challenger is promoted
or replaced. The verdict and its evidence are in ``details``; the store sends
``model.challenger.better`` / ``model.challenger.worse`` when the verdict changes.

>>> Settings().enabled, Settings().max_looks
(False, 30)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import Field

from monitor.baseline.model_outputs import label_text
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.metrics.challenger_tests import (
    agreement,
    mcnemar,
    paired_evalues,
    paired_interval,
    spent_alpha,
    two_proportions,
)
from monitor.signals.base import SignalSettings, error, no_data
from monitor.signals.results import SignalResult, Status

if TYPE_CHECKING:
    from monitor.signals.base import SignalContext

NAME = "challenger"
METRIC = "accuracy_difference"
STATE_VERSION = 1
Verdict = Literal["better", "worse", "undecided"]
_STATUS: dict[str, Status] = {"better": "warning", "worse": "alert", "undecided": "ok"}


class Settings(SignalSettings):
    """The ``signals.challenger`` block (switched on by the monitor's ``challenger:``)."""

    enabled: bool = False
    min_effect: float = Field(default=0.0, ge=0.0, lt=1.0)  # smallest accuracy gain called "better"
    max_looks: int = Field(default=30, ge=1, le=1000)  # split mode: looks the budget is spent over
    min_labelled: int = Field(default=30, ge=1)  # split mode: rows per version before a look


@dataclass
class ChallengerWindow:
    """The challenger's side of one window, given to the signal by the evaluator.

    Parameters
    ----------
    version, mode
        The declared challenger.
    labelled
        The challenger's labelled rows of the window (id, prediction, label).
    predictions
        Shadow mode: ``request id -> prediction`` of every challenger row of the
        window and the champion's (for the agreement rate over all requests).
    state
        The comparison's state after the previous window (``None``: first window).
    """

    version: str
    mode: Literal["shadow", "split"]
    labelled: pd.DataFrame | None
    row_count: int = 0
    state: dict[str, Any] | None = None
    predictions: dict[str, pd.Series] = field(default_factory=dict)
    error: str | None = None  # why the challenger's window could not be read (an ``error`` result)


def fresh_state(version: str, mode: str) -> dict[str, Any]:
    """The comparison's state before any evidence."""
    return {
        "version": STATE_VERSION, "challenger": version, "mode": mode, "pairs": 0, "b": 0, "c": 0,
        "agree": 0, "x_champion": 0, "n_champion": 0, "x_challenger": 0, "n_challenger": 0,
        "looks": 0, "e_better": 1.0, "e_worse": 1.0, "verdict": "undecided",
    }  # fmt: skip


def _read_state(raw: Any, ch: ChallengerWindow) -> dict[str, Any]:
    if raw is None:
        return fresh_state(ch.version, ch.mode)
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
        raise ValueError(
            f"the stored challenger state has an unknown format (version {raw.get('version') if isinstance(raw, dict) else None!r}); "
            "it is rebuilt when the challenger is declared again"
        )
    if raw.get("challenger") != ch.version or raw.get("mode") != ch.mode:
        return fresh_state(ch.version, ch.mode)  # a new challenger starts from no evidence
    return dict(raw)


def _correct(frame: pd.DataFrame, prediction: str) -> pd.Series:
    truth = frame[LABEL_COLUMN].map(label_text)
    return (frame[prediction].map(label_text) == truth) & truth.notna()


def _check_columns(frame: pd.DataFrame, columns: list[str], whose: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the {whose}'s labelled rows have no column(s) {missing} (have {list(frame.columns)}); "
            "log the id and prediction columns of the model version for both versions"
        )


def evaluate(context: SignalContext, settings: Settings) -> list[SignalResult]:
    """The challenger's verdict after this window (see the module docstring)."""
    ch = context.challenger
    if ch is None:
        return [
            no_data(
                NAME,
                METRIC,
                "no challenger rows: declare 'challenger:' on the monitor and log its predictions",
            )
        ]
    if ch.error is not None:
        return [
            error(
                NAME,
                METRIC,
                f"the challenger version {ch.version} could not be evaluated: {ch.error}",
            )
        ]
    mv = context.model_version
    state = _read_state(context.carry.get(NAME, ch.state), ch)
    champion = context.labelled
    if champion is None or ch.labelled is None:
        context.carry[NAME] = state
        return [no_data(NAME, METRIC, "no label source was given for this run", n=0)]
    cols = [mv.id_column, mv.prediction, LABEL_COLUMN]
    _check_columns(champion, cols, "champion")
    _check_columns(ch.labelled, cols, f"challenger (version {ch.version})")
    window = (
        _paired(champion, ch, mv) if ch.mode == "shadow" else _unpaired(champion, ch.labelled, mv)
    )
    for key in (
        "pairs",
        "b",
        "c",
        "agree",
        "x_champion",
        "n_champion",
        "x_challenger",
        "n_challenger",
    ):
        state[key] += window.get(key, 0)
    previous: str = state["verdict"]
    alpha = context.alpha(NAME) / 2.0
    judged = (
        judge_shadow(state, alpha, settings)
        if ch.mode == "shadow"
        else judge_split(state, window, alpha, settings)
    )
    context.carry[NAME] = state
    if judged is None:
        return [
            no_data(
                NAME,
                METRIC,
                "no labelled rows of both versions yet: the comparison needs labels",
                n=0,
            )
        ]
    verdict: str = state["verdict"]
    details = {
        "verdict": verdict, "previous_verdict": previous, "mode": ch.mode, "challenger_version": ch.version,
        "champion_version": mv.version, "window": window, "cumulative": {k: state[k] for k in (
            "pairs", "b", "c", "x_champion", "n_champion", "x_challenger", "n_challenger", "looks")},
        **judged["details"],
    }  # fmt: skip
    return [
        SignalResult(
            signal=NAME, metric=METRIC, value=judged["difference"], threshold=settings.min_effect,
            status=_STATUS[verdict], p_value=judged["p_value"], statistic=judged["statistic"], alpha=alpha,
            effect_size=judged["difference"], min_effect=settings.min_effect, correction=judged["correction"],
            reference_size=judged["n_champion"], current_size=judged["n_challenger"],
            message=judged["message"], details=details,
        )
    ]  # fmt: skip


def _paired(champion: pd.DataFrame, ch: ChallengerWindow, mv: Any) -> dict[str, Any]:
    """One window's paired evidence: discordant pairs, McNemar, agreement, both accuracies."""
    idc = mv.id_column
    left = pd.DataFrame({"id": champion[idc].astype(str), "ok_champion": _correct(champion, mv.prediction).to_numpy(),
                         "pred_champion": champion[mv.prediction].map(label_text).to_numpy()})  # fmt: skip
    right = pd.DataFrame({"id": ch.labelled[idc].astype(str), "ok_challenger": _correct(ch.labelled, mv.prediction).to_numpy(),  # type: ignore[index]
                          "pred_challenger": ch.labelled[mv.prediction].map(label_text).to_numpy()})  # type: ignore[index]  # fmt: skip
    pairs = left.drop_duplicates("id", keep="last").merge(
        right.drop_duplicates("id", keep="last"), on="id"
    )
    a, c_ = pairs["ok_champion"].to_numpy(bool), pairs["ok_challenger"].to_numpy(bool)
    b, c = int((c_ & ~a).sum()), int((a & ~c_).sum())
    test = mcnemar(b, c)
    out: dict[str, Any] = {
        "pairs": len(pairs), "b": b, "c": c,
        "agree": int((pairs["pred_champion"] == pairs["pred_challenger"]).sum()),
        "champion_accuracy": float(a.mean()) if len(pairs) else None,
        "challenger_accuracy": float(c_.mean()) if len(pairs) else None,
        "mcnemar_p": test.p_value, "mcnemar_mid_p": test.mid_p,
        "agreement_labelled": agreement(pairs["pred_champion"].to_numpy(), pairs["pred_challenger"].to_numpy()) if len(pairs) else None,
    }  # fmt: skip
    both = ch.predictions
    if "champion" in both and "challenger" in both:
        joined = pd.concat(
            [both["champion"].rename("a"), both["challenger"].rename("b")], axis=1, join="inner"
        )
        out["agreement_all"] = (
            agreement(joined["a"].to_numpy(), joined["b"].to_numpy()) if len(joined) else None
        )
        out["paired_requests"] = len(joined)
    return out


def _unpaired(champion: pd.DataFrame, challenger: pd.DataFrame, mv: Any) -> dict[str, Any]:
    ok1, ok2 = _correct(champion, mv.prediction), _correct(challenger, mv.prediction)
    return {
        "x_champion": int(ok1.sum()), "n_champion": len(ok1), "x_challenger": int(ok2.sum()), "n_challenger": len(ok2),
        "champion_accuracy": float(ok1.mean()) if len(ok1) else None,
        "challenger_accuracy": float(ok2.mean()) if len(ok2) else None,
    }  # fmt: skip


def judge_shadow(state: dict[str, Any], alpha: float, settings: Settings) -> dict[str, Any] | None:
    n, b, c = state["pairs"], state["b"], state["c"]
    if n == 0:
        return None
    e = paired_evalues(b, c)
    state["e_better"], state["e_worse"] = (
        max(state["e_better"], e.better),
        max(state["e_worse"], e.worse),
    )
    difference = (b - c) / n
    bound = 1.0 / alpha if alpha > 0 else math.inf
    if e.worse >= bound:
        state["verdict"] = "worse"
    elif e.better >= bound and difference >= settings.min_effect:
        state["verdict"] = "better"
    low, high = paired_interval(b, c, n, 2 * alpha) if alpha > 0 else (-1.0, 1.0)
    return {
        "difference": difference, "p_value": min(1.0, 1.0 / max(e.better, e.worse)),
        "statistic": math.log(max(e.better, e.worse)), "n_champion": n, "n_challenger": n,
        "correction": "e-process (Beta(10,10) mixture SPRT), alpha/2 per direction, anytime-valid",
        "message": f"{state['verdict']}: challenger - champion accuracy {difference:+.4f} "
                   f"[{low:+.4f}, {high:+.4f}] on {n} paired requests ({b} won, {c} lost)",
        "details": {"interval": [low, high], "e_better": e.better, "e_worse": e.worse,
                    "threshold_e": bound, "agreement": state["agree"] / n, "n_pairs": n},
    }  # fmt: skip


def judge_split(
    state: dict[str, Any], window: dict[str, Any], alpha: float, settings: Settings
) -> dict[str, Any] | None:
    n1, n2 = state["n_champion"], state["n_challenger"]
    if n1 == 0 or n2 == 0:
        return None
    new_rows = window.get("n_champion", 0) + window.get("n_challenger", 0) > 0
    ready = min(n1, n2) >= settings.min_labelled
    if (
        new_rows
        and ready
        and state["looks"] < settings.max_looks
        and state["verdict"] == "undecided"
    ):
        state["looks"] += 1
        level = spent_alpha(alpha, state["looks"], settings.max_looks)
    else:
        level = 0.0
    test = two_proportions(
        state["x_champion"], n1, state["x_challenger"], n2, 2 * level if level else alpha * 2
    )
    if level > 0 and test.p_worse <= level:
        state["verdict"] = "worse"
    elif level > 0 and test.p_better <= level and test.difference >= settings.min_effect:
        state["verdict"] = "better"
    return {
        "difference": test.difference, "p_value": min(test.p_better, test.p_worse), "statistic": test.z,
        "n_champion": n1, "n_challenger": n2,
        "correction": f"alpha spending (k/K)^2 over K={settings.max_looks} looks, alpha/2 per direction",
        "message": f"{state['verdict']}: challenger - champion accuracy {test.difference:+.4f} "
                   f"({state['x_challenger']}/{n2} vs {state['x_champion']}/{n1}), look {state['looks']} of {settings.max_looks}",
        "details": {"interval": [test.low, test.high], "look_alpha": level, "looks": state["looks"],
                    "max_looks": settings.max_looks, "p_better": test.p_better, "p_worse": test.p_worse},
    }  # fmt: skip


def verdict_of(result: SignalResult) -> str | None:
    """The verdict stored in a challenger result (``None`` for other results)."""
    if result.signal != NAME:
        return None
    verdict = result.details.get("verdict")
    return str(verdict) if verdict in ("better", "worse", "undecided") else None
