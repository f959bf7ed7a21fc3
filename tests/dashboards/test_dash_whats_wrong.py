"""The "what is wrong" card and the severity order, on hand-made results with a known answer,
and on the seeded demo store under AppTest."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from dashboards.labels import format_value, metric_label
from dashboards.whats_wrong import findings, severity, sort_by_severity
from tests.dashboards.apptest import frame_with, no_exception, run_page, texts

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2026-03-01", tz="UTC")


def _result(day: int, feature: str, metric: str, value: float, threshold: float, status: str,
            signal: str = "data_drift", details: dict | None = None) -> dict:  # fmt: skip
    return {
        "run_id": day, "window_start": T0 + day * DAY, "window_end": T0 + (day + 1) * DAY,
        "signal": signal, "feature": feature, "metric": metric, "value": value,
        "threshold": threshold, "status": status, "p_value": None, "reference_size": 100,
        "current_size": 100, "message": None, "details": details or {},
    }  # fmt: skip


def test_severity_follows_the_metric_direction() -> None:
    assert severity("wasserstein", 0.5, 0.1) == pytest.approx(5.0)
    assert severity("ks", 0.001, 0.05) == pytest.approx(50.0)  # a p-value: smaller is worse
    assert severity("accuracy", 0.6, 0.7, {"higher_is_better": True}) == pytest.approx(7 / 6)
    assert severity("log_loss", 0.9, 0.6, {"higher_is_better": False}) == pytest.approx(1.5)
    assert math.isnan(severity("wasserstein", None, 0.1))


def test_drift_rows_are_sorted_alert_first_then_furthest_past_threshold() -> None:
    frame = pd.DataFrame([
        _result(0, "a", "wasserstein", 0.05, 0.1, "ok"),
        _result(0, "b", "wasserstein", 0.2, 0.1, "alert"),
        _result(0, "c", "ks", 0.0001, 0.05, "alert"),
        _result(0, "d", "wasserstein", 0.09, 0.1, "warning"),
    ])  # fmt: skip
    assert sort_by_severity(frame)["feature"].tolist() == ["c", "b", "d", "a"]


def test_findings_say_since_when_which_features_and_what_next() -> None:
    rows = [_result(0, "income", "wasserstein", 0.05, 0.1, "ok")]
    rows += [_result(d, "income", "wasserstein", 0.3 + d / 10, 0.1, "alert") for d in (1, 2)]
    rows += [_result(3, "income", "rows", 0.0, 0.0, "no_data")]  # a gap does not end the streak
    rows += [_result(4, "income", "wasserstein", 0.7, 0.1, "alert")]
    rows += [_result(4, "purpose", "jensenshannon", 0.2, 0.1, "alert")]
    rows += [_result(4, "age", "wasserstein", 0.01, 0.1, "ok")]
    rows += [_result(4, "age", "null_rate", 0.2, 0.05, "alert", signal="data_quality")]
    [drift, quality] = sorted(findings(pd.DataFrame(rows), 4), key=lambda f: f.signal)
    assert drift.title == "Data drift"
    assert drift.since == T0 + DAY and drift.windows == 3
    assert [t.feature for t in drift.top] == ["income", "purpose"]  # 7× before 2×
    assert drift.top[0].metric == "Wasserstein distance (in reference std)"
    assert drift.top[0].value == "0.7" and drift.top[0].threshold == "0.1"
    assert "Drift tab" in drift.next_step
    assert quality.since == T0 + 4 * DAY and quality.windows == 1
    assert quality.top[0].value == "20.0%"  # rates as percentages


def test_labels_fall_back_to_readable_words() -> None:
    assert metric_label("unseen_category_rate") == "new-category rate"
    assert metric_label("some_new_metric") == "some new metric"
    assert format_value("psi", float("nan")) == "—"


def test_model_page_card_on_a_drifted_run(demo_env: Path) -> None:
    at = run_page("model", model="credit", version="1", monitor="credit-daily")
    no_exception(at)
    shown = texts(at)
    assert "What is wrong in this window" in shown
    assert "**🔴 Data drift** — in alert since the window starting" in shown
    cards = [e.value for e in at.dataframe if "past threshold" in e.value.columns]
    card = next(c for c in cards if "Wasserstein" in " ".join(c["measure"]))
    assert sorted(card["feature"].tolist()[:2]) == ["income", "purpose"]  # most severe first
    assert card.set_index("feature").loc["income", "measure"] == "Wasserstein distance (in reference std)"
    assert "Next step:" in shown
    assert "Permalink to this run" in shown
    drift = frame_with(at, "p_value")
    statuses = [s.split()[-1] for s in drift["status"]]
    assert statuses == sorted(statuses, key=["alert", "warning", "ok", "data"].index)
    assert "None" not in drift["message"].tolist() and drift["message"].notna().all()


def test_run_card_links_the_windows_rai_review() -> None:
    from dashboards.views.model_summary import rai_review_of

    run = pd.Series({"id": 3, "details": {"rai_review": {"status": "built", "bundle": "/b/x"}}})
    assert rai_review_of(run) == {"status": "built", "bundle": "/b/x"}
    assert rai_review_of(pd.Series({"id": 3, "details": None})) == {}


def _card_of_a_reviewed_run() -> None:
    import pandas as pd

    from dashboards.views.model_summary import what_is_wrong

    review = {"status": "built", "bundle": "/data/bundles/credit-daily/20261005T000000Z", "gates_passed": True}
    run = pd.Series({"id": 7, "status": "ok", "details": {"rai_review": review}})
    empty = pd.DataFrame(columns=["run_id", "signal", "feature", "metric", "value", "threshold", "status"])
    what_is_wrong("credit", "1", "credit-daily", run, empty)


def test_the_run_card_links_the_bundle_its_review_produced() -> None:
    """A run whose scheduled RAI review built a bundle links it (the RAI page opens that
    bundle from ``?bundle=``, see test_dash_rai)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_card_of_a_reviewed_run).run()
    no_exception(at)
    link = "[RAI review of this window (gates pass)](./rai?bundle=/data/bundles/credit-daily/20261005T000000Z)"
    assert link in texts(at)


def _card_with_a_quality_alert() -> None:
    import pandas as pd

    from dashboards.views.model_summary import what_is_wrong

    t0 = pd.Timestamp("2026-03-01", tz="UTC")
    row = {"run_id": 1, "window_start": t0, "window_end": t0 + pd.Timedelta(days=1),
           "signal": "data_quality", "feature": "purpose", "metric": "unseen_category_rate",
           "value": 0.3, "threshold": 0.05, "status": "alert", "p_value": None,
           "reference_size": 100, "current_size": 100, "message": None, "details": {}}  # fmt: skip
    run = pd.Series({"id": 1, "status": "alert", "details": {}})
    examples = {"purpose": "new categories: boat (2), plane (1)"}
    what_is_wrong("credit", "1", "m", run, pd.DataFrame([row]), examples=examples.get)


def test_card_names_the_new_categories_of_a_quality_alert() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_card_with_a_quality_alert).run()
    no_exception(at)
    assert "**purpose**: new categories: boat (2), plane (1)" in texts(at)
    assert "new-category rate" in " ".join(frame_with(at, "measure")["measure"])


def test_quality_examples_from_window_values() -> None:
    from dashboards.distributions import ColumnHistogram, quality_examples

    cats = ColumnHistogram("categorical", counts=(3.0, 1.0), categories=("car", "home"))
    assert quality_examples(cats, ["car", "home"]) is None
    many = [f"c{i}" for i in range(7)]
    assert quality_examples(cats, many, limit=2) == "new categories: c0 (1), c1 (1) and 5 more"
    nums = ColumnHistogram("numeric", edges=(0.0, 10.0), counts=(5.0,))
    assert quality_examples(nums, [0.0, 10.0, 5.0]) is None  # the edges are inside
    assert quality_examples(nums, ["x", 11]) == (
        "1 values outside the baseline range [0, 10]: lowest 11, highest 11"
    )
