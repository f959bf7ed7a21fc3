"""Fairness figures equal fairlearn called directly; small groups are flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, forest_pipeline, known_classification, known_regression
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import mean_absolute_error, recall_score

from rai.components.fairness import run_fairness
from rai.config import RaiConfig
from rai.validate import validate_inputs


def _run(model, train, test, **overrides):
    config = RaiConfig.from_dict(base_config(gates=[], **overrides))
    return run_fairness(validate_inputs(model, train, test, config))


@pytest.fixture(scope="module")
def two_sensitive(binary_data):
    train, test, model = binary_data
    result = _run(model, train, test, sensitive_features=["sex", "colour"])
    return test, model, result


def test_binary_figures_equal_fairlearn(two_sensitive) -> None:
    test, model, result = two_sensitive
    y_true, y_pred = test["label"], model.predict(test.drop(columns="label"))
    agg = result.summary["features"]["sex"]["aggregates"]
    assert agg["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(y_true, y_pred, sensitive_features=test["sex"])
    )
    assert agg["demographic_parity_ratio"] == pytest.approx(
        demographic_parity_ratio(y_true, y_pred, sensitive_features=test["sex"])
    )
    assert agg["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(y_true, y_pred, sensitive_features=test["sex"])
    )
    direct = MetricFrame(
        metrics={
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "fnr": false_negative_rate,
            "selection_rate": selection_rate,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=test["colour"],
    )
    table = result.tables["group_metrics"]
    colour = table[table["sensitive_feature"] == "colour"].pivot(
        index="group", columns="metric", values="value"
    )
    for metric in ("tpr", "fpr", "fnr", "selection_rate"):
        np.testing.assert_allclose(
            colour[metric].loc[direct.by_group.index], direct.by_group[metric]
        )
    assert result.summary["features"]["colour"]["aggregates"]["tpr_difference"] == pytest.approx(
        direct.difference()["tpr"]
    )


def test_intersection_of_sensitive_features(two_sensitive) -> None:
    test, model, result = two_sensitive
    assert "sex & colour" in result.summary["features"]
    groups = result.summary["features"]["sex & colour"]["groups"]
    assert len(groups) == 6
    assert groups["sex=f, colour=red"] == int(
        ((test["sex"] == "f") & (test["colour"] == "red")).sum()
    )
    y_pred = model.predict(test.drop(columns="label"))
    direct = MetricFrame(
        metrics=selection_rate,
        y_true=test["label"],
        y_pred=y_pred,
        sensitive_features=test[["sex", "colour"]],
    )
    agg = result.summary["features"]["sex & colour"]["aggregates"]
    assert agg["selection_rate_difference"] == pytest.approx(direct.difference())


def test_bootstrap_intervals_are_seeded_and_bracket_the_value(binary_data) -> None:
    train, test, model = binary_data
    first = _run(model, train, test)
    again = _run(model, train, test)
    pd.testing.assert_frame_equal(first.tables["group_metrics"], again.tables["group_metrics"])
    table = first.tables["group_metrics"]
    assert (table["ci_low"] <= table["value"] + 1e-12).all()
    assert (table["ci_high"] >= table["value"] - 1e-12).all()
    low, high = first.summary["features"]["sex"]["aggregate_intervals"][
        "demographic_parity_difference"
    ]
    assert low < high
    other = _run(model, train, test, seed=7)
    assert not other.tables["group_metrics"]["ci_low"].equals(table["ci_low"])


def test_small_group_is_flagged(binary_data) -> None:
    train, test, model = binary_data
    rare = test.copy()
    rare.loc[:4, "sex"] = "x"  # five rows only; the model ignores unknown categories
    result = _run(model, train, rare, fairness={"min_group_size": 30, "bootstrap": 20})
    info = result.summary["features"]["sex"]
    assert info["small_groups"] == ["x"]
    assert info["groups"]["x"] == 5
    table = result.tables["group_metrics"]
    assert table.loc[table["group"] == "x", "too_small"].all()
    assert not table.loc[table["group"] != "x", "too_small"].any()


def test_regression_and_multiclass_metrics() -> None:
    frame = known_regression(400)
    train, test = frame.iloc[:300], frame.iloc[300:]
    model = forest_pipeline(train, regression=True)
    result = _run(model, train, test, task="regression", counterfactual={"desired_range": [0, 1]})
    y_pred = model.predict(test.drop(columns="label"))
    direct = MetricFrame(
        metrics=mean_absolute_error,
        y_true=test["label"],
        y_pred=y_pred,
        sensitive_features=test["sex"],
    )
    assert result.summary["features"]["sex"]["aggregates"]["mae_difference"] == pytest.approx(
        direct.difference()
    )

    frame = known_classification(400, n_classes=3)
    train, test = frame.iloc[:300], frame.iloc[300:]
    model = forest_pipeline(train)
    result = _run(model, train, test, task="multiclass", counterfactual={"desired_class": "a"})
    y_pred = model.predict(test.drop(columns="label"))
    direct = MetricFrame(
        metrics=lambda t, p: recall_score(
            t, p, labels=["a", "b", "c"], average="macro", zero_division=0
        ),
        y_true=test["label"],
        y_pred=y_pred,
        sensitive_features=test["sex"],
    )
    assert result.summary["features"]["sex"]["aggregates"][
        "macro_recall_difference"
    ] == pytest.approx(direct.difference())


def test_two_group_result_has_signed_difference_p_value_counts_and_ratios(binary_data) -> None:
    train, test, model = binary_data
    result = _run(model, train, test, fairness={"bootstrap": 200, "permutations": 200})
    info = result.summary["features"]["sex"]
    y_pred = model.predict(test.drop(columns="label"))
    rates = pd.Series(y_pred).groupby(test["sex"]).mean()
    signed = info["signed_differences"]["selection_rate"]
    assert signed["groups"] == ["f", "m"]
    assert signed["difference"] == pytest.approx(rates["m"] - rates["f"])
    low, high = signed["ci"]
    assert low < signed["difference"] < high
    dpd_low, dpd_high = info["aggregate_intervals"]["demographic_parity_difference"]
    # the interval of |difference| is the one implied by the signed interval
    assert dpd_high == pytest.approx(max(abs(low), abs(high)))
    assert dpd_low == pytest.approx(0.0 if low <= 0 <= high else min(abs(low), abs(high)))
    assert 0 < info["p_values"]["demographic_parity_difference"] <= 1
    table = result.tables["group_metrics"]
    rows = table[(table["sensitive_feature"] == "sex") & (table["metric"] == "selection_rate")]
    assert rows.set_index("group")["count"].to_dict() == test["sex"].value_counts().to_dict()
    np.testing.assert_allclose(
        rows.set_index("group")["ratio_to_max"].sort_index(), rates / rates.max()
    )
    pairs = result.tables["pairwise_differences"]
    assert set(pairs.columns) >= {"group_a", "group_b", "difference", "ci_low", "ci_high"}
