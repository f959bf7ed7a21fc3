"""The model page's segment selector and segment heatmap, on the seeded demo store
(whose monitor watches each ``employment`` segment; retirees drift before everyone)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboards.charts_segments import ALL_TRAFFIC, segment_heatmap, segment_matrix
from tests.dashboards.apptest import frame_with, no_exception, run_page, texts
from tests.dashboards.conftest import DRIFT_DAY


def _segment_box(at):  # type: ignore[no-untyped-def]
    return next(s for s in at.sidebar.selectbox if s.label == "Segment")


def test_segment_selector_lists_the_segments_and_filters_the_page(demo_env: Path) -> None:
    at = run_page("model", model="credit", version="1")
    no_exception(at)
    box = _segment_box(at)
    assert box.options[0] == ALL_TRAFFIC
    assert {"employment=retired", "employment=employed", "employment=self-employed"} <= set(box.options)
    assert "Showing segment" not in texts(at)
    at = box.set_value("employment=retired").run()
    no_exception(at)
    assert "Showing segment" in texts(at) and "employment=retired" in texts(at)
    assert "employment=retired" in str(at.query_params["segment"])  # the view is linkable


def test_segment_from_the_url_and_the_heatmap_table_of_cells_to_look_at(demo_env: Path) -> None:
    at = run_page("model", model="credit", version="1", segment="employment=retired")
    no_exception(at)
    assert _segment_box(at).value == "employment=retired"
    cells = frame_with(at, "segment")  # under the heatmap: the cells in alert, no_data or error
    assert not cells.empty and set(cells["status"]) <= {"alert", "no_data", "error"}
    assert cells["segment"].str.startswith("employment=").all()


def test_early_window_retirees_alert_while_the_aggregate_does_not(demo_env: Path) -> None:
    at = run_page("model", model="credit", version="1")
    run_box = next(s for s in at.sidebar.selectbox if s.label == "Run (window)")
    early = run_box.options[-(1 + 1)]  # runs are newest first: the second window (day 1)
    at = run_box.set_value(early).run()
    no_exception(at)
    cells = frame_with(at, "segment")
    drifted = cells[(cells["signal"] == "data_drift") & (cells["status"] == "alert")]
    assert "employment=retired" in set(drifted["segment"]), cells
    shown = texts(at)  # the whole-traffic view names the segments in alert
    assert "Segments in alert in this window" in shown and "data_drift: purpose" in shown
    assert DRIFT_DAY > 1  # the aggregate drift starts later: day 1 is the segment's alone


def test_segment_matrix_takes_the_worst_status_and_puts_the_whole_window_first() -> None:
    results = pd.DataFrame({
        "segment": [None, None, "region=EU", "region=EU", "region=US", "region=US"],
        "signal": ["data_drift", "data_quality", "data_drift", "data_drift", "data_drift", "data_quality"],
        "status": ["ok", "warning", "ok", "alert", "no_data", "ok"],
    })  # fmt: skip
    matrix = segment_matrix(results)
    assert list(matrix.index) == [ALL_TRAFFIC, "region=EU", "region=US"]
    assert matrix.loc["region=EU", "data_drift"] == "alert"
    assert matrix.loc[ALL_TRAFFIC, "data_quality"] == "warning"
    assert pd.isna(matrix.loc["region=EU", "data_quality"])  # not run there: a blank cell
    fig = segment_heatmap(matrix, title="t")
    assert list(fig.data[0].y) == list(matrix.index) and list(fig.data[0].x) == list(matrix.columns)
    assert fig.data[0].z[1][0] == 3  # alert's place in the colour scale


def test_overview_names_the_segment_of_a_segment_alert(demo_env: Path) -> None:
    at = run_page("overview")
    no_exception(at)
    in_alert = at.dataframe[0].value.set_index("model").loc["credit", "in_alert"]
    assert "[employment=" in in_alert  # e.g. "income [employment=retired]"
