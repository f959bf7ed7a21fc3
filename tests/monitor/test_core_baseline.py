"""Baselines: document round trip, file/frame equivalence, discrete edges and chunks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance

from monitor.baseline.reference import Baseline, create_baseline, histogram_edges
from monitor.errors import DataError
from monitor.metrics import METRICS
from monitor.profiles.column import NumericProfile
from monitor.profiles.dataset import DatasetProfile, build_profile
from monitor.signals import SIGNALS
from monitor.signals.evaluate import evaluate_profile
from monitor.spec.model_version import ModelVersion, parse_model_version
from monitor.spec.signal_config import SignalConfig

MV = parse_model_version(
    {
        "name": "credit", "version": "1", "task": "binary",
        "features": {"income": "numeric", "children": "numeric", "purpose": "categorical",
                     "owner": "boolean"},
        "scores": ["score"], "target": "default",
    }
)  # fmt: skip


def reference_frame(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    purpose = rng.choice(["car", "house", "study"], n).astype(object)
    purpose[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "request_id": [f"r{i:05d}" for i in range(n)],
            "timestamp": pd.date_range("2026-01-01", periods=n, freq="min").strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
            # sixteenths: exact in binary and in a short decimal, so CSV round-trips them exactly
            "income": rng.integers(16 * 100, 16 * 900, n) / 16,
            "children": np.clip(rng.poisson(1.5, n), 0, 6),
            "purpose": purpose,
            "owner": rng.choice([True, False], n),
            "prediction": rng.choice(["0", "1"], n),
            "score": rng.integers(0, 1024, n) / 1024,
            "default": rng.integers(0, 2, n),
        }
    )


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return reference_frame()


@pytest.fixture(scope="module")
def baseline(ref: pd.DataFrame) -> Baseline:
    return create_baseline(MV, ref, bins=50, reservoir_size=300, seed=3, batch_rows=500, threads=1)


def profile_summary(p: DatasetProfile) -> dict:
    doc = p.to_document()
    return {"row_count": doc["row_count"], "columns": doc["columns"]}


def assert_docs_close(a: dict, b: dict) -> None:
    """Equal documents, moments to 1e-9 relative (float summation order may differ)."""
    assert a.keys() == b.keys()
    for name in a["columns"]:
        ca, cb = dict(a["columns"][name]), dict(b["columns"][name])
        for key in ("mean", "m2", "under_sum", "over_sum"):
            if key in ca:
                assert ca.pop(key) == pytest.approx(cb.pop(key), rel=1e-9, abs=1e-9), (name, key)
        assert ca == cb, name
    assert a["row_count"] == b["row_count"]


def drift_effect(b: Baseline, window: DatasetProfile, column: str) -> float:
    """Data drift's effect for ``column``: the binned Wasserstein distance in reference σ.

    Checked to be the registry's binned function on the two histograms, so the known
    answers below pin both the metric and the signal that reports it.
    """
    only = {n: {"enabled": n == "data_drift"} for n in SIGNALS}
    result = next(
        r
        for r in evaluate_profile(b, window, SignalConfig.model_validate(only))
        if (r.signal, r.feature) == ("data_drift", column)
    )
    ref, cur = b.profile.columns[column], window.columns[column]
    assert isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile)
    rh, ch = ref.histogram(), cur.histogram()
    assert rh is not None and ch is not None and METRICS["wasserstein"].binned is not None
    binned = METRICS["wasserstein"].binned(rh, ch, ref_std=ref.std).statistic
    assert result.metric == "wasserstein" and result.status in ("ok", "warning", "alert")
    assert result.value == result.effect_size == binned
    assert result.value is not None
    return result.value


# --- round trip ------------------------------------------------------------------------


def test_document_round_trips_through_json(baseline: Baseline) -> None:
    doc = json.loads(json.dumps(baseline.to_document(), allow_nan=False))
    back = Baseline.from_document(doc, baseline.sample_bytes())
    assert back.to_document() == baseline.to_document()
    assert back.model_version == MV
    assert back.plan.specs == baseline.plan.specs
    for a, b in zip(back.plan.columns, baseline.plan.columns, strict=True):
        assert (a.edges is None) == (b.edges is None)
        if a.edges is not None and b.edges is not None:
            assert np.array_equal(a.edges, b.edges)
    assert back.profile.reservoir.table is not None
    assert back.profile.reservoir.table.equals(baseline.profile.reservoir.table)
    assert "chunks" not in doc  # no calibration profiles: nothing reads them
    # windows profiled with the restored plan are judged on the same ranges and categories
    for a, b in zip(back.window_plan().columns, baseline.window_plan().columns, strict=True):
        assert (a.value_range, a.known_categories) == (b.value_range, b.known_categories)


def test_baseline_schema_version_is_checked(baseline: Baseline) -> None:
    doc = {**baseline.to_document(), "schema_version": 0}
    with pytest.raises(
        ValueError,
        match=r"baseline schema version 0 is not supported; rebuild it with `raiwatch baseline create`",
    ):
        Baseline.from_document(doc)


def test_window_plan_carries_baseline_ranges_and_categories(
    baseline: Baseline, ref: pd.DataFrame
) -> None:
    plans = {c.spec.name: c for c in baseline.window_plan().columns}
    assert plans["income"].value_range == (ref["income"].min(), ref["income"].max())
    assert plans["purpose"].known_categories == frozenset({"car", "house", "study"})
    assert plans["owner"].known_categories == frozenset({"true", "false"})
    assert plans["prediction"].known_categories == frozenset({"0", "1"})


# --- the same data as a frame, a CSV and a Parquet file ------------------------------------


def test_csv_parquet_and_frame_give_the_same_baseline(
    tmp_path: Path, ref: pd.DataFrame, baseline: Baseline
) -> None:
    csv, parquet = tmp_path / "ref.csv", tmp_path / "ref.parquet"
    ref.to_csv(csv, index=False)
    ref.to_parquet(parquet, index=False)
    for source in (csv, parquet):
        # a different batch size too: the baseline must not depend on batch boundaries
        other = create_baseline(
            MV, source, bins=50, reservoir_size=300, seed=3, batch_rows=128, threads=1
        )
        assert_docs_close(profile_summary(other.profile), profile_summary(baseline.profile))
        a, b = other.profile.reservoir.to_pandas(), baseline.profile.reservoir.to_pandas()
        cols = [
            "request_id",
            "income",
            "children",
            "purpose",
            "owner",
            "prediction",
            "score",
            "default",
        ]
        pd.testing.assert_frame_equal(a[cols], b[cols], check_dtype=False)
        assert other.source["kind"] == "file" and len(other.source["sha256"]) == 64


def test_reservoir_is_keyed_by_request_id_and_keeps_target_and_timestamp(
    baseline: Baseline, ref: pd.DataFrame
) -> None:
    sample = baseline.profile.reservoir.to_pandas()
    assert baseline.plan.key_column == "request_id"
    assert baseline.plan.passthrough == ("default", "timestamp")
    assert len(sample) == 300 and sample["request_id"].is_unique
    original = ref.set_index("request_id").loc[sample["request_id"]]
    assert sample["default"].tolist() == original["default"].tolist()
    assert sample["timestamp"].tolist() == original["timestamp"].tolist()
    assert sample["income"].tolist() == original["income"].tolist()


# --- the profile -------------------------------------------------------------------------


def test_the_profile_is_one_pass_over_the_reference_on_the_fitted_edges(
    baseline: Baseline, ref: pd.DataFrame
) -> None:
    plan = baseline.plan.__class__(**{**baseline.plan.__dict__, "reservoir_size": 0})
    whole = build_profile([ref], plan, threads=1)
    assert_docs_close(profile_summary(whole), profile_summary(baseline.profile))
    assert baseline.profile.row_count == len(ref)


def test_an_older_baseline_document_with_calibration_chunks_still_loads(baseline: Baseline) -> None:
    doc = baseline.to_document()
    old = {**doc, "chunks": [doc["profile"], doc["profile"]]}  # as stored before chunks were dropped
    back = Baseline.from_document(json.loads(json.dumps(old)), baseline.sample_bytes())
    assert back.to_document() == doc


# --- histogram edges ------------------------------------------------------------------------


def test_discrete_column_gets_midpoint_edges(baseline: Baseline) -> None:
    edges = next(c.edges for c in baseline.plan.columns if c.spec.name == "children")
    assert edges is not None
    assert edges.tolist() == [-0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]  # values 0..6
    prof = baseline.profile.columns["children"]
    assert isinstance(prof, NumericProfile) and prof.counts is not None
    counts = np.bincount(reference_frame()["children"], minlength=7)
    assert prof.counts.tolist() == counts.tolist()  # one value per bin


def test_histogram_edges_by_hand() -> None:
    # unequal gaps: each value sits between the midpoints to its neighbours
    assert histogram_edges(np.array([1.0, 2.0, 4.0]), 1.0, 4.0, 10).tolist() == [0.5, 1.5, 3.0, 5.0]
    # a constant column gets one tiny bin around the value
    e = histogram_edges(np.array([3.0, 3.0]), 3.0, 3.0, 10)
    assert e[0] < 3.0 < e[1] and e[1] - e[0] == pytest.approx(6e-9)
    # continuous: sample quantiles between the exact min and max
    x = np.random.default_rng(0).normal(size=1000)
    e = histogram_edges(x, -5.0, 5.0, 4)
    assert e.tolist() == [-5.0, *np.quantile(x, [0.25, 0.5, 0.75]).tolist(), 5.0]
    # nothing finite
    assert histogram_edges(np.array([np.nan]), np.inf, -np.inf, 10).tolist() == [0.0, 1.0]


def test_binned_wasserstein_is_exact_on_integer_data() -> None:
    """Midpoint edges make the binned W1 equal scipy's exact W1 / np.std(ref) (1e-9).

    Known answer holds when the reference takes every integer of its range and the
    two empirical CDFs do not cross (checked below as preconditions).
    """
    rng = np.random.default_rng(11)
    ref = np.clip(rng.poisson(4.0, 3000), 0, 9).astype(float)
    cur = np.clip(rng.poisson(6.0, 2000), 0, 12).astype(float)  # beyond the reference max too
    support = np.arange(0, 13)
    assert np.unique(ref).tolist() == list(range(10))
    diff = (
        np.searchsorted(np.sort(ref), support, "right") / 3000
        - np.searchsorted(np.sort(cur), support, "right") / 2000
    )
    assert np.all(diff >= 0)  # no crossing
    mv = parse_model_version(
        {"name": "m", "version": "1", "task": "regression", "features": {"k": "numeric"}}
    )
    frame = pd.DataFrame({"k": ref, "prediction": 0.0})
    b = create_baseline(mv, frame, bins=100, reservoir_size=3000, threads=1)
    window = build_profile(
        [pd.DataFrame({"k": cur, "prediction": 0.0})], b.window_plan(), threads=1
    )
    expected = wasserstein_distance(ref, cur) / np.std(ref)
    assert drift_effect(b, window, "k") == pytest.approx(expected, abs=1e-9)
    assert expected > 0.5  # a real shift, not a trivially equal pair


def test_binned_wasserstein_on_crossing_integer_cdfs() -> None:
    # Per-bin sums make the crossing bin exact: the step sits where the signed integral says.
    # empirical CDFs at 0, 1, 2: ref 0.4, 0.5, 1; cur 0.1, 0.9, 1 -- they cross inside [0.5, 1.5)
    ref = np.repeat([0.0, 1.0, 2.0], [40, 10, 50])
    cur = np.repeat([0.0, 1.0, 2.0], [10, 80, 10])
    mv = parse_model_version(
        {"name": "m", "version": "1", "task": "regression", "features": {"k": "numeric"}}
    )
    b = create_baseline(mv, pd.DataFrame({"k": ref, "prediction": 0.0}), bins=100, threads=1)
    window = build_profile(
        [pd.DataFrame({"k": cur, "prediction": 0.0})], b.window_plan(), threads=1
    )
    expected = wasserstein_distance(ref, cur) / np.std(ref)
    assert drift_effect(b, window, "k") == pytest.approx(expected, abs=1e-9)


def test_binned_wasserstein_with_a_value_off_its_bin_centre() -> None:
    # values 1, 2, 4: the bin of 2 is [1.5, 3), so spreading it uniformly would be inexact
    ref = np.repeat([1.0, 2.0, 4.0], [30, 30, 40])
    cur = np.repeat([1.0, 2.0, 4.0], [50, 10, 40])
    mv = parse_model_version(
        {"name": "m", "version": "1", "task": "regression", "features": {"k": "numeric"}}
    )
    b = create_baseline(mv, pd.DataFrame({"k": ref, "prediction": 0.0}), bins=100, threads=1)
    assert b.plan.columns[0].edges is not None
    assert b.plan.columns[0].edges.tolist() == [0.5, 1.5, 3.0, 5.0]
    window = build_profile(
        [pd.DataFrame({"k": cur, "prediction": 0.0})], b.window_plan(), threads=1
    )
    expected = wasserstein_distance(ref, cur) / np.std(ref)
    assert drift_effect(b, window, "k") == pytest.approx(expected, abs=1e-9)


# --- errors ------------------------------------------------------------------------------


def test_missing_reference_columns_list_every_available_column(
    tmp_path: Path, ref: pd.DataFrame
) -> None:
    path = tmp_path / "ref.csv"
    ref.rename(columns={"income": "Income"}).drop(columns=["score"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"reference data is missing required column\(s\) \['income', 'score'\]; "
                       r"available columns: \[.*'Income'.*\]\. Rename the columns"):  # fmt: skip
        create_baseline(MV, path, bins=10, threads=1)


def test_model_version_is_part_of_the_baseline(baseline: Baseline) -> None:
    assert isinstance(baseline.model_version, ModelVersion)
    assert baseline.to_document()["model_version"]["features"][0] == {
        "name": "income", "type": "numeric", "description": None,
    }  # fmt: skip
