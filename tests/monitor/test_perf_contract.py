"""Contract checks over every performance-family module: public surface, determinism, no mutation."""

from __future__ import annotations

import copy
import doctest
import importlib
import inspect

import numpy as np
import pytest

from monitor.signals.attribution_drift import ndcg
from monitor.signals.concept_drift import calibrate_cusum, run_detectors
from monitor.signals.estimated_performance import CBPE
from monitor.signals.performance import baseline_performance, performance_metrics

MODULES = [
    "monitor.signals.performance",
    "monitor.profiles.labelled_metrics",
    "monitor.signals.concept_drift",
    "monitor.signals.estimated_performance",
    "monitor.signals.multivariate_drift",
    "monitor.signals.attribution_drift",
    "monitor.baseline.model_loader",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_imports_and_callables_are_documented(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    for attr in module.__all__:
        obj = getattr(module, attr)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__doc__, f"{name}.{attr} has no docstring"


def _binary(n: int = 300):
    rng = np.random.default_rng(0)
    p = rng.uniform(size=n)
    y = (rng.uniform(size=n) < p).astype(int)
    return y, (p >= 0.5).astype(int), p


CALLS = {
    "performance_metrics": lambda y, pred, p: performance_metrics("binary", y, pred, p),
    "baseline_performance": lambda y, pred, p: baseline_performance(
        "binary", y, pred, p, n_boot=10
    ).to_dict(),
    "run_detectors": lambda y, pred, p: run_detectors(
        (y != pred).astype(float),
        None,
        None,
        params={"cusum": calibrate_cusum("binary", 0.25, 1000, alpha=0.01, rows_per_window=300)},
    ),
    "run_river_detectors": lambda y, pred, p: run_detectors(
        (y != pred).astype(float), None, None, detectors=("adwin", "kswin")
    ),
    "cbpe": lambda y, pred, p: CBPE("binary", n_sim=20).fit(p, y).estimate(p, pred),
    "ndcg": lambda y, pred, p: ndcg({"a": float(p[0]), "b": float(p[1])}, {"a": 1.0, "b": 2.0}),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_deterministic_and_inputs_not_mutated(call) -> None:
    inputs = _binary()
    before = copy.deepcopy(inputs)
    first = call(*inputs)
    assert call(*inputs) == first
    for a, b in zip(inputs, before, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_signal_results_store_as_strict_json() -> None:
    import json

    import pandas as pd

    from monitor.signals.attribution_drift import AttributionDriftSettings, judge_importances
    from monitor.signals.concept_drift import concept_drift_signal_results
    from monitor.signals.estimated_performance import (
        EstimatedPerformanceSettings,
        fit_cbpe_part,
        judge_window,
    )
    from monitor.signals.multivariate_drift import fit_pca_part, judge_pca
    from monitor.signals.performance import PerformanceSettings, judge_metrics, window_performance

    y, pred, p = _binary()
    base = baseline_performance("binary", y, pred, p, n_boot=10)
    one_class = window_performance("binary", [1, 1], [1, 0], [0.9, 0.2])
    part = fit_cbpe_part("binary", p, y, pred, classes=None, n_boot=20)
    events, _ = run_detectors((y != pred).astype(float), None, None, detectors=("adwin",))
    frame = pd.DataFrame({"a": p, "b": p**2, "c": y.astype(float)})
    frame.loc[0, "a"] = np.inf
    attribution = {
        "importance": {"a": 1.0, "b": 0.5},
        "standard_error": {"a": 0.0, "b": 0.1},
        "rows": 10,
    }
    perf = PerformanceSettings()
    w = window_performance("binary", y, pred, p)
    results = [
        *judge_metrics(w.metrics, dict.fromkeys(w.metrics, w.n), base, alpha=0.01, settings=perf),
        *judge_metrics(
            one_class.metrics,
            dict.fromkeys(one_class.metrics, 2),
            base,
            alpha=0.01,
            settings=perf,
            undefined=one_class.undefined,
        ),
        *judge_window(part, p, pred, alpha=0.01, settings=EstimatedPerformanceSettings()),
        *judge_window(part, p[:5], pred[:5], alpha=0.01, settings=EstimatedPerformanceSettings()),
        *concept_drift_signal_results(events, len(y), ("adwin",)),
        judge_pca(fit_pca_part(frame, ["a", "b", "c"]), frame, alpha=0.01, min_effect=0.1),
        judge_importances(
            attribution,
            {"a": (0.2, 0.1), "b": (0.6, 0.0)},
            10,
            alpha=0.01,
            settings=AttributionDriftSettings(),
        ),
    ]
    for r in results:
        stored = json.loads(json.dumps(r.to_dict(), allow_nan=False))
        assert stored["signal"] == r.signal and stored["status"] == r.status
