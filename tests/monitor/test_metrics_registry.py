"""The registry, the default-metric rule, and one contract suite over every metric function."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import pytest

import monitor.metrics as metrics
from monitor.metrics import (
    METRICS,
    Histogram,
    MetricResult,
    UnknownMetricError,
    choose_default_metric,
    get_metric,
)
from tests.monitor.histograms import build_histogram

_RNG = np.random.default_rng(2024)
REF_VALUES = _RNG.normal(0, 1, 4000)
CUR_VALUES = _RNG.normal(0.4, 1.2, 1500)
EDGES = np.quantile(REF_VALUES, np.linspace(0, 1, 1001))
REF_COUNTS = {"a": 400, "b": 350, "c": 250}
CUR_COUNTS = {"a": 300, "b": 300, "d": 100}
BINARY_REF, BINARY_CUR = {0: 600, 1: 400}, {0: 450, 1: 550}


def calls() -> list[tuple[str, str, Callable[..., MetricResult], tuple, dict]]:
    """(metric, input form, function, drifted inputs, keyword arguments) for every function."""
    out = []
    for name, info in METRICS.items():
        if info.binned is not None:
            kwargs = {"ref_std": float(np.std(REF_VALUES))} if info.needs_ref_std else {}
            hists = (build_histogram(REF_VALUES, EDGES), build_histogram(CUR_VALUES, EDGES))
            out.append((name, "binned", info.binned, hists, kwargs))
        if info.categorical is not None:
            pair = (
                (BINARY_REF, BINARY_CUR)
                if "categorical" not in info.kinds
                else (REF_COUNTS, CUR_COUNTS)
            )
            out.append((name, "categorical", info.categorical, pair, {}))
        if info.sample is not None:
            out.append((name, "sample", info.sample, (REF_VALUES, CUR_VALUES), {}))
    return out


CALLS = calls()
IDS = [f"{name}-{form}" for name, form, *_ in CALLS]


@pytest.mark.parametrize(("name", "form", "function", "inputs", "kwargs"), CALLS, ids=IDS)
def test_contract(name, form, function, inputs, kwargs) -> None:
    before = copy.deepcopy(inputs)
    first = function(*inputs, **kwargs)
    second = function(*inputs, **kwargs)
    info = METRICS[name]
    # Deterministic, typed, named after its registry entry.
    assert isinstance(first, MetricResult) and first == second
    assert first.metric == name
    # Inputs untouched.
    for old, new in zip(before, inputs, strict=True):
        if isinstance(old, Histogram):
            assert np.array_equal(old.counts, new.counts) and np.array_equal(old.edges, new.edges)
        elif isinstance(old, dict):
            assert old == new
        else:
            assert np.array_equal(old, new)
    # A test has a p-value in [0, 1]; a distance is finite and >= 0; both detect this drift.
    assert first.is_test == info.is_test
    assert math.isfinite(first.statistic)
    if info.is_test:
        assert 0.0 <= first.p_value <= 1.0 and first.score == first.p_value
        assert first.score < info.default_threshold
    else:
        assert first.statistic >= 0 and first.score == first.statistic
        assert first.score >= info.default_threshold


@pytest.mark.parametrize(("name", "form", "function", "inputs", "kwargs"), CALLS, ids=IDS)
def test_contract_identical_inputs_mean_no_drift(name, form, function, inputs, kwargs) -> None:
    result = function(inputs[0], inputs[0], **kwargs)
    if METRICS[name].is_test:
        assert result.p_value >= 0.25  # 0.25 is the Anderson-Darling cap, the others give ~1
    else:
        assert result.statistic == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("name", "form", "function", "inputs", "kwargs"), CALLS, ids=IDS)
def test_contract_empty_input_is_a_clear_error(name, form, function, inputs, kwargs) -> None:
    empty = {
        "binned": Histogram(EDGES, np.zeros(EDGES.size - 1, dtype=np.int64)),
        "categorical": {},
        "sample": np.array([]),
    }[form]
    with pytest.raises(ValueError, match=r"cur .*empty"):
        function(inputs[0], empty, **kwargs)


def test_registry_names_and_defaults() -> None:
    assert list(METRICS) == [
        "ks", "wasserstein", "psi", "jensenshannon", "hellinger", "l_infinity",
        "chisquare", "ztest", "anderson",
    ]  # fmt: skip
    thresholds = {name: info.default_threshold for name, info in METRICS.items()}
    assert thresholds == {
        "ks": 0.05, "wasserstein": 0.1, "psi": 0.2, "jensenshannon": 0.1, "hellinger": 0.1,
        "l_infinity": 0.1, "chisquare": 0.05, "ztest": 0.05, "anderson": 0.05,
    }  # fmt: skip
    for name, info in METRICS.items():
        assert info.name == name
        assert info.kinds and info.kinds <= {"numeric", "categorical", "binary"}
        assert info.binned or info.categorical or info.sample
        if "numeric" in info.kinds:
            assert info.binned or info.sample
        if info.kinds & {"categorical", "binary"}:
            assert info.categorical is not None
    assert METRICS["anderson"].binned is None and METRICS["anderson"].sample is not None


def test_unknown_metric_lists_the_available_ones() -> None:
    message = (
        "unknown metric 'foo'; available: ks, wasserstein, psi, jensenshannon, hellinger, "
        "l_infinity, chisquare, ztest, anderson"
    )
    with pytest.raises(UnknownMetricError) as excinfo:
        get_metric("foo")
    assert str(excinfo.value) == message
    assert isinstance(excinfo.value, KeyError) and isinstance(excinfo.value, ValueError)
    assert get_metric("ks") is METRICS["ks"]


@pytest.mark.parametrize(
    ("kind", "reference_size", "n_unique", "expected"),
    [
        ("numeric", 1001, None, "wasserstein"),
        ("numeric", 1000, None, "ks"),
        ("numeric", 50_000, 6, "wasserstein"),
        ("numeric", 50_000, 5, "jensenshannon"),
        ("numeric", 200, 3, "chisquare"),
        ("categorical", 1001, 40, "jensenshannon"),
        ("categorical", 1000, 40, "chisquare"),
        ("binary", 1001, 2, "jensenshannon"),
        ("binary", 10, 2, "ztest"),
    ],
)
def test_choose_default_metric(kind, reference_size: int, n_unique, expected: str) -> None:
    chosen = choose_default_metric(kind, reference_size, n_unique)
    assert chosen == expected and chosen in METRICS


def test_choose_default_metric_validates_its_arguments() -> None:
    with pytest.raises(
        ValueError, match=r"kind must be one of \['binary', 'categorical', 'numeric'\]"
    ):
        choose_default_metric("text", 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reference_size must be an integer >= 0; got -1"):
        choose_default_metric("numeric", -1)


def test_every_name_in_all_imports() -> None:
    assert len(set(metrics.__all__)) == len(metrics.__all__)
    for name in metrics.__all__:
        assert getattr(metrics, name) is not None
