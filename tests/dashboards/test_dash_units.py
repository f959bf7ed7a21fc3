"""Pure parts of the dashboard: the CLI command, distributions, fleet filtering, reports."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dashboards import APP_PATH
from dashboards.distributions import ColumnHistogram, coarsen, overlay_frame
from dashboards.sources import DashboardSources
from jobs import cli_dashboard


def test_cli_runs_streamlit_on_the_app_with_the_chosen_locations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(cli_dashboard, "run_child", lambda cmd, env: calls.append((cmd, env)) or 0)
    with pytest.raises(cli_dashboard.typer.Exit):
        cli_dashboard.dashboard(home=tmp_path, port=8600, bundles=tmp_path, address="127.0.0.1")
    cmd, env = calls[0]
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    assert cmd[cmd.index("--server.port") + 1] == "8600"
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "minimal"  # no Deploy button
    assert env["RAIWATCH_HOME"] == str(tmp_path.resolve())
    assert env["RAIWATCH_BUNDLE_DIR"] == str(tmp_path.resolve())
    assert APP_PATH.is_file()


def test_cli_rejects_a_bad_port() -> None:
    with pytest.raises(cli_dashboard.typer.BadParameter, match="between 1 and 65535"):
        cli_dashboard.dashboard(home=None, port=0, bundles=None, address="127.0.0.1")


def test_sources_follow_the_environment(tmp_path: Path) -> None:
    src = DashboardSources.from_env({"RAIWATCH_HOME": str(tmp_path), "RAIWATCH_BUNDLE_DIR": "/b"})
    assert src.db_url.endswith(f"{tmp_path.resolve()}/raiwatch.db")
    assert src.bundle_dir == Path("/b")
    assert src.report_dir == tmp_path / "reports"


def test_coarsen_keeps_counts_and_range() -> None:
    edges, counts = coarsen(list(range(101)), [1.0] * 100, max_bins=10)
    assert len(counts) == 10 and counts.sum() == 100
    assert edges[0] == 0 and edges[-1] == 100


def test_categorical_overlay_shares_sum_to_one_and_show_new_categories() -> None:
    hist = ColumnHistogram("categorical", counts=(3.0, 1.0), categories=("car", "home"))
    frame = overlay_frame(hist, ["car", "boat", "boat", None])
    assert frame.set_index("label")["window"].to_dict() == {
        "boat": 2 / 3,
        "car": 1 / 3,
        "home": 0.0,
    }
    assert frame["baseline"].sum() == pytest.approx(1.0)


def test_fleet_filter_by_search_and_status() -> None:
    from dashboards.views.overview import filter_fleet

    fleet = pd.DataFrame(
        {
            "model": ["a", "b"],
            "version": ["1", "2"],
            "status": ["alert", "ok"],
            "in_alert": ["data_drift: income", ""],
            "monitors": ["a-daily", "b-daily"],
        }
    )
    assert filter_fleet(fleet, "INCOME", [])["model"].tolist() == ["a"]
    assert filter_fleet(fleet, "", ["ok"])["model"].tolist() == ["b"]
    assert filter_fleet(fleet, "b:2", ["ok", "alert"])["model"].tolist() == ["b"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    with contextlib.suppress(FileNotFoundError):
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    return False


def _wait_dead(pid: int, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_dashboard_child_stops_with_its_parent(tmp_path: Path, how: str) -> None:
    """``run_child`` in a parent process; stopping the parent (politely or with kill -9)
    stops the child too, so no Streamlit is left holding the port."""
    pid_file = tmp_path / "child.pid"
    child = (
        f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    )
    parent_code = (
        "import sys; from jobs.cli_dashboard import run_child; "
        f"sys.exit(run_child([sys.executable, '-c', {child!r}], dict(__import__('os').environ)))"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], cwd=Path(__file__).resolve().parents[2]
    )
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.1)
        child_pid = int(pid_file.read_text())
        assert _alive(child_pid)
        parent.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
        parent.wait(timeout=20)
        assert _wait_dead(child_pid), f"the dashboard child outlived its parent ({how})"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_an_empty_window_is_a_gap_in_every_series_of_its_signals() -> None:
    from dashboards.model_queries import RESULT_COLUMNS, expand_gaps

    def row(day: int, feature: str | None, metric: str, value: float | None, status: str) -> dict:
        return {c: None for c in RESULT_COLUMNS} | {
            "run_id": day, "window_end": day, "signal": "data_drift", "feature": feature,
            "metric": metric, "value": value, "status": status,
        }  # fmt: skip

    results = pd.DataFrame([
        row(1, "age", "wasserstein", 0.1, "ok"),
        row(1, "purpose", "jensenshannon", 0.2, "ok"),
        row(2, None, "rows", None, "no_data"),  # what an empty window stores
        row(3, "age", "wasserstein", 0.3, "alert"),
        row(3, "purpose", "jensenshannon", 0.1, "ok"),
    ])  # fmt: skip
    out = expand_gaps(results)
    gap = out[out["window_end"] == 2]
    assert sorted(zip(gap["feature"], gap["metric"], strict=True)) == [
        ("age", "wasserstein"), ("purpose", "jensenshannon"),
    ]  # fmt: skip
    assert gap["value"].isna().all() and (gap["status"] == "no_data").all()
    assert "rows" not in set(out["metric"])  # no stray series
    assert out["window_end"].tolist() == [1, 1, 2, 2, 3, 3]
