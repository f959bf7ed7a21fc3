"""``--engine spark`` on the command line and ``engine: spark`` in a monitor, against local runs.

Parity as in ``tests/monitor/test_engines_spark.py``: equal counts, results within
``rel=1e-9``, the same statuses, alerts and exit codes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from jobs.cli import app
from jobs.cli_common import load_baseline, open_store
from jobs.evaluation import EngineEvaluator
from jobs.windows import Window
from monitor.errors import DataError, SchemaError
from monitor.spec.monitor import parse_monitor_spec
from monitor.spec.settings import Settings
from tests.monitor.test_engines_spark import assert_documents_match, assert_same_profile

pytestmark = pytest.mark.slow

MODEL_YAML = """\
name: credit
version: '1'
task: binary
features:
  income: numeric
  purpose: categorical
scores: [score]
target: default
"""


def make(n: int, seed: int, *, shift: bool, start: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    purpose = rng.choice(["car", "house", "boat"] if shift else ["car", "house"], n).astype(object)
    purpose[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "request_id": [f"{seed}-{i}" for i in range(n)],
            "timestamp": pd.date_range(start, periods=n, freq="min", tz="UTC"),
            "income": rng.normal(50 + (15 if shift else 0), 10, n),
            "purpose": purpose,
            "prediction": np.where(score > 0.5, "1", "0"),
            "score": score,
            "default": (rng.random(n) < score).astype(np.int64),
        }
    )


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in [k for k in os.environ if k.startswith("RAIWATCH_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")


def invoke(*args: str, home: Path) -> Result:
    return CliRunner().invoke(app, [*args, "--home", str(home)])


def ok(*args: str, home: Path) -> Result:
    result = invoke(*args, home=home)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli-spark-data")
    (d / "model.yaml").write_text(MODEL_YAML)
    frames = {
        "ref": make(900, 0, shift=False, start="2026-01-01"),
        "clean": make(300, 1, shift=False, start="2026-02-01"),
        "drift": make(300, 2, shift=True, start="2026-02-02"),
    }
    for name, df in frames.items():
        pq.write_table(
            pa.Table.from_pandas(df, preserve_index=False),
            d / f"{name}.parquet",
            row_group_size=100,
        )
    drift = frames["drift"]
    drift[["request_id", "default"]].rename(columns={"default": "label"}).iloc[::2].to_csv(
        d / "labels.csv", index=False
    )
    frames["ref"].to_csv(d / "ref.csv", index=False)
    return {p.name: p for p in d.iterdir()}


@pytest.fixture(scope="module")
def homes(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Path], spark: Any
) -> dict[str, Path]:
    """Two homes, one whose baseline was built locally and one on Spark, with the same logs."""
    out = {}
    for engine in ("local", "spark"):
        h = tmp_path_factory.mktemp(f"home-{engine}")
        ok("model", "register", "-f", str(data["model.yaml"]), home=h)
        ok("baseline", "create", "--data", str(data["ref.parquet"]), "-m", "credit", "-v", "1",
           "--engine", engine, home=h)  # fmt: skip
        ok("logs", "ingest", str(data["clean.parquet"]), str(data["drift.parquet"]), "-m", "credit",
           "-v", "1", home=h)  # fmt: skip
        ok("labels", "ingest", str(data["labels.csv"]), "-m", "credit", "-v", "1", home=h)
        out[engine] = h
    return out


def baseline_of(home: Path) -> Any:
    return load_baseline(open_store(Settings(home=home)), "credit", "1")


def test_baseline_create_on_spark_equals_the_local_baseline(homes: dict[str, Path]) -> None:
    local, spark = baseline_of(homes["local"]), baseline_of(homes["spark"])
    assert_same_profile(local.profile, spark.profile)
    assert spark.profile.row_count == 900
    assert_documents_match(local.performance, spark.performance, "performance", loose=True)
    assert spark.source["kind"] == "spark"


def run_json(home: Path, tmp: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = tmp / f"{home.name}-{len(list(tmp.iterdir()))}.json"
    result = invoke("monitor", "run", "-m", "credit", "-v", "1", "--json", str(out), "--fail-on", "alert",
                    *args, home=home)  # fmt: skip
    assert result.exit_code in (0, 1), (result.output, result.exception)
    return result.exit_code, json.loads(out.read_text())


def assert_same_run(local: dict[str, Any], spark: dict[str, Any]) -> None:
    def key(r: dict[str, Any]) -> tuple[str, str, str]:
        return r["signal"], str(r.get("feature")), r["metric"]

    assert spark["row_count"] == local["row_count"] > 0
    assert spark["status"] == local["status"]
    assert_documents_match(
        sorted(local["results"], key=key), sorted(spark["results"], key=key), "results", loose=True
    )


def test_monitor_run_on_spark_from_the_log_store_matches_local(
    homes: dict[str, Path], tmp_path: Path
) -> None:
    window = ("--start", "2026-02-02", "--end", "2026-02-03")
    code_l, local = run_json(homes["local"], tmp_path, *window)
    code_s, spark = run_json(homes["local"], tmp_path, *window, "--engine", "spark")
    assert code_s == code_l == 1, "the drifted day alerts on both engines"
    assert spark["details"]["engine"] == "spark"
    assert spark["details"]["labelled_rows"] == local["details"]["labelled_rows"] == 150
    assert_same_run(local, spark)
    assert any(r["signal"] == "performance" and r["status"] != "no_data" for r in spark["results"])


def test_monitor_run_on_spark_with_a_file_matches_local(
    homes: dict[str, Path], data: dict[str, Path], tmp_path: Path
) -> None:
    file = ("--file", str(data["clean.parquet"]))
    code_l, local = run_json(homes["spark"], tmp_path, *file)
    code_s, spark = run_json(homes["spark"], tmp_path, *file, "--engine", "spark")
    assert code_s == code_l
    assert_same_run(local, spark)


def test_bad_engine_options_are_clear_errors(homes: dict[str, Path], data: dict[str, Path]) -> None:
    result = invoke("monitor", "run", "-m", "credit", "-v", "1", "--file", str(data["clean.parquet"]),
                    "--engine", "dask", home=homes["local"])  # fmt: skip
    assert isinstance(result.exception, SchemaError)
    assert "--engine must be 'local' or 'spark', got 'dask'" in str(result.exception)
    result = invoke("baseline", "create", "--data", str(data["ref.csv"]), "-m", "credit", "-v", "1",
                    "--engine", "spark", home=homes["local"])  # fmt: skip
    assert isinstance(result.exception, DataError)
    assert "the Spark engine reads Parquet or Delta, not '.csv'" in str(result.exception)
    result = invoke("monitor", "run", "-m", "credit", "-v", "1", "--file", str(data["clean.parquet"]),
                    "--engine", "spark", "--spark-conf", "nonsense", home=homes["local"])  # fmt: skip
    assert isinstance(result.exception, SchemaError)
    assert "--spark-conf 'nonsense' is not key=value" in str(result.exception)


def test_a_spark_monitor_is_evaluated_on_spark_by_the_service(homes: dict[str, Path]) -> None:
    base = {
        "name": "daily",
        "model": "credit",
        "version": "1",
        "schedule": "0 0 * * *",
        "window": "1d",
    }
    local_spec = parse_monitor_spec(base)
    spark_spec = parse_monitor_spec({**base, "engine": "spark", "spark": {"master": "local[2]"}})
    assert parse_monitor_spec(spark_spec.stored_dict()) == spark_spec  # stored and read back whole
    settings = Settings(home=homes["local"], threads=1)
    store = open_store(settings)
    window = Window(dt.datetime(2026, 2, 2, tzinfo=dt.UTC), dt.datetime(2026, 2, 3, tzinfo=dt.UTC))
    local = EngineEvaluator(store, settings).evaluate(local_spec, window)
    spark = EngineEvaluator(store, settings).evaluate(spark_spec, window)
    assert spark.details["details"]["engine"] == "spark"
    assert (spark.status, spark.row_count) == (local.status, local.row_count) == ("alert", 300)
    assert_documents_match(
        sorted(
            (r.to_dict() for r in local.results),
            key=lambda d: (d["signal"], str(d["feature"]), d["metric"]),
        ),
        sorted(
            (r.to_dict() for r in spark.results),
            key=lambda d: (d["signal"], str(d["feature"]), d["metric"]),
        ),
        "results",
        loose=True,
    )


def test_spark_settings_need_engine_spark() -> None:
    base = {"name": "daily", "model": "credit", "version": "1"}
    with pytest.raises(SchemaError, match="'spark' applies to 'engine: spark'"):
        parse_monitor_spec({**base, "spark": {"master": "local[2]"}})
    with pytest.raises(SchemaError, match="a 'source' table is read by Spark: add 'engine: spark'"):
        parse_monitor_spec({**base, "source": {"table": "lake.credit"}})
    with pytest.raises(SchemaError, match="rai_review reads the window's labelled rows from raiwatch's log"):
        parse_monitor_spec({**base, "engine": "spark", "source": {"path": "/a"}, "rai_review": {}})
    with pytest.raises(SchemaError, match="give exactly one of 'path'"):
        parse_monitor_spec({**base, "engine": "spark", "source": {"path": "/a", "table": "t"}})
