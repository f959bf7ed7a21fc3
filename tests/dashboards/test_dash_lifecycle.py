"""The lifecycle page under AppTest: the next retraining due date, the champion/challenger
verdict with both versions side by side, the paired difference over time, promotions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from jobs.demo import SHADOW_AFTER, START
from tests.dashboards.apptest import frame_with, no_exception, run_page, texts
from tests.dashboards.conftest import LIFECYCLE_DAYS, LIFECYCLE_DRIFT_DAY


def test_lifecycle_page_shows_due_date_verdict_and_both_versions(lifecycle_env: Path) -> None:
    at = run_page("lifecycle")
    no_exception(at)
    shown = texts(at)
    due = START + pd.Timedelta(days=14)  # retrain_every: 14d from the monitor's start
    assert f"next retraining due **{due:%Y-%m-%d %H:%M} UTC**" in shown
    schedule = frame_with(at, "next_due")
    assert pd.Timestamp(schedule["next_due"].iloc[0]) == due
    assert "Champion **credit:1** vs challenger **credit:2** (shadow mode)" in shown
    assert "**Verdict: better**" in shown and "raiwatch monitor promote credit-daily" in shown
    history = frame_with(at, "verdict")
    shadow_days = LIFECYCLE_DAYS - (LIFECYCLE_DRIFT_DAY + SHADOW_AFTER)  # days 8-11
    assert len(history) == shadow_days and history["verdict"].iloc[-1] == "better"
    assert (history["low"] <= history["difference"]).all() and (history["difference"] <= history["high"]).all()
    assert history["low"].iloc[-1] > 0  # "better": the interval excludes no difference
    both = frame_with(at, "role").set_index("role")
    assert both.loc["champion", "version"] == "1" and both.loc["challenger", "version"] == "2"
    assert both.loc["challenger", "accuracy"] > both.loc["champion", "accuracy"]
    assert both.loc["champion", "accuracy"] == pytest.approx(history["champion_accuracy"].iloc[-1])
    assert len(at.get("plotly_chart")) == 1


def test_lifecycle_page_after_promotion_lists_it(lifecycle_home: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from jobs.lifecycle import promote
    from monitor.store import Store

    home = tmp_path / "home"
    shutil.copytree(lifecycle_home, home)
    store = Store(f"sqlite:///{home / 'raiwatch.db'}")
    promote(store, "credit-daily")
    store.dispose()
    monkeypatch.setenv("RAIWATCH_HOME", str(home))
    monkeypatch.delenv("RAIWATCH_DATABASE_URL", raising=False)
    at = run_page("lifecycle")
    no_exception(at)
    promoted = frame_with(at, "to_version")
    assert promoted[["from_version", "to_version", "verdict"]].values.tolist() == [["1", "2", "better"]]
    assert "No challenger now; champion **credit:2**" in texts(at)  # past comparison still shown
    assert frame_with(at, "verdict")["verdict"].iloc[-1] == "better"


def test_lifecycle_page_on_an_empty_store_says_what_to_do(empty_env: Path) -> None:
    at = run_page("lifecycle")
    no_exception(at)
    assert "No retraining schedule or challenger yet" in texts(at)
