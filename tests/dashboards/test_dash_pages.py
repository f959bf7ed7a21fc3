"""Every monitoring page under AppTest on the seeded demo store."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.dashboards.apptest import frame_with, no_exception, run_page, texts
from tests.dashboards.conftest import DEMO_DAYS, QUIET_DAYS, window_of


def test_overview_lists_every_version_with_its_badge_and_alerts(demo_env: Path) -> None:
    at = run_page("overview")
    no_exception(at)
    fleet = at.dataframe[0].value.set_index("model")
    assert fleet.loc["credit", "status"] == "alert"
    assert "income" in fleet.loc["credit", "in_alert"]
    assert "purpose" in fleet.loc["credit", "in_alert"]
    assert fleet.loc["churn", "status"] == "error"
    assert fleet.loc["fraud", "status"] == "no_data"
    assert [m.value for m in at.metric][:3] == ["1", "1", "0"]  # error, alert, warning


def test_overview_status_survives_windows_without_traffic(demo_env: Path) -> None:
    """After the outage the model is still in alert (its alerts fire, its last window
    with data drifted, and the traffic signal fired on the third window without rows),
    the empty windows are left out of the sparkline (not zeros), and the page says there is no traffic
    from the traffic signal's stored result."""
    at = run_page("overview")
    no_exception(at)
    credit = at.dataframe[0].value.set_index("model").loc["credit"]
    assert credit["status"] == "alert"
    drift = list(credit["drift"])
    # the line holds the windows with rows only: the quiet ones are neither zeros (a false
    # recovery) nor gaps (Streamlit would print the list as text)
    assert len(drift) == DEMO_DAYS and not any(pd.isna(v) for v in drift)
    assert drift[-1] > 0  # the last window with data drifted
    assert credit["rows"] > 0
    since = window_of(DEMO_DAYS)[0]
    expected = f"no traffic for {QUIET_DAYS} windows in a row (since {since:%Y-%m-%d %H:%M}; alerts from 3)"
    assert credit["quiet"] == expected
    assert f"credit:1 has {expected}" in texts(at)
    assert "traffic" in credit["in_alert"].split("; ")  # the signal fired (QUIET_DAYS = its default)
    assert credit["unhandled"] > 0


def test_model_page_opens_on_the_latest_window_with_data(demo_env: Path) -> None:
    at = run_page("model", model="credit", version="1", monitor="credit-daily")
    no_exception(at)
    runs = frame_with(at, "report")
    with_data = runs[runs["row_count"] > 0]
    assert at.sidebar.selectbox[2].value == int(with_data["id"].iloc[0])
    assert int(runs["id"].iloc[0]) != int(with_data["id"].iloc[0])  # newer empty windows exist
    shown = texts(at)
    since = window_of(DEMO_DAYS)[0]
    assert f"No traffic: no traffic for {QUIET_DAYS} windows in a row (since {since:%Y-%m-%d %H:%M}" in shown
    assert "The traffic signal is in alert" in shown
    assert "This run has no drift results" not in shown  # an empty window was not chosen
    assert "No baseline histogram" not in shown


def test_overview_search_and_status_filter(demo_env: Path) -> None:
    at = run_page("overview")
    at.text_input(key="fleet_search").input("income").run()
    assert at.dataframe[0].value["model"].tolist() == ["credit"]
    at.text_input(key="fleet_search").input("").run()
    at.multiselect(key="fleet_status").select("no_data").run()
    assert at.dataframe[0].value["model"].tolist() == ["fraud"]


def test_model_page_shows_drifted_features_and_overlay(demo_env: Path) -> None:
    at = run_page("model", model="credit", version="1")
    no_exception(at)
    shown = texts(at)
    assert "credit:1" in shown
    drifted_line = next(line for line in shown.splitlines() if line.startswith("**Drifted in this window:**"))
    listed = drifted_line.removeprefix("**Drifted in this window:** ").split(" · ")[0]
    assert sorted(listed.split(", ")) == ["income", "purpose"]  # most severe first
    drift = frame_with(at, "p_value").set_index("feature")
    assert drift.loc["income", "status"].endswith("alert")
    assert drift.loc["age", "status"].endswith("ok")
    assert at.selectbox(key="overlay_feature").value == listed.split(", ")[0]  # the most severe
    at.selectbox(key="overlay_feature").set_value("income").run()
    assert "window rows · stored Wasserstein distance (in reference std) = 0.70" in texts(at)
    # The demo's labels arrive: realised and estimated performance share one panel per metric.
    assert "No performance results yet" not in shown
    specs = {chart.proto.id: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}
    [panels] = [s for s in specs.values() if "rows per window" in json.dumps(s["layout"])]
    names = {(t.get("name"), t.get("yaxis", "y")) for t in panels["data"]}
    assert ("realised (labels)", "y") in names and ("estimated", "y") in names  # same panel
    titles = [a["text"] for a in panels["layout"]["annotations"] if "threshold" not in a["text"]]
    assert titles[:2] == ["accuracy", "precision"] and titles[-1].startswith("rows per window")


def test_model_page_overlay_for_a_categorical_feature_and_an_early_run(demo_env: Path) -> None:
    at = run_page("model", model="credit", version="1")
    oldest = int(frame_with(at, "report")["id"].iloc[-1])
    at.sidebar.selectbox[2].set_value(oldest).run()
    no_exception(at)
    assert "**Drifted in this window:** none" in texts(at)
    at.selectbox(key="overlay_feature").set_value("purpose").run()
    no_exception(at)


def test_model_page_links_the_exported_report(demo_env: Path) -> None:
    at = run_page("model", model="credit", version="1")
    runs = frame_with(at, "report")
    assert runs[runs["row_count"] > 0]["report"].iloc[0] == "yes"  # the newest with data
    assert at.get("download_button")


def test_failed_run_says_what_happened_and_what_to_do(demo_env: Path) -> None:
    at = run_page("model", model="churn", version="2")
    no_exception(at)
    shown = texts(at)
    assert "failed" in shown and "unreadable file" in shown
    assert "raiwatch monitor run" in shown
    assert "Traceback" not in shown


def test_version_without_runs_shows_how_to_start(demo_env: Path) -> None:
    at = run_page("model", model="fraud", version="3")
    no_exception(at)
    assert "No runs yet for this model version" in texts(at)


def test_alerts_page_history_deliveries_and_attempts(demo_env: Path) -> None:
    at = run_page("alerts")
    no_exception(at)
    states = frame_with(at, "last_fired_at")
    states = states[states["monitor"] == "credit-daily"].set_index("signal")
    assert states.loc["data_drift", "state"] == "firing"
    assert states.loc["traffic", "state"] == "firing"  # the outage after the demo's last day
    deliveries = frame_with(at, "message_id")
    assert set(deliveries["status"]) == {"delivered", "dead", "pending"}
    # the outage's events are queued for the demo's receiver, which stopped with the demo
    pending = deliveries[deliveries["status"] == "pending"]
    assert set(pending["event_type"]) == {"monitor.alert.firing", "model.traffic.missing"}
    assert at.get("plotly_chart")  # alert timeline and latency chart


@pytest.mark.parametrize("confirm", [True, False])
def test_redelivery_needs_confirmation(demo_env: Path, confirm: bool) -> None:
    from monitor.store import Store

    store = Store(f"sqlite:///{demo_env / 'raiwatch.db'}")
    dead = [d.id for d in store.list_deliveries(status="dead")]
    at = run_page("alerts")
    at.multiselect(key="delivery_status").select("dead").run()
    at.selectbox(key="delivery_id").set_value(dead[0]).run()
    at.button(key="redeliver_ask").click().run()
    assert "same webhook-id" in texts(at)
    assert [d.id for d in store.list_deliveries(status="dead")] == dead  # nothing yet
    at.button(key="redeliver_confirm" if confirm else "redeliver_cancel").click().run()
    no_exception(at)
    still_dead = [d.id for d in store.list_deliveries(status="dead")]
    if confirm:
        assert dead[0] not in still_dead
        assert "is queued again" in texts(at)
    else:
        assert still_dead == dead
    store.dispose()


def test_alerts_are_firing_first_linked_to_their_runs(demo_env: Path) -> None:
    at = run_page("alerts")
    no_exception(at)
    states = frame_with(at, "last_fired_at")
    order = states["state"].tolist()
    assert order == sorted(order, key=["firing", "resolved", "ok"].index)
    firing = states[states["state"] == "firing"].iloc[0]
    assert firing["run"] == (
        f"./model?model=credit&version=1&monitor={firing['monitor']}&run={int(firing['last_run_id'])}"
    )
    # the run link opens the model page on that run
    linked = run_page(
        "model",
        model="credit",
        version="1",
        monitor=firing["monitor"],
        run=str(firing["last_run_id"]),
    )
    no_exception(linked)
    assert linked.sidebar.selectbox[2].value == int(firing["last_run_id"])


def test_webhook_payload_is_viewable(demo_env: Path) -> None:
    at = run_page("alerts")
    payloads = [json.loads(j.proto.body) for j in at.get("json")]
    assert payloads, "no payload shown"
    payload = payloads[0]  # the newest delivery: the traffic outage after the demo's last day
    assert payload["type"] in ("monitor.alert.firing", "model.traffic.missing")
    assert payload["data"]["monitor"] == "credit-daily"
    assert "traffic" in [s["signal"] for s in payload["data"]["signals"]]
    assert "whsec_" not in json.dumps(payload)  # the signing secret is never in the body


def test_acknowledge_and_silence_are_stored_and_shown_on_the_overview(demo_env: Path) -> None:
    from monitor.store import Store

    before = run_page("overview").dataframe[0].value.set_index("model").loc["credit", "unhandled"]
    at = run_page("alerts")
    at.selectbox(key="handle_alert").set_value("credit-daily · data_drift").run()
    at.button(key="handle_ack").click().run()
    assert "'by' must name who" in texts(at)  # no name, nothing stored
    at.text_input(key="handle_by").input("ana").run()
    at.text_input(key="handle_note").input("income pipeline changed").run()
    at.button(key="handle_ack").click().run()
    no_exception(at)
    assert "data_drift of credit-daily is acknowledged by ana" in texts(at)
    at.selectbox(key="handle_alert").set_value("credit-daily · prediction_drift").run()
    at.selectbox(key="handle_for").set_value("24 hours").run()
    at.button(key="handle_silence").click().run()
    no_exception(at)
    assert "prediction_drift of credit-daily is silenced until" in texts(at)
    store = Store(f"sqlite:///{demo_env / 'raiwatch.db'}")
    try:
        handled = {(h.monitor, h.signal): h for h in store.list_alert_handling()}
        assert handled[("credit-daily", "data_drift")].acknowledged
        assert handled[("credit-daily", "data_drift")].note == "income pipeline changed"
        assert handled[("credit-daily", "prediction_drift")].silenced
        states = frame_with(at, "last_fired_at").set_index(["monitor", "signal"])
        assert states.loc[("credit-daily", "data_drift"), "acknowledged"]
        overview = run_page("overview")
        credit = overview.dataframe[0].value.set_index("model").loc["credit"]
        assert credit["unhandled"] == before - 2
        assert "data_drift acknowledged by ana" in credit["handling"]
        assert "prediction_drift silenced until" in credit["handling"]
        assert credit["status"] == "alert"  # handled alerts still fire: the badge stays true
    finally:
        for h in store.list_alert_handling():  # leave the session's store as it was
            store.unsilence_alert(h.monitor, h.signal)
        with store.session() as session:
            from monitor.store.tables_alerts import AlertHandlingRow

            session.query(AlertHandlingRow).delete()
        store.dispose()


def test_drift_table_sparklines_are_the_baseline_and_window_distributions(demo_env: Path) -> None:
    """The drift table's bar columns for the drifted window, checked against the raw rows:
    ``purpose`` (categorical) is exactly the reference's and the window's category shares
    on one scale; ``income`` (numeric, 35 % lower in the window) puts the window's mass to
    the left of the baseline's."""
    import numpy as np

    from jobs.demo import model_version_spec
    from monitor.ingest.logstore import LogStore
    from monitor.spec.model_version import parse_model_version

    at = run_page("model", model="credit", version="1")
    no_exception(at)
    drift = frame_with(at, "p_value")
    assert {"baseline_bars", "window_bars"} <= set(drift.columns)
    rows = drift[drift["signal"] == "data_drift"].set_index("feature")
    start, end = window_of(DEMO_DAYS - 1)  # the page opens on the last window with data
    mv = parse_model_version(model_version_spec())
    window = pd.concat(b.to_pandas() for b in LogStore(demo_env).scan(mv, start, end, columns=["purpose", "income"]))
    reference = pd.read_parquet(demo_env / "data" / "reference.parquet", columns=["purpose", "income"])
    base, win = reference["purpose"].value_counts(normalize=True), window["purpose"].value_counts(normalize=True)
    labels = sorted(set(base.index) | set(win.index), key=lambda k: (-(base.get(k, 0) + win.get(k, 0)), k))
    top = max(base.max(), win.max())
    expected_base = [base.get(k, 0.0) / top for k in labels]
    expected_win = [win.get(k, 0.0) / top for k in labels]
    np.testing.assert_allclose(list(rows.loc["purpose", "baseline_bars"]), expected_base, atol=2e-5)
    np.testing.assert_allclose(list(rows.loc["purpose", "window_bars"]), expected_win, atol=2e-5)
    income_base = np.asarray(rows.loc["income", "baseline_bars"], dtype=float)
    income_win = np.asarray(rows.loc["income", "window_bars"], dtype=float)
    assert len(income_base) == len(income_win) >= 20
    centre = np.arange(len(income_base))
    assert (centre * income_win).sum() / income_win.sum() < (centre * income_base).sum() / income_base.sum()
    assert max(income_base.max(), income_win.max()) == 1.0  # one scale: the tallest bar is 1
