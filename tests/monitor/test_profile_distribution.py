"""The drift results' baseline-vs-window histogram against an independent computation on
the raw values (NumPy histograms and pandas value counts), on seeded data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from bench._nochange import make_frame, model_version_doc
from monitor.baseline.reference import create_baseline
from monitor.profiles.dataset import build_profile
from monitor.profiles.distribution import SKETCH_BINS, distribution_sketch
from monitor.signals.evaluate import evaluate_profile
from monitor.spec.model_version import parse_model_version
from monitor.spec.signal_config import SignalConfig

MV = parse_model_version(model_version_doc(n_numeric=1, n_categorical=1))


def _profiles(shift: float) -> tuple[pd.DataFrame, pd.DataFrame, object, object]:
    rng = np.random.default_rng(11)
    ref = make_frame(rng, 5000, n_numeric=1, n_categorical=1)
    cur = make_frame(rng, 3000, n_numeric=1, n_categorical=1, shift_numeric={0: shift})
    baseline = create_baseline(MV, ref, threads=1)
    window = build_profile(
        [pa.Table.from_pandas(cur, preserve_index=False)], baseline.window_plan(), threads=1
    )
    return ref, cur, baseline, window


def test_numeric_shares_match_numpy_within_one_fine_bin_per_edge() -> None:
    """Fine bins are regrouped by their mean, so a coarse bin can differ from the exact
    histogram by at most the fine bins straddling its two edges."""
    ref, cur, baseline, window = _profiles(shift=0.8)
    r, c = baseline.profile.columns["x0"], window.columns["x0"]
    sketch = distribution_sketch(r, c)
    assert sketch is not None and sketch["kind"] == "numeric"
    edges = np.linspace(ref["x0"].min(), ref["x0"].max(), SKETCH_BINS + 1)
    expected_base = np.histogram(ref["x0"], bins=edges)[0] / len(ref)
    tol_base = 2 * r.counts.max() / r.n
    np.testing.assert_allclose(
        sketch["baseline"][:SKETCH_BINS], expected_base, atol=tol_base + 1e-6
    )
    values = cur["x0"].to_numpy()
    inside = values[(values >= edges[0]) & (values <= edges[-1])]
    above = int((values > edges[-1]).sum())
    below = int((values < edges[0]).sum())
    assert above > 0  # the shifted window leaves the baseline's range on the right
    expected_window = np.r_[
        [below] if below else [], np.histogram(inside, bins=edges)[0], [above]
    ] / len(values)
    tol_window = 2 * c.counts.max() / c.n
    np.testing.assert_allclose(sketch["window"], expected_window, atol=tol_window + 1e-6)
    assert sketch["labels"][-1].startswith("> ") and len(sketch["labels"]) == len(sketch["window"])
    assert abs(sum(sketch["baseline"]) - 1) < 1e-5 and abs(sum(sketch["window"]) - 1) < 1e-5


def test_categorical_shares_are_exact_value_counts() -> None:
    ref, cur, baseline, window = _profiles(shift=0.0)
    sketch = distribution_sketch(baseline.profile.columns["c0"], window.columns["c0"])
    assert sketch is not None and sketch["kind"] == "categorical"
    base = ref["c0"].value_counts(normalize=True)
    win = cur["c0"].value_counts(normalize=True)
    for label, b, w in zip(sketch["labels"], sketch["baseline"], sketch["window"], strict=True):
        assert b == round(float(base.get(label, 0.0)), 6) and w == round(
            float(win.get(label, 0.0)), 6
        )


def test_every_judged_drift_result_carries_its_histogram() -> None:
    _, _, baseline, window = _profiles(shift=0.8)
    cfg = SignalConfig.model_validate({"data_drift": {"enabled": True}})
    results = [r for r in evaluate_profile(baseline, window, cfg) if r.signal == "data_drift"]
    assert {r.feature for r in results} == {"x0", "c0", "flag"}
    for r in results:
        sketch = r.details["histogram"]
        assert sketch is not None and sketch["kind"] == (
            "numeric" if r.feature == "x0" else "categorical"
        )
        assert sketch == distribution_sketch(
            baseline.profile.columns[r.feature], window.columns[r.feature]
        )
