"""Model page, runs tab: run history with the window's exported report.

A window's report is found, in order, at ``details["report_path"]`` of the run,
``<report_dir>/<monitor>/<run id>.html``, or
``<report_dir>/<monitor>/<window start %Y%m%dT%H%M%S>.html``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards.components import status_label
from dashboards.sources import DashboardSources


def report_path(report_dir: Path, monitor: str, run: pd.Series) -> Path | None:
    """The exported report of a run's window, if one was written."""
    details = run["details"] if isinstance(run["details"], dict) else {}
    candidates = [
        Path(p)
        for p in (details.get("report_path"), details.get("evidently_html"))
        if isinstance(p, str)
    ]
    candidates += [
        report_dir / monitor / f"{int(run['id'])}.html",
        report_dir / monitor / f"{run['window_start']:%Y%m%dT%H%M%S}.html",
    ]
    return next((p for p in candidates if p.is_file()), None)


def history(src: DashboardSources, monitor: str, runs: pd.DataFrame) -> None:
    """Every run of the monitor, newest first, and the report of a chosen one."""
    reports = {int(r["id"]): report_path(src.report_dir, monitor, r) for _, r in runs.iterrows()}
    table = runs.assign(
        status=runs["status"].map(status_label),
        report=[("yes" if reports[int(i)] else "—") for i in runs["id"]],
        error=[(d or {}).get("error", "") if isinstance(d, dict) else "" for d in runs["details"]],
    ).drop(columns=["details"])
    st.dataframe(
        table,
        hide_index=True,
        key="runs_table",
        column_config={
            "duration_s": st.column_config.NumberColumn("duration (s)", format="%.2f"),
            "row_count": st.column_config.NumberColumn("rows", format="%d"),
        },
    )
    with_report = [i for i, p in reports.items() if p is not None]
    if not with_report:
        st.caption(
            "No exported report for these windows. Export one with `raiwatch monitor run … "
            f"--evidently-html {src.report_dir}/{monitor}/<run id>.html` and it is linked here."
        )
        return
    run_id = st.selectbox("Report of run", with_report, key="report_run")
    path = reports[run_id]
    assert path is not None
    st.download_button(
        f"Download the report of run {run_id} ({path.name})",
        path.read_bytes(),
        file_name=path.name,
        mime="text/html",
        key="report_download",
    )
