"""The contract suite for the signals that read labels, scores or the model.

Generated from ``SIGNALS`` like ``test_signal_contract``: every registered signal
that needs labels, scores or the model gets, on a seeded labelled world with a real
(logistic) model: re-run identical, inputs unmutated, strict-JSON results, a bad
input that becomes an ``error`` result with a message, and an alert rate on windows
with no change within the signal's share of the budget (simulation).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from monitor.baseline.reference import Baseline, create_baseline
from monitor.signals import SIGNALS
from monitor.signals.base import split_budget
from monitor.signals.challenger import ChallengerWindow
from monitor.signals.evaluate import evaluate_window
from monitor.signals.results import SignalResult
from monitor.spec.model_version import ModelVersion, parse_model_version
from monitor.spec.signal_config import SignalConfig
from tests.monitor.test_signal_contract import BAD_INPUT as DATA_CASES

# Every registered signal the window-only suite (test_signal_contract) does not cover.
MODEL_SIGNALS = [name for name in SIGNALS if name not in DATA_CASES]
T0 = pd.Timestamp("2026-10-01", tz="UTC")
FEATURES = ("x0", "x1", "x2", "x3")


def _mv() -> ModelVersion:
    return parse_model_version({
        "name": "world", "version": "1", "task": "binary", "target": "y", "prediction": "prediction",
        "scores": ["score"], "classes": ["0", "1"], "model_uri": "world.joblib",
        "features": [{"name": f, "type": "numeric"} for f in FEATURES] + [{"name": "group", "type": "categorical"}],
        "sensitive_features": ["group"],  # independent of x and y: no disparity (fairness)
    })  # fmt: skip


@functools.cache
def _model() -> Pipeline:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(4000, 4)), columns=list(FEATURES)).assign(group="a")
    y = rng.uniform(size=4000) < 1 / (1 + np.exp(-(1.5 * x["x0"] + 0.8 * x["x1"])))
    keep = ColumnTransformer([("x", "passthrough", list(FEATURES))])  # the model does not read `group`
    return Pipeline([("keep", keep), ("lr", LogisticRegression())]).fit(x, y.astype(int))


def _rows(rng: np.random.Generator, n: int, prefix: str) -> pd.DataFrame:
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=list(FEATURES))
    frame["group"] = rng.choice(["a", "b", "c"], size=n)
    score = _model().predict_proba(frame)[:, 1]
    frame["score"] = score
    frame["prediction"] = (score >= 0.5).astype(int)
    frame["y"] = (rng.uniform(size=n) < score).astype(int)  # calibrated: no change
    frame["request_id"] = [f"{prefix}-{i}" for i in range(n)]
    frame["timestamp"] = T0 + pd.to_timedelta(np.sort(rng.choice(86_000, size=n, replace=False)), unit="s")
    return frame


def _baseline(seed: int) -> Baseline:
    return create_baseline(_mv(), _rows(np.random.default_rng(seed), 3000, "ref"), model=_model(), seed=seed, threads=1)


def _run(baseline: Baseline, frame: pd.DataFrame, config: SignalConfig, **kwargs: Any) -> list[SignalResult]:
    labels = pd.DataFrame({"request_id": frame["request_id"], "label": frame["y"]})
    report = evaluate_window(baseline, [frame.drop(columns=["y"])], config=config, labels=labels, model=_model(), threads=1, **kwargs)
    return report.results


def _only(signal: str) -> SignalConfig:
    return SignalConfig.model_validate({n: {"enabled": n == signal} for n in SIGNALS})


class _Broken:
    """A model that fails the way user models do."""

    classes_ = np.array([0, 1])

    def predict(self, x: Any) -> Any:
        raise RuntimeError("the model server is down")

    predict_proba = predict


def _scores_out_of_range(b: Baseline, f: pd.DataFrame) -> tuple[Baseline, pd.DataFrame, dict[str, Any]]:
    return b, f.assign(score=f["score"] * 7 - 3), {}


def _unusable_state(b: Baseline, f: pd.DataFrame) -> tuple[Baseline, pd.DataFrame, dict[str, Any]]:
    return b, f, {"detector_state": {"version": 999, "garbage": True}}


def _broken_part(part: str) -> Callable[..., tuple[Baseline, pd.DataFrame, dict[str, Any]]]:
    def bad(b: Baseline, f: pd.DataFrame) -> tuple[Baseline, pd.DataFrame, dict[str, Any]]:
        broken = copy.deepcopy(b)
        assert broken.performance is not None
        broken.performance[part] = {"unexpected": "state"}
        return broken, f, {}

    return bad


def _undeclared_classes(b: Baseline, f: pd.DataFrame) -> tuple[Baseline, pd.DataFrame, dict[str, Any]]:
    return b, f.assign(prediction=f["prediction"].map({0: "no", 1: "yes"})), {}


def _broken_model(b: Baseline, f: pd.DataFrame) -> tuple[Baseline, pd.DataFrame, dict[str, Any]]:
    return b, f, {"model": _Broken()}


def _shadow_twin(rng: np.random.Generator, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """An equally accurate challenger in shadow: two rules, randomly assigned to the versions per request."""
    alt = ((frame["score"] + rng.normal(0, 0.15, len(frame))) >= 0.5).astype(int).to_numpy()
    swap = rng.uniform(size=len(frame)) < 0.5
    own = frame["prediction"].to_numpy()
    frame = frame.assign(prediction=np.where(swap, alt, own))
    challenger = frame[["request_id", "timestamp"]].assign(prediction=np.where(swap, own, alt), label=frame["y"].to_numpy())
    return frame, {"challenger": ChallengerWindow(version="2", mode="shadow", labelled=challenger)}


def _plain(rng: np.random.Generator, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    return frame, {}


# What a signal needs beside the window to be judged on a world with no change.
WORLD: dict[str, Callable[[np.random.Generator, pd.DataFrame], tuple[pd.DataFrame, dict[str, Any]]]] = {
    "challenger": _shadow_twin,
}


def _unusable_challenger_state(b: Baseline, f: pd.DataFrame) -> tuple[Baseline, pd.DataFrame, dict[str, Any]]:
    f, extra = _shadow_twin(np.random.default_rng(0), f)
    extra["challenger"].state = {"version": 999, "garbage": True}
    return b, f, extra


def _config(signal: str) -> SignalConfig:
    """The default configuration, with ``signal`` on (the challenger signal is off by default)."""
    return SignalConfig.model_validate({signal: {"enabled": True}})


BAD_INPUT: dict[str, Callable[..., tuple[Baseline, pd.DataFrame, dict[str, Any]]]] = {
    "challenger": _unusable_challenger_state,
    "performance": _scores_out_of_range,
    "estimated_performance": _scores_out_of_range,
    "concept_drift": _unusable_state,
    "multivariate_drift": _broken_part("multivariate"),
    "attribution_drift": _broken_model,
    "fairness": _undeclared_classes,
}


def test_every_model_signal_has_a_bad_input_case() -> None:
    assert sorted(BAD_INPUT) == sorted(MODEL_SIGNALS)


@pytest.mark.parametrize("signal", MODEL_SIGNALS)
def test_rerun_identical_unmutated_and_strict_json(signal: str) -> None:
    b = _baseline(1)
    frame, extra = WORLD.get(signal, _plain)(np.random.default_rng(7), _rows(np.random.default_rng(2), 600, "w"))
    before = (json.dumps(b.to_document(), sort_keys=True, default=str), frame.copy())
    first, second = _run(b, frame, _only(signal), **extra), _run(b, frame, _only(signal), **extra)
    assert [r.to_dict() for r in first] == [r.to_dict() for r in second]
    assert json.dumps(b.to_document(), sort_keys=True, default=str) == before[0]
    pd.testing.assert_frame_equal(frame, before[1])
    mine = [r for r in first if r.signal == signal]
    assert mine
    for r in mine:
        text = json.dumps(r.to_dict(), allow_nan=False)
        assert SignalResult.from_dict(json.loads(text)).to_dict() == r.to_dict()
        if r.status in ("ok", "warning", "alert"):
            assert r.alpha is not None and r.min_effect is not None and r.current_size


@pytest.mark.parametrize("signal", MODEL_SIGNALS)
def test_bad_input_is_an_error_result_with_a_message(signal: str) -> None:
    b, frame, kwargs = BAD_INPUT[signal](_baseline(3), _rows(np.random.default_rng(4), 600, "w"))
    labels = pd.DataFrame({"request_id": frame["request_id"], "label": frame["y"]})
    kwargs.setdefault("model", _model())
    report = evaluate_window(b, [frame.drop(columns=["y"])], config=_only(signal), labels=labels, threads=1, **kwargs)
    mine = [r for r in report.results if r.signal == signal]
    assert any(r.status == "error" and r.message for r in mine), [(r.status, r.message) for r in mine]


@pytest.mark.slow
@pytest.mark.parametrize("signal", MODEL_SIGNALS)
def test_no_change_alert_rate_within_the_signal_share(signal: str) -> None:
    cfg = _config(signal)
    share = split_budget(cfg.alpha, SIGNALS, cfg.signal_settings(), _mv())[signal]
    rng = np.random.default_rng(50)
    windows, alerts = 60, 0
    for i in range(windows):
        if i % 15 == 0:
            b = _baseline(100 + i)
        frame, extra = WORLD.get(signal, _plain)(rng, _rows(rng, 400, f"w{i}"))
        alerts += any(r.status == "alert" for r in _run(b, frame, _only(signal), **extra) if r.signal == signal)
    assert alerts <= stats.binom.ppf(0.999, windows, share), (alerts, share)


def _with_non_finite(frame: pd.DataFrame) -> pd.DataFrame:
    """A no-change window where a few rows carry +inf, -inf, NaN features and NaN scores."""
    bad = frame.copy()
    bad.loc[bad.index[:5], "x0"] = np.inf
    bad.loc[bad.index[5:10], "x1"] = -np.inf
    bad.loc[bad.index[10:15], "x2"] = np.nan
    bad.loc[bad.index[15:18], "score"] = np.nan
    return bad


@pytest.mark.parametrize("signal", list(SIGNALS))
def test_a_few_non_finite_values_never_break_a_signal(signal: str) -> None:
    """±inf and NaN in a few rows: no error, no alert, no non-finite number in any result.

    Quality problems are data quality's to report (it may flag the rate of missing or
    out-of-range values); every other signal judges the usable rows and says so.
    """
    b = _baseline(7)
    frame = _with_non_finite(_rows(np.random.default_rng(8), 800, "w"))
    mine = [r for r in _run(b, frame, _only(signal)) if r.signal == signal]
    if not SIGNALS[signal].applies(_mv()):
        assert not mine
        return
    assert mine
    for r in mine:
        json.dumps(r.to_dict(), allow_nan=False)  # raises on NaN or ±inf anywhere in the result
        assert r.status != "error", r.message
        if signal != "data_quality":
            assert r.status != "alert", (r.feature, r.metric, r.value, r.message)
        if r.status in ("ok", "warning", "alert"):
            assert r.value is not None, (r.feature, r.metric)


def test_a_baseline_with_a_few_non_finite_rows_keeps_every_model_part() -> None:
    ref = _with_non_finite(_rows(np.random.default_rng(9), 3000, "ref"))
    b = create_baseline(_mv(), ref, model=_model(), seed=9, threads=1)
    parts = b.performance or {}
    broken = {k: v["error"] for k, v in parts.items() if isinstance(v, dict) and "error" in v}
    assert not broken, broken
    assert parts["attribution"]["rows_left_out_non_finite"] == 15  # the inf and NaN feature rows
    json.dumps(b.to_document(), allow_nan=False)
