"""Spark engine parity: the same data through the local and the Spark engine.

Stated tolerance: every count (rows, nulls, type errors, infinities, out-of-range,
unseen, category counts, histogram bin counts), min, max and histogram edge is
equal; moments and bin sums (merged in another order) and the metrics computed
from them agree to ``rel=1e-9``; statuses and alerts are equal. The reservoir is
bottom-k on row keys, so the sampled rows are the same rows.

Spark runs ``local[2]`` with a session-scoped fixture (``tests/conftest.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitor.baseline.reference import Baseline, create_baseline
from monitor.engines.local import LocalEngine
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.ingest.sources import iter_batches
from monitor.profiles.column import CategoricalProfile, NumericProfile
from monitor.profiles.dataset import DatasetProfile
from monitor.signals.evaluate import WindowReport, evaluate_window
from monitor.spec.engine import SparkSettings
from monitor.spec.model_version import parse_model_version
from monitor.spec.window import Window

pytestmark = pytest.mark.slow

MV = parse_model_version(
    {
        "name": "credit", "version": "1", "task": "binary",
        "features": {"income": "numeric", "children": "numeric", "purpose": "categorical",
                     "owner": "boolean", "opened": "datetime"},
        "scores": ["score"], "target": "default",
    }
)  # fmt: skip
REL = 1e-9
MERGED_FLOATS = {"mean", "m2", "sums", "under_sum", "over_sum"}


def frame(n: int, seed: int, *, drift: bool = False, prefix: str = "r") -> pd.DataFrame:
    """Rows with nulls, infinities, type errors (``children`` is text) and, with drift, an unseen category."""
    rng = np.random.default_rng(seed)
    income = rng.normal(600.0 if drift else 500.0, 100.0, n)
    income[rng.random(n) < 0.03] = np.nan
    income[rng.random(n) < 0.005] = np.inf
    children = rng.poisson(1.5, n).astype(str).astype(object)
    children[rng.random(n) < 0.02] = "oops"
    children[rng.random(n) < 0.03] = None
    cats = ["car", "house", "study", "boat"] if drift else ["car", "house", "study"]
    purpose = rng.choice(cats, n).astype(object)
    purpose[rng.random(n) < 0.05] = None
    score = rng.random(n)
    return pd.DataFrame(
        {
            "request_id": [f"{prefix}{i:06d}" for i in range(n)],
            "timestamp": pd.date_range("2026-01-01", periods=n, freq="min", tz="UTC"),
            "income": income,
            "children": children,
            "purpose": purpose,
            "owner": rng.random(n) < 0.4,
            "opened": pd.Timestamp("2020-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s"),
            "prediction": np.where(score > 0.5, "1", "0"),
            "score": score,
            "default": (rng.random(n) < score).astype(np.int64),
        }
    )


def write(df: pd.DataFrame, path: Path) -> Path:
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=250)
    return path


@pytest.fixture
def small_splits(spark: Any) -> Iterator[None]:
    """Split the small test files into several Spark partitions (one per ~2 row groups)."""
    keys = {"spark.sql.files.maxPartitionBytes": "16k", "spark.sql.files.openCostInBytes": "0"}
    old = {k: spark.conf.get(k, None) for k in keys}
    for k, v in keys.items():
        spark.conf.set(k, v)
    yield
    for k, v in old.items():
        if v is None:
            spark.conf.unset(k)
        else:
            spark.conf.set(k, v)


@pytest.fixture
def engine(spark: Any) -> Any:
    from monitor.engines.spark import SparkEngine

    # fan-in 2: several tree levels of groupBy merges even on a few partitions
    return SparkEngine(spark, settings=SparkSettings(merge_fan_in=2))


# --- comparison helpers ---------------------------------------------------------------------------


def assert_documents_match(a: Any, b: Any, where: str = "", loose: bool = False) -> None:
    """Equal, except floats under ``MERGED_FLOATS`` keys (or everywhere with ``loose``) at ``REL``."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            assert_documents_match(a[k], b[k], f"{where}.{k}", loose or k in MERGED_FLOATS)
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_documents_match(x, y, f"{where}[{i}]", loose)
    elif isinstance(a, float) and isinstance(b, float) and loose:
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=REL, abs=1e-12), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_same_profile(local: DatasetProfile, spark: DatasetProfile) -> None:
    assert_documents_match(local.to_document(), spark.to_document(), "profile")
    assert spark.reservoir.num_rows == local.reservoir.num_rows
    if local.reservoir.table is not None:
        assert spark.reservoir.table is not None
        assert spark.reservoir.table.equals(local.reservoir.table), "reservoirs hold different rows"


def assert_same_results(local: WindowReport, spark: WindowReport) -> None:
    def rows(report: WindowReport) -> list[dict[str, Any]]:
        out = [r.to_dict() for r in report.results]
        return sorted(out, key=lambda d: (d["signal"], str(d.get("feature")), d["metric"]))

    assert spark.row_count == local.row_count
    assert_documents_match(rows(local), rows(spark), "results", loose=True)
    assert [r.signal for r in spark.alerts()] == [r.signal for r in local.alerts()]


# --- the wire format --------------------------------------------------------------------------------


def test_partials_round_trip_and_refuse_other_versions() -> None:
    import json

    from monitor.engines.spark import decode_partial, encode_partial
    from monitor.errors import DataError

    baseline = create_baseline(MV, frame(400, 1), bins=20, reservoir_size=50, threads=1)
    doc, sample = encode_partial(baseline.profile)
    assert_same_profile(baseline.profile, decode_partial(doc, sample))
    data = json.loads(doc)
    data["version"] = 99
    with pytest.raises(DataError, match=r"version 99 is not 'raiwatch.profile-partial' version 1"):
        decode_partial(json.dumps(data), sample)


def test_a_missing_pyspark_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from monitor.engines.spark import spark_session
    from monitor.errors import EngineUnavailableError

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(EngineUnavailableError, match=r"pip install 'raiwatch\[spark\]'"):
        spark_session()


# --- parity -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("spark-parity")
    return {
        "reference": write(frame(3000, 0), d / "reference.parquet"),
        "window": write(frame(2000, 1, drift=True, prefix="w"), d / "window.parquet"),
    }


def test_baselines_match_on_a_parquet_file(
    files: dict[str, Path], engine: Any, small_splits: None
) -> None:
    n_parts = engine.read(files["reference"]).rdd.getNumPartitions()
    assert n_parts >= 4, "the test must exercise several partitions and merge levels"
    kwargs: dict[str, Any] = {
        "bins": 30,
        "reservoir_size": 300,
        "seed": 3,
        "threads": 1,
    }
    local = create_baseline(MV, files["reference"], batch_rows=500, **kwargs)
    spark = create_baseline(MV, files["reference"], engine=engine, **kwargs)

    assert_same_profile(local.profile, spark.profile)
    # histogram edges come from the reservoir and the min/max: identical, so windows compare alike
    for name, prof in local.profile.columns.items():
        if isinstance(prof, NumericProfile):
            other = spark.profile.columns[name]
            assert isinstance(other, NumericProfile) and prof.edges is not None
            np.testing.assert_array_equal(prof.edges, other.edges)
    # the profile really holds type errors, infinities and nulls (the parity is not vacuous)
    children, income = local.profile.columns["children"], local.profile.columns["income"]
    assert children.type_errors > 0 and income.infinities > 0 and income.nulls > 0
    # one Parquet file is read in file order, so contiguous row ranges are the same rows
    plan = replace(local.plan, reservoir_size=0)
    total = local.profile.row_count
    bounds = [round(total * i / 5) for i in range(6)]
    cols = [c.spec.name for c in plan.columns]
    mine = LocalEngine(threads=1, batch_rows=500).chunk_profiles(files["reference"], plan, bounds, columns=cols)
    theirs = engine.chunk_profiles(files["reference"], plan, bounds, columns=cols)
    assert [c.row_count for c in mine] == np.diff(bounds).tolist()
    for a, b in zip(mine, theirs, strict=True):
        assert_same_profile(a, b)
    assert_documents_match(local.performance, spark.performance, "performance", loose=True)
    assert spark.source["kind"] == "spark"


@pytest.fixture(scope="module")
def baseline(files: dict[str, Path]) -> Baseline:
    return create_baseline(MV, files["reference"], bins=30, reservoir_size=300, seed=3, threads=1)


def test_window_results_and_alerts_match(
    files: dict[str, Path], baseline: Baseline, engine: Any, small_splits: None
) -> None:
    from monitor.engines.spark_window import evaluate_on_spark

    window = pd.read_parquet(files["window"])
    labelled = window.sample(frac=0.6, random_state=0)
    labels = pd.DataFrame(
        {"request_id": labelled["request_id"], LABEL_COLUMN: labelled["default"].astype(str)}
    )

    local = evaluate_window(
        baseline, iter_batches(files["window"], batch_rows=300), labels=labels, threads=1
    )
    spark = evaluate_on_spark(engine, baseline, files["window"], labels=labels)

    assert spark.details["engine"] == "spark"
    assert spark.details["labelled_rows"] == local.details["labelled_rows"] == len(labels)
    assert spark.profile is not None and local.profile is not None
    assert_same_profile(local.profile, spark.profile)
    assert_same_results(local, spark)
    assert local.alerts(), "the drifted window must raise alerts, or the alert parity is vacuous"
    assert {r.signal for r in spark.results} >= {"data_drift", "performance", "concept_drift"}
    assert next(r for r in spark.results if r.signal == "performance").status != "no_data"
    unseen = spark.profile.columns["purpose"]
    assert isinstance(unseen, CategoricalProfile) and unseen.unseen > 0


def test_time_filtered_window_equals_the_local_rows_in_it(
    files: dict[str, Path], baseline: Baseline, engine: Any
) -> None:
    window = pd.read_parquet(files["window"])
    start, end = (
        pd.Timestamp("2026-01-01 05:00", tz="UTC"),
        pd.Timestamp("2026-01-01 12:30", tz="UTC"),
    )
    inside = window[(window["timestamp"] >= start) & (window["timestamp"] < end)]
    plan = baseline.window_plan()
    local = LocalEngine(threads=1).profile(inside, plan)
    spark = engine.profile(files["window"], plan, start=start, end=end, time_column="timestamp")
    assert 0 < spark.row_count == len(inside) < len(window)
    assert_same_profile(local, spark)


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def test_partitions_with_no_rows_one_row_and_only_nulls(
    baseline: Baseline, engine: Any, spark: Any
) -> None:
    from monitor.engines.spark_window import evaluate_on_spark

    window = frame(900, 2, drift=True, prefix="p")
    # text timestamps: Spark DataFrames made from pandas carry µs timestamps, text keeps both sides alike
    for c in ("timestamp", "opened"):
        window[c] = window[c].dt.strftime("%Y-%m-%dT%H:%M:%S")
    window["owner"] = window["owner"].astype(object)
    nulls = window.iloc[:40].copy()
    nulls["request_id"] = [f"n{i}" for i in range(40)]
    for c in ("income", "children", "purpose", "owner", "opened"):
        nulls[c] = np.nan if c == "income" else None
    pieces = [
        window.iloc[:500],
        window.iloc[500:500],
        window.iloc[500:501],
        nulls,
        window.iloc[501:],
    ]
    ddl = (
        "request_id string, timestamp string, income double, children string, purpose string, "
        "owner boolean, opened string, prediction string, score double, default long"
    )
    # one Spark partition per piece (a union of small frames would be folded into one)
    rows = [[tuple(_plain(v) for v in row) for row in p.itertuples(index=False)] for p in pieces]
    rdd = spark.sparkContext.parallelize(range(len(rows)), len(rows)).flatMap(lambda i: rows[i])
    df = spark.createDataFrame(rdd, schema=ddl)
    assert df.rdd.glom().map(len).collect() == [500, 0, 1, 40, 399]

    whole = pd.concat(pieces, ignore_index=True)
    local = evaluate_window(baseline, iter_batches(whole, batch_rows=128), threads=1)
    on_spark = evaluate_on_spark(engine, baseline, df)
    assert on_spark.profile is not None and local.profile is not None
    assert_same_profile(local.profile, on_spark.profile)
    assert_same_results(local, on_spark)
    purpose = on_spark.profile.columns["purpose"]
    assert isinstance(purpose, CategoricalProfile) and purpose.nulls >= 40 and purpose.unseen > 0


def test_an_empty_window_is_no_data_on_both_engines(
    files: dict[str, Path], baseline: Baseline, engine: Any
) -> None:
    from monitor.engines.spark_window import evaluate_on_spark

    start = pd.Timestamp("2030-01-01", tz="UTC")  # a day with no rows in the data
    end = start + pd.Timedelta(days=1)
    spark = evaluate_on_spark(
        engine, baseline, files["window"], window=Window(start, end), time_column="timestamp"
    )
    local = evaluate_window(baseline, iter([]), threads=1, window=Window(start, end))
    assert spark.row_count == local.row_count == 0
    assert spark.status == local.status == "no_data"
    assert_same_results(local, spark)


def test_executors_run_this_checkout_of_raiwatch(spark: Any) -> None:
    import monitor

    where = (
        spark.sparkContext.parallelize([0], 1)
        .map(lambda _: __import__("monitor").__file__)
        .collect()
    )
    assert where == [monitor.__file__]


def test_a_missing_column_is_the_same_error_on_both_engines(
    files: dict[str, Path], baseline: Baseline, engine: Any, tmp_path: Path
) -> None:
    from monitor.engines.spark_window import evaluate_on_spark
    from monitor.errors import DataError

    path = write(
        pd.read_parquet(files["window"]).drop(columns=["income"]), tmp_path / "no_income.parquet"
    )
    with pytest.raises(DataError) as local:
        evaluate_window(baseline, iter_batches(path), threads=1)
    with pytest.raises(DataError) as spark:
        evaluate_on_spark(engine, baseline, path)
    assert str(spark.value) == str(local.value)
    assert "missing required column(s) ['income']" in str(spark.value)


def test_errors_raised_in_executors_come_back_as_raiwatch_errors() -> None:
    from monitor.engines.spark import _unwrapped
    from monitor.errors import DataError

    wrapped = RuntimeError(
        "An exception was thrown from the Python worker.\nTraceback (most recent call last):\n"
        '  File "conform.py", line 180, in conform\n'
        "monitor.errors.DataError: window has the column 'x' more than once; keep one\n"
    )
    err = _unwrapped(wrapped)
    assert (
        isinstance(err, DataError)
        and str(err) == "window has the column 'x' more than once; keep one"
    )
    other = RuntimeError("java.lang.OutOfMemoryError")
    assert _unwrapped(other) is other


def test_a_table_name_is_read_by_the_session(
    files: dict[str, Path], baseline: Baseline, engine: Any
) -> None:
    """A table (here a temporary view) has Spark's own types: µs UTC timestamps, no file schema."""
    window = pd.read_parquet(files["window"])
    engine.session.createDataFrame(window).createOrReplaceTempView("credit_window")
    plan = baseline.window_plan()
    local = LocalEngine(threads=1).profile(window, plan)
    spark = engine.profile("credit_window", plan)
    assert_documents_match(local.to_document(), spark.to_document(), "profile")
    assert local.reservoir.table is not None and spark.reservoir.table is not None
    ids = spark.reservoir.table.column("request_id").to_pylist()
    assert ids == local.reservoir.table.column("request_id").to_pylist()
