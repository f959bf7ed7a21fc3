"""One contract suite generated from the signal registry: every entry of ``SIGNALS``.

For each signal: an empty window gives ``no_data`` (a signal that judges empty
windows, such as traffic, judges it and says why); bad input gives ``error`` with a
message; a re-run gives identical results; inputs are not mutated; results round-trip
through strict JSON; and on windows with no change the signal's alert rate stays
within its share of the monitor's false-alarm budget (a binomial bound over many
seeded windows). A signal added to the registry without a case here fails the suite.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from bench._nochange import make_frame, model_version_doc
from monitor.baseline.reference import Baseline, create_baseline
from monitor.profiles.dataset import DatasetProfile, build_profile
from monitor.signals import SIGNALS
from monitor.signals.base import split_budget
from monitor.signals.evaluate import evaluate_profile
from monitor.signals.results import SignalResult
from monitor.spec.model_version import parse_model_version
from monitor.spec.signal_config import SignalConfig

MV = parse_model_version(model_version_doc(n_numeric=6, n_categorical=2))


def _baseline(seed: int, n: int = 400) -> Baseline:
    return create_baseline(MV, make_frame(np.random.default_rng(seed), n, n_numeric=6, n_categorical=2), threads=1)


def _window(baseline: Baseline, frame: Any) -> DatasetProfile:
    return build_profile([pa.Table.from_pandas(frame, preserve_index=False)], baseline.window_plan(), threads=1)


def _only(signal: str, **settings: Any) -> SignalConfig:
    """A config with ``signal`` (and what it reads) on, everything else off."""
    keep = {signal, "data_drift"} if signal == "dataset_drift" else {signal}
    return SignalConfig.model_validate({n: {"enabled": n in keep, **(settings if n == signal else {})} for n in SIGNALS})


# How each signal is given bad input: (settings, what to do to the window frame).
BAD_INPUT: dict[str, tuple[dict[str, Any], Callable[[Any], Any] | None]] = {
    "data_drift": ({"features": ["no_such_column"]}, None),
    "prediction_drift": ({"features": ["no_such_column"]}, None),
    "data_quality": ({"features": ["no_such_column"]}, None),
    "dataset_drift": ({}, None),
    "traffic": ({}, None),  # its bad input is an unreadable carried state: BAD_CARRY
}
# Signals whose bad input is the state carried from the previous window.
BAD_CARRY: dict[str, dict[str, Any]] = {"traffic": {"traffic": {"version": 999, "quiet_windows": "x"}}}


def _registered_with_case() -> list[str]:
    return [name for name in SIGNALS if name in BAD_INPUT]


def test_every_registered_signal_has_a_contract_case() -> None:
    from tests.monitor.test_signal_contract_model import BAD_INPUT as MODEL_CASES

    missing = [name for name in SIGNALS if name not in BAD_INPUT and name not in MODEL_CASES]
    assert not missing, f"add contract cases for {missing}"


@pytest.mark.parametrize("signal", list(SIGNALS))
def test_empty_window_is_no_data(signal: str) -> None:
    b = _baseline(1)
    empty = _window(b, make_frame(np.random.default_rng(2), 0, n_numeric=6, n_categorical=2))
    results = evaluate_profile(b, empty, _only(signal))
    mine = [r for r in results if r.signal == signal]
    if SIGNALS[signal].judges_empty_windows:  # an empty window is its evidence: judged, with why
        assert mine and all(r.status in ("ok", "warning", "alert") and r.message for r in mine)
        assert all(r.current_size == 0 and r.threshold is not None for r in mine)
    elif SIGNALS[signal].applies(MV):
        assert mine and all(r.status == "no_data" for r in mine)
        assert all(r.message for r in mine)
    else:
        assert not mine


@pytest.mark.parametrize("signal", _registered_with_case())
def test_bad_input_is_an_error_with_a_message(signal: str) -> None:
    settings, _ = BAD_INPUT[signal]
    b = _baseline(3)
    w = _window(b, make_frame(np.random.default_rng(4), 300, n_numeric=6, n_categorical=2))
    if signal == "dataset_drift":  # it reads data drift: broken data drift makes it say so
        cfg = SignalConfig.model_validate({n: {"enabled": n in ("dataset_drift", "data_drift"), **({"features": ["nope"]} if n == "data_drift" else {})} for n in SIGNALS})
        results = [r for r in evaluate_profile(b, w, cfg) if r.signal == signal]
        assert results and results[0].status == "no_data" and "no feature" in (results[0].message or "")
        return
    if signal in BAD_CARRY:
        carry = dict(BAD_CARRY[signal])
        results = [r for r in evaluate_profile(b, w, _only(signal), carry=carry) if r.signal == signal]
        assert len(results) == 1 and results[0].status == "error" and "999" in (results[0].message or "")
        assert carry[signal] != BAD_CARRY[signal][signal]  # the next window starts from a readable state
        return
    results = [r for r in evaluate_profile(b, w, _only(signal, **settings)) if r.signal == signal]
    assert len(results) == 1 and results[0].status == "error"
    assert "no_such_column" in (results[0].message or "")


@pytest.mark.parametrize("signal", _registered_with_case())
def test_rerun_identical_inputs_unmutated_strict_json(signal: str) -> None:
    b = _baseline(5)
    frame = make_frame(np.random.default_rng(6), 500, n_numeric=6, n_categorical=2, shift_numeric={0: 0.6})
    w = _window(b, frame)
    before = (json.dumps(b.to_document(), sort_keys=True, default=str), json.dumps(w.to_document(), sort_keys=True, default=str))
    cfg = _only(signal)
    first = evaluate_profile(b, w, cfg)
    second = evaluate_profile(b, w, cfg)
    assert [r.to_dict() for r in first] == [r.to_dict() for r in second]
    after = (json.dumps(b.to_document(), sort_keys=True, default=str), json.dumps(w.to_document(), sort_keys=True, default=str))
    assert before == after
    for r in first:
        text = json.dumps(r.to_dict(), allow_nan=False)
        assert SignalResult.from_dict(json.loads(text)).to_dict() == r.to_dict()
    judged = [r for r in first if r.status in ("ok", "warning", "alert")]
    tested = [r for r in judged if SIGNALS[r.signal].budget_weight > 0]
    for r in tested:  # every judged result of a test says why
        assert r.p_value is not None and r.alpha is not None and r.effect_size is not None
        assert r.min_effect is not None and r.correction is not None and r.current_size
    for r in judged:  # a rule that spends no budget (dataset drift, traffic) still says its limit
        assert r.threshold is not None and r.current_size is not None


def test_budget_split_sums_to_alpha_over_signals_that_apply() -> None:
    cfg = SignalConfig(alpha=0.02)
    shares = split_budget(cfg.alpha, SIGNALS, cfg.signal_settings(), MV)
    assert sum(shares.values()) == pytest.approx(0.02)
    assert shares.get("dataset_drift", 0.0) == 0.0
    no_pred = parse_model_version({**model_version_doc(n_numeric=6, n_categorical=2), "prediction": None})
    assert "prediction_drift" not in split_budget(0.01, SIGNALS, cfg.signal_settings(), no_pred)


@pytest.mark.slow
@pytest.mark.parametrize("signal", ["data_drift", "prediction_drift", "data_quality"])
@pytest.mark.parametrize("n", [100, 1000])
def test_no_change_alert_rate_within_the_signal_share(signal: str, n: int) -> None:
    """Simulation: 200 no-change windows (20 references x 10 windows) per cell."""
    cfg = SignalConfig()
    share = split_budget(cfg.alpha, SIGNALS, cfg.signal_settings(), MV)[signal]
    rng = np.random.default_rng(1000 + n)
    windows, alerts = 200, 0
    for i in range(windows):
        if i % 10 == 0:
            b = create_baseline(MV, make_frame(rng, n, n_numeric=6, n_categorical=2), threads=1)
        w = _window(b, make_frame(rng, n, n_numeric=6, n_categorical=2))
        alerts += any(r.status == "alert" for r in evaluate_profile(b, w, cfg) if r.signal == signal)
    # Reject "rate <= share" only when the count is beyond the binomial 99.9 % quantile.
    assert alerts <= stats.binom.ppf(0.999, windows, share), (alerts, share)


@pytest.mark.slow
def test_power_on_a_half_sigma_shift_at_200_rows() -> None:
    cfg = SignalConfig()
    rng = np.random.default_rng(77)
    pages = 0
    for _ in range(40):
        b = create_baseline(MV, make_frame(rng, 200, n_numeric=6, n_categorical=2), threads=1)
        w = _window(b, make_frame(rng, 200, n_numeric=6, n_categorical=2, shift_numeric={0: 0.5, 1: 0.5}))
        pages += any(r.status == "alert" for r in evaluate_profile(b, w, cfg))
    assert pages >= 30


def test_significant_but_small_is_a_warning_not_an_alert() -> None:
    rng = np.random.default_rng(9)
    b = create_baseline(MV, make_frame(rng, 50_000, n_numeric=6, n_categorical=2), threads=1)
    w = _window(b, make_frame(rng, 50_000, n_numeric=6, n_categorical=2, shift_numeric={0: 0.04}))
    r = next(r for r in evaluate_profile(b, w, _only("data_drift")) if r.feature == "x0")
    assert r.p_value is not None and r.alpha is not None and r.p_value < r.alpha
    assert r.effect_size is not None and r.effect_size < r.min_effect  # type: ignore[operator]
    assert r.status == "warning"
    big = _window(b, make_frame(rng, 50_000, n_numeric=6, n_categorical=2, shift_numeric={0: 0.2}))
    assert next(r for r in evaluate_profile(b, big, _only("data_drift")) if r.feature == "x0").status == "alert"

