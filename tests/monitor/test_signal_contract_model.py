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


BAD_INPUT: dict[str, Callable[..., tuple[Baseline, pd.DataFrame, dict[str, Any]]]] = {
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
    frame = _rows(np.random.default_rng(2), 600, "w")
    before = (json.dumps(b.to_document(), sort_keys=True, default=str), frame.copy())
    first, second = _run(b, frame, _only(signal)), _run(b, frame, _only(signal))
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
    cfg = SignalConfig()
    share = split_budget(cfg.alpha, SIGNALS, cfg.signal_settings(), _mv())[signal]
    rng = np.random.default_rng(50)
    windows, alerts = 60, 0
    for i in range(windows):
        if i % 15 == 0:
            b = _baseline(100 + i)
        frame = _rows(rng, 400, f"w{i}")
        alerts += any(r.status == "alert" for r in _run(b, frame, _only(signal)) if r.signal == signal)
    assert alerts <= stats.binom.ppf(0.999, windows, share), (alerts, share)
