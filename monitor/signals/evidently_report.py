"""Export a window as an Evidently report (HTML and JSON) for Evidently users.

The report is built with the ``evidently`` package itself from the baseline's
reservoir sample and the window's rows (or the window's reservoir sample when
the window is large), so it opens in Evidently's own tools. raiwatch's stored
results stay the source of truth; this is a view for people who know Evidently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from monitor.baseline.reference import Baseline
from monitor.profiles.dataset import DatasetProfile


def _frame(profile: DatasetProfile, columns: list[str]) -> pd.DataFrame:
    frame = profile.reservoir.to_pandas()
    return frame[[c for c in columns if c in frame.columns]]


def export_evidently_report(
    baseline: Baseline,
    window: DatasetProfile | pd.DataFrame,
    *,
    html_path: str | Path | None = None,
    json_path: str | Path | None = None,
) -> dict[str, Any]:
    """Write Evidently's ``DataDriftPreset`` report for the window; returns its JSON dict."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    mv = baseline.model_version
    numeric = [f.name for f in mv.monitored_features if f.type in ("numeric", "datetime")]
    categorical = [f.name for f in mv.monitored_features if f.type in ("categorical", "boolean")]
    columns = numeric + categorical
    ref = _frame(baseline.profile, columns)
    cur = window[[c for c in columns if c in window.columns]] if isinstance(window, pd.DataFrame) else _frame(window, columns)
    if cur.empty:
        raise ValueError("the window has no rows; there is nothing to export to Evidently")
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    if html_path is not None:
        Path(html_path).parent.mkdir(parents=True, exist_ok=True)
        snapshot.save_html(str(html_path))
    if json_path is not None:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(snapshot.json())
    out: dict[str, Any] = snapshot.dict()
    return out
