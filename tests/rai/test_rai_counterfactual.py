"""Counterfactuals are re-checked against the real model and respect the constraints."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, forest_pipeline, known_classification, known_regression

from rai.components.counterfactual import _job, run_counterfactual
from rai.components.counterfactual_search import search_rows
from rai.config import RaiConfig
from rai.validate import validate_inputs

FEATURES = ["x_strong", "noise_a", "noise_b", "colour", "sex"]


def _run(model, train, test, **counterfactual):
    settings = {"rows": [0, 1, 2], "total_cfs": 3, "time_limit_seconds": 30, **counterfactual}
    overrides = {"counterfactual": settings, "gates": []}
    if "task" in counterfactual:
        overrides["task"] = settings.pop("task")
    config = RaiConfig.from_dict(base_config(**overrides))
    return run_counterfactual(validate_inputs(model, train, test, config))


@pytest.mark.parametrize("method", ["sparse", "dice"])
def test_validity_is_rechecked_with_the_real_model(binary_data, method) -> None:
    train, test, model = binary_data
    result = _run(model, train, test, method=method)
    cfs = result.tables["counterfactuals"]
    assert len(cfs) > 0
    original = model.predict(test[FEATURES])
    repredicted = model.predict(cfs[FEATURES])
    np.testing.assert_array_equal(cfs["valid"], repredicted != original[cfs["row"]])
    assert result.summary["validity"] == pytest.approx(
        (cfs["valid"] & cfs["respects_constraints"]).mean()
    )
    assert result.summary["validity_prediction_only"] == pytest.approx(cfs["valid"].mean())
    changed = (
        cfs[FEATURES].astype(str).to_numpy()
        != test.loc[cfs["row"], FEATURES].astype(str).to_numpy()
    ).sum(axis=1)
    np.testing.assert_array_equal(cfs["n_changed"], changed)
    rows = result.tables["rows"]
    assert list(rows["row"]) == [0, 1, 2]
    assert (rows.loc[rows["found"] >= 2, "diversity"] > 0).all()
    # the original rows travel with the bundle, so changed features can be highlighted
    queries = result.tables["queries"]
    assert list(queries["row"]) == [0, 1, 2]
    np.testing.assert_array_equal(queries["predicted"], original[[0, 1, 2]])
    pd.testing.assert_frame_equal(
        queries[FEATURES].reset_index(drop=True),
        test.iloc[[0, 1, 2]][FEATURES].reset_index(drop=True),
    )


@pytest.mark.parametrize("method", ["sparse", "dice"])
def test_frozen_features_and_permitted_ranges_hold(binary_data, method) -> None:
    train, test, model = binary_data
    result = _run(
        model,
        train,
        test,
        method=method,
        features_to_vary=["x_strong", "colour"],
        permitted_range={"x_strong": [-2.5, 2.5]},
    )
    cfs = result.tables["counterfactuals"]
    assert len(cfs) > 0
    for frozen in ("noise_a", "noise_b", "sex"):
        np.testing.assert_array_equal(
            cfs[frozen].to_numpy(), test.loc[cfs["row"], frozen].to_numpy()
        )
    moved = cfs["x_strong"].to_numpy() != test.loc[cfs["row"], "x_strong"].to_numpy()
    inside = cfs["x_strong"].between(-2.5, 2.5).to_numpy()
    np.testing.assert_array_equal(cfs["respects_constraints"], ~moved | inside)


def test_infeasible_constraints_say_why(binary_data) -> None:
    train, test, model = binary_data
    confident = np.flatnonzero(model.predict_proba(test[FEATURES]).max(axis=1) >= 0.99)[:2]
    result = _run(model, train, test, rows=[int(r) for r in confident], features_to_vary=["sex"])
    rows = result.tables["rows"]
    assert set(rows["status"]) == {"no_counterfactual"}
    assert rows["reason"].str.contains(r"while varying \['sex'\]").all()
    assert result.summary["rows_with_counterfactuals"] == 0
    assert result.summary["validity"] is None


class SlowModel:
    """Delegates to a fitted model after sleeping: every model call takes >= ``pause``."""

    def __init__(self, model, pause: float) -> None:
        self.model, self.pause = model, pause
        self.classes_ = model.classes_

    def predict(self, frame):
        time.sleep(self.pause)
        return self.model.predict(frame)

    def predict_proba(self, frame):
        time.sleep(self.pause)
        return self.model.predict_proba(frame)


@pytest.mark.parametrize("method", ["sparse", "dice"])
def test_per_row_time_limit(binary_data, method) -> None:
    """Every search step is a model call of >= 20 ms, so a 1 ms limit has always passed
    when the first step returns: the row must time out, on any machine and under any load
    (load only makes the step longer). total_cfs=1 is the case the timer missed: the
    first step finds enough, so the search would otherwise return at once."""
    train, test, model = binary_data
    slow = SlowModel(model, pause=0.02)
    result = _run(
        slow, train, test, rows=[0, 1], time_limit_seconds=0.001, total_cfs=1, method=method
    )
    rows = result.tables["rows"]
    assert rows["status"].tolist() == ["timeout", "timeout"]
    assert rows["reason"].str.contains("0.001s per-row limit").all()
    assert result.summary["found"] == 0


def test_time_limit_is_checked_after_every_model_call(binary_data) -> None:
    """A fake clock advancing 1 s per reading: the limit passes after exactly N readings,
    whatever the machine does. Rows that finish inside the limit are kept."""
    train, test, model = binary_data
    config = RaiConfig.from_dict(
        base_config(counterfactual={"rows": [0], "total_cfs": 2}, gates=[])
    )
    job = _job(validate_inputs(model, train, test, config))
    query = [(0, test.iloc[[0]][FEATURES].reset_index(drop=True))]

    def ticking():
        state = {"now": 0.0}

        def clock() -> float:
            state["now"] += 1.0
            return state["now"]

        return clock, state

    clock, state = ticking()
    generous = search_rows(replace(job, time_limit=1e6), query, clock=clock)
    assert generous[0].status == "ok"
    readings = int(state["now"])  # clock readings the whole search took
    assert readings >= 3  # the deadline is set, then read before and after each call
    # a limit that expires before the last reading times the row out ...
    clock, _ = ticking()
    assert search_rows(replace(job, time_limit=readings - 2), query, clock=clock)[0].status == (
        "timeout"
    )
    # ... and even one reading (one second) in: the check before the first call
    clock, _ = ticking()
    assert search_rows(replace(job, time_limit=0.5), query, clock=clock)[0].status == "timeout"


def test_parallel_rows_match_sequential(binary_data) -> None:
    train, test, model = binary_data
    sequential = _run(model, train, test, rows=[0, 1, 2, 3], n_jobs=1)
    parallel = _run(model, train, test, rows=[0, 1, 2, 3], n_jobs=2)
    pd.testing.assert_frame_equal(
        sequential.tables["counterfactuals"], parallel.tables["counterfactuals"]
    )
    pd.testing.assert_frame_equal(sequential.tables["rows"], parallel.tables["rows"])


def test_regression_desired_range() -> None:
    frame = known_regression(400)
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    model = forest_pipeline(train, regression=True)
    result = _run(model, train, test, task="regression", desired_range=[4.0, 8.0], rows=[0, 1])
    cfs = result.tables["counterfactuals"]
    predicted = model.predict(cfs[FEATURES])
    np.testing.assert_array_equal(cfs["valid"], (predicted >= 4.0) & (predicted <= 8.0))
    assert result.summary["desired"] == [4.0, 8.0]


def test_multiclass_desired_class() -> None:
    frame = known_classification(400, n_classes=3)
    train, test = frame.iloc[:300].reset_index(drop=True), frame.iloc[300:].reset_index(drop=True)
    model = forest_pipeline(train)
    result = _run(model, train, test, task="multiclass", desired_class="c", rows=[0, 1])
    cfs = result.tables["counterfactuals"]
    assert len(cfs) > 0
    np.testing.assert_array_equal(cfs["valid"], model.predict(cfs[FEATURES]) == "c")


def test_time_limit_holds_outside_the_main_thread(binary_data) -> None:
    train, test, model = binary_data
    slow = SlowModel(model, pause=0.02)
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(_run, slow, train, test, rows=[0], time_limit_seconds=0.001).result()
    assert result.tables["rows"].iloc[0]["status"] == "timeout"


def test_validity_counts_only_counterfactuals_that_respect_every_constraint(
    binary_data, monkeypatch
) -> None:
    """Two counterfactuals that both flip the prediction; one leaves the permitted range."""
    from rai.components import counterfactual as module
    from rai.components.counterfactual_search import RowOutcome

    train, test, model = binary_data
    query = test.iloc[[0]][FEATURES].reset_index(drop=True)
    flipped = 5.0 if model.predict(query)[0] == 0 else -5.0
    inside = query.assign(x_strong=np.sign(flipped) * 2.0)
    outside = query.assign(x_strong=flipped)
    crafted = pd.concat([inside, outside], ignore_index=True)
    assert (model.predict(crafted) != model.predict(query)[0]).all()

    def fake_search(job, queries):
        return [RowOutcome(row=r, status="ok", counterfactuals=crafted.copy()) for r, _ in queries]

    monkeypatch.setattr(module, "search_rows", fake_search)
    result = _run(model, train, test, rows=[0], permitted_range={"x_strong": [-3.0, 3.0]})
    cfs = result.tables["counterfactuals"]
    assert cfs["valid"].tolist() == [True, True]
    assert cfs["respects_constraints"].tolist() == [True, False]
    assert result.summary["validity"] == 0.5
    assert result.summary["validity_prediction_only"] == 1.0


def test_boolean_feature_is_caught_before_work_with_the_fix(binary_data) -> None:
    from rai.errors import RaiDataError

    train, test, model = binary_data
    flagged = [f.assign(flag=f["x_strong"] > 0) for f in (train, test)]
    with pytest.raises(RaiDataError, match=r"\{'flag': 'bool'\}.*Cast boolean columns to int"):
        _run(model, *flagged)


def test_sparse_search_changes_one_feature_when_one_suffices(binary_data) -> None:
    """``x_strong`` alone moves any row across the boundary of the known process, so
    every counterfactual changes exactly one feature (sorted by features changed)."""
    train, test, model = binary_data
    result = _run(model, train, test, rows=[0, 1, 2, 3, 4], total_cfs=3)
    cfs = result.tables["counterfactuals"]
    assert len(cfs) == 15
    assert (cfs["n_changed"] == 1).all()
    assert result.summary["validity"] == 1.0


def test_sparse_counterfactuals_cannot_put_back_a_changed_feature(binary_data) -> None:
    """Recomputed with the real model: restoring any one changed feature of a returned
    counterfactual to the query's value loses the desired outcome."""
    train, test, model = binary_data
    # 40 per row: more than the single-feature moves, so the search goes on to pairs
    result = _run(model, train, test, rows=list(range(6)), total_cfs=40)
    cfs = result.tables["counterfactuals"]
    assert (cfs["n_changed"] >= 2).any()  # the check below is not vacuous
    trials, owners = [], []
    for i, cf in cfs.iterrows():
        query = test.iloc[int(cf["row"])]
        for feature in FEATURES:
            if str(cf[feature]) != str(query[feature]):
                trial = cf[FEATURES].copy()
                trial[feature] = query[feature]
                trials.append(trial)
                owners.append(i)
    frame = pd.DataFrame(trials).astype(test[FEATURES].dtypes.to_dict())
    original = model.predict(test[FEATURES])[cfs.loc[owners, "row"].to_numpy()]
    assert (model.predict(frame) == original).all()


def test_sparse_search_finds_the_nearest_single_feature_flip(binary_data) -> None:
    """Against a brute-force scan of 4,000 values of ``x_strong`` with the real model:
    the closest counterfactual changing only ``x_strong`` is within 0.05 (a twentieth of
    its standard deviation) of the nearest value that flips the prediction."""
    train, test, model = binary_data
    rows = [0, 1, 2, 3]
    result = _run(model, train, test, rows=rows, total_cfs=3, features_to_vary=["x_strong"])
    cfs = result.tables["counterfactuals"]
    scan = np.linspace(train["x_strong"].min(), train["x_strong"].max(), 4000)
    for row in rows:
        query = test.iloc[[row]][FEATURES]
        grid = pd.concat([query] * len(scan), ignore_index=True).assign(x_strong=scan)
        flips = scan[model.predict(grid) != model.predict(query)[0]]
        nearest = np.abs(flips - query["x_strong"].iloc[0]).min()
        ours = np.abs(cfs.loc[cfs["row"] == row, "x_strong"] - query["x_strong"].iloc[0]).min()
        assert nearest - 0.002 <= ours <= nearest + 0.05


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"method": "greedy"}, r"'counterfactual.method' must be one of \['sparse', 'dice'\]"),
        ({"time_limit_seconds": 0}, r"'counterfactual.time_limit_seconds' must be above 0"),
    ],
)
def test_bad_search_settings_are_refused(settings, message) -> None:
    from rai.errors import RaiConfigError

    with pytest.raises(RaiConfigError, match=message):
        RaiConfig.from_dict(base_config(counterfactual=settings))
