"""The traffic signal on sequences of windows, its state carried as the service carries it.

No change (traffic keeps arriving, however little) never alerts; an outage warns for
``windows - 1`` windows and alerts from the ``windows``-th, naming when it began; rows
again resolve it. Bad settings are rejected at the boundary with the rule.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from bench._nochange import make_frame, model_version_doc
from monitor.baseline.reference import Baseline, create_baseline
from monitor.profiles.dataset import build_profile
from monitor.signals import SIGNALS
from monitor.signals.evaluate import evaluate_profile
from monitor.signals.results import SignalResult
from monitor.spec.model_version import parse_model_version
from monitor.spec.signal_config import SignalConfig
from monitor.spec.window import Window

MV = parse_model_version(model_version_doc(n_numeric=2, n_categorical=1))
T0 = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def baseline() -> Baseline:
    return create_baseline(
        MV, make_frame(np.random.default_rng(0), 300, n_numeric=2, n_categorical=1), threads=1
    )


def _config(**traffic: Any) -> SignalConfig:
    return SignalConfig.model_validate(
        {n: {"enabled": n == "traffic", **(traffic if n == "traffic" else {})} for n in SIGNALS}
    )


def _run(baseline: Baseline, rows: list[int], config: SignalConfig) -> list[SignalResult]:
    """The traffic result of each window of a sequence, state carried between them."""
    carry: dict[str, Any] = {}
    rng = np.random.default_rng(1)
    out = []
    for i, n in enumerate(rows):
        frame = make_frame(rng, n, n_numeric=2, n_categorical=1)
        profile = build_profile(
            [pa.Table.from_pandas(frame, preserve_index=False)], baseline.window_plan(), threads=1
        )
        span = Window(T0 + timedelta(hours=i), T0 + timedelta(hours=i + 1))
        (result,) = [
            r
            for r in evaluate_profile(baseline, profile, config, carry=carry, span=span)
            if r.signal == "traffic"
        ]
        out.append(result)
    return out


def test_steady_traffic_never_alerts(baseline: Baseline) -> None:
    """200 windows of any non-zero traffic (down to a single row): every one ok, count 0."""
    rows = np.random.default_rng(2).integers(1, 40, size=200).tolist()
    results = _run(baseline, rows, _config())
    assert {r.status for r in results} == {"ok"} and {r.value for r in results} == {0.0}


def test_an_outage_warns_then_alerts_from_the_nth_window_and_says_since_when(
    baseline: Baseline,
) -> None:
    results = _run(baseline, [50, 0, 0, 0, 0, 8, 0], _config())
    assert [(r.status, r.value) for r in results] == [
        ("ok", 0.0), ("warning", 1.0), ("warning", 2.0), ("alert", 3.0), ("alert", 4.0), ("ok", 0.0), ("warning", 1.0),
    ]  # fmt: skip
    assert results[4].details["since"] == (T0 + timedelta(hours=1)).isoformat()
    assert results[4].details["last_traffic_end"] == (T0 + timedelta(hours=1)).isoformat()
    assert "no traffic for 4 windows in a row" in (results[4].message or "")
    assert results[6].details["since"] == (T0 + timedelta(hours=6)).isoformat()  # a new episode


def test_windows_and_min_rows_are_settings(baseline: Baseline) -> None:
    results = _run(baseline, [50, 3, 3, 50], _config(windows=2, min_rows=5))
    assert [r.status for r in results] == ["ok", "warning", "alert", "ok"]


@pytest.mark.parametrize(
    ("block", "field"),
    [({"windows": 0}, "windows"), ({"min_rows": 0}, "min_rows"), ({"window": 3}, "window")],
)
def test_bad_settings_name_the_field(block: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        SignalConfig.model_validate({"traffic": block})
