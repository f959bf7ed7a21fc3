"""A Delta table directory given to ``--data``/``--file`` (both engines) and to a monitor's ``source:``.

The tables are written in several commits (an overwrite and a delete), so their
Parquet files on disk hold rows the tables no longer have; the expected rows are
the same frames filtered with pandas.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs.cli_common import open_store
from jobs.evaluation import EngineEvaluator
from jobs.windows import Window
from monitor.errors import DataError
from monitor.spec.monitor import parse_monitor_spec
from monitor.spec.settings import Settings
from tests.jobs.test_jobs_cli_spark import (  # _isolated_settings: autouse, RAIWATCH_* unset
    MODEL_YAML,
    _isolated_settings,  # noqa: F401
    assert_same_run,
    baseline_of,
    make,
    ok,
    run_json,
)
from tests.monitor.test_engines_spark import assert_documents_match, assert_same_profile

deltalake = pytest.importorskip("deltalake", reason="Delta sources need pip install deltalake")

pytestmark = pytest.mark.slow


def _us(df: pd.DataFrame) -> pa.Table:
    out = df.copy()
    out["timestamp"] = out["timestamp"].astype("datetime64[us, UTC]")
    return pa.Table.from_pandas(out, preserve_index=False)


def delta_with_history(path: Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Append, overwrite, delete; returns the rows the table holds at the end."""
    n = len(rows)
    deltalake.write_deltalake(path, _us(rows.iloc[: n // 2]))
    deltalake.write_deltalake(path, _us(rows.iloc[n // 3 :]), mode="overwrite")
    deltalake.DeltaTable(path).delete("income > 60")
    kept = rows.iloc[n // 3 :]
    return _us(kept[~(kept["income"] > 60)]).to_pandas().reset_index(drop=True)


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("cli-delta")
    (d / "model.yaml").write_text(MODEL_YAML)
    out: dict[str, Any] = {"model": d / "model.yaml"}
    for name, df in {
        "ref": make(900, 0, shift=False, start="2026-01-01"),
        "drift": make(600, 2, shift=True, start="2026-02-02"),
    }.items():
        expected = delta_with_history(d / name, df)
        pq.write_table(pa.Table.from_pandas(expected, preserve_index=False), d / f"{name}.parquet")
        out[name], out[f"{name}_rows"], out[f"{name}_expected"] = d / name, expected, d / f"{name}.parquet"
    return out


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory, tables: dict[str, Any], spark: Any) -> dict[str, Path]:
    """Baselines from the Delta table on each engine, and one from its expected rows as Parquet."""
    out = {}
    for name, data, engine in (
        ("local", tables["ref"], "local"),
        ("spark", tables["ref"], "spark"),
        ("expected", tables["ref_expected"], "local"),
    ):
        h = tmp_path_factory.mktemp(f"delta-home-{name}")
        ok("model", "register", "-f", str(tables["model"]), home=h)
        ok("baseline", "create", "--data", str(data), "-m", "credit", "-v", "1", "--engine", engine,
           home=h)  # fmt: skip
        out[name] = h
    return out


def test_baseline_create_from_a_delta_table_on_both_engines(
    homes: dict[str, Path], tables: dict[str, Any]
) -> None:
    expected = baseline_of(homes["expected"])
    local, spark = baseline_of(homes["local"]), baseline_of(homes["spark"])
    assert expected.profile.row_count == len(tables["ref_rows"]) < 900
    assert_same_profile(expected.profile, local.profile)
    assert_same_profile(expected.profile, spark.profile)
    assert local.source["kind"] == "delta" and local.source["version"] == 2


def test_monitor_run_on_a_delta_table_matches_its_rows(
    homes: dict[str, Path], tables: dict[str, Any], tmp_path: Path
) -> None:
    _, expected = run_json(homes["local"], tmp_path, "--file", str(tables["drift_expected"]))
    _, local = run_json(homes["local"], tmp_path, "--file", str(tables["drift"]))
    _, spark = run_json(homes["local"], tmp_path, "--file", str(tables["drift"]), "--engine", "spark")
    assert expected["row_count"] == len(tables["drift_rows"])
    assert_same_run(expected, local)
    assert_same_run(expected, spark)
    assert expected["status"] == "alert", "the drifted table must alert, or the parity is vacuous"


def _source_spec(engine: str, path: Path, fmt: str = "delta") -> Any:
    return parse_monitor_spec(
        {
            "name": f"delta-daily-{engine}", "model": "credit", "version": "1", "window": "1d",
            "engine": engine, **({"spark": {"master": "local[2]"}} if engine == "spark" else {}),
            "source": {"path": str(path), "format": fmt, "time_column": "timestamp"},
        }
    )  # fmt: skip


def test_a_monitor_source_block_names_a_delta_table_on_both_engines(
    homes: dict[str, Path], tables: dict[str, Any]
) -> None:
    settings = Settings(home=homes["local"], threads=1)
    evaluator = EngineEvaluator(open_store(settings), settings)
    start = dt.datetime(2026, 2, 2, 3, tzinfo=dt.UTC)
    window = Window(start, start + dt.timedelta(hours=5))
    rows = tables["drift_rows"]
    ts = rows["timestamp"]
    inside = int(((ts >= pd.Timestamp(window.start)) & (ts < pd.Timestamp(window.end))).sum())

    local = evaluator.evaluate(_source_spec("local", tables["drift"]), window)
    spark = evaluator.evaluate(_source_spec("spark", tables["drift"]), window)
    parquet = evaluator.evaluate(_source_spec("local", tables["drift_expected"], "parquet"), window)
    assert 0 < spark.row_count == local.row_count == parquet.row_count == inside < len(rows)
    assert spark.details["details"]["engine"] == "spark"
    assert spark.status == local.status == parquet.status

    def results(outcome: Any) -> list[dict[str, Any]]:
        return sorted((r.to_dict() for r in outcome.results),
                      key=lambda d: (d["signal"], str(d["feature"]), d["metric"]))  # fmt: skip

    assert_documents_match(results(parquet), results(local), "results", loose=True)
    assert_documents_match(results(parquet), results(spark), "results", loose=True)


def test_a_local_delta_source_that_is_not_a_table_is_a_clear_error(
    homes: dict[str, Path], tables: dict[str, Any]
) -> None:
    settings = Settings(home=homes["local"], threads=1)
    start = dt.datetime(2026, 2, 2, tzinfo=dt.UTC)
    with pytest.raises(DataError, match="is not a local Delta table directory"):
        EngineEvaluator(open_store(settings), settings).evaluate(
            _source_spec("local", tables["drift_expected"]), Window(start, start + dt.timedelta(days=1))
        )
