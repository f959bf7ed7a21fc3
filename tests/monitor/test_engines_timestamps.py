"""Parquet timestamps of every unit, naive and time-zone-aware, read alike by both engines.

Spark reads µs and ms timestamps natively (naive ones as ``timestamp_ntz``) and
nanosecond ones only as epoch-ns longs; the engine casts every column back to
the file's type and filters windows in the file's unit. Each file holds strictly
increasing times with sub-unit offsets, so a window ``[t[a], t[b])`` holds exactly
``b - a`` rows and a bound 1 ns after ``t[a]`` drops row ``a``: known answers,
checked against both engines and against pandas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitor.engines.local import LocalEngine
from monitor.errors import DataError
from monitor.profiles.dataset import ColumnPlan, ProfilePlan
from monitor.spec.model_version import FeatureSpec
from tests.monitor.test_engines_spark import assert_same_profile

pytestmark = pytest.mark.slow

N = 600
UNITS = ("ns", "us", "ms")
ZONES = (None, "UTC", "America/New_York")
PLAN = ProfilePlan(
    (ColumnPlan(FeatureSpec(name="income", type="numeric")),
     ColumnPlan(FeatureSpec(name="opened", type="datetime"))),
    reservoir_size=200, key_column="request_id", passthrough=("ts",),
)  # fmt: skip


def times(unit: str) -> pd.DatetimeIndex:
    """Strictly increasing times, 1 h 13 min apart plus an offset below every unit."""
    step = np.arange(N, dtype=np.int64) * (4_380 * 10**9 + 123_456_789)
    ns = np.datetime64("2026-01-01T00:00:00", "ns") + step.astype("timedelta64[ns]")
    return pd.DatetimeIndex(ns.astype(f"datetime64[{unit}]"))


def write(tmp: Path, unit: str, zone: str | None) -> Path:
    t = times(unit)
    arr = pa.array(t.to_numpy(), pa.timestamp(unit))
    if zone is not None:  # the same instants, labelled with a zone
        arr = arr.cast(pa.timestamp(unit, "UTC")).cast(pa.timestamp(unit, zone))
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "request_id": [f"r{i}" for i in range(N)],
            "ts": arr,
            "opened": arr,
            "income": rng.normal(50.0, 10.0, N),
        }
    )
    path = tmp / f"ts_{unit}_{zone or 'naive'}.parquet".replace("/", "_")
    pq.write_table(table, path, row_group_size=100)
    return path


def bound(unit: str, zone: str | None, i: int, plus_ns: int = 0) -> pd.Timestamp:
    """Row ``i``'s time (+ ``plus_ns``), naive for naive files, in the file's zone otherwise."""
    t = pd.Timestamp(times(unit)[i]) + pd.Timedelta(plus_ns, "ns")
    return t if zone is None else t.tz_localize("UTC").tz_convert(zone)


def pandas_count(path: Path, start: pd.Timestamp, end: pd.Timestamp) -> int:
    ts = pd.read_parquet(path)["ts"]
    ts = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts
    s = start.tz_localize("UTC") if start.tzinfo is None else start
    e = end.tz_localize("UTC") if end.tzinfo is None else end
    return int(((ts >= s) & (ts < e)).sum())


@pytest.fixture(scope="module")
def engine(spark: Any) -> Any:
    from monitor.engines.spark import SparkEngine

    return SparkEngine(spark)


@pytest.mark.parametrize("zone", ZONES, ids=lambda z: z or "naive")
@pytest.mark.parametrize("unit", UNITS)
def test_windows_by_time_hold_the_same_rows_on_both_engines(
    tmp_path: Path, engine: Any, unit: str, zone: str | None
) -> None:
    path = write(tmp_path, unit, zone)
    whole_local = LocalEngine(threads=1).profile(path, PLAN)
    whole_spark = engine.profile(path, PLAN)
    assert_same_profile(whole_local, whole_spark)  # the sampled `ts` is back in the file's type
    assert whole_spark.reservoir.table is not None
    assert whole_spark.reservoir.table.schema.field("ts").type == pq.read_schema(path).field("ts").type

    windows = [
        (bound(unit, zone, 100), bound(unit, zone, 400), 300),  # start inclusive, end exclusive
        (bound(unit, zone, 200, 1), bound(unit, zone, 300, 1), 100),  # 1 ns after: rows 201..300
    ]
    for start, end, rows in windows:
        assert pandas_count(path, start, end) == rows
        local = LocalEngine(threads=1).profile(path, PLAN, start=start, end=end, time_column="ts")
        on_spark = engine.profile(path, PLAN, start=start, end=end, time_column="ts")
        assert local.row_count == on_spark.row_count == rows, (unit, zone, start, end)
        assert_same_profile(local, on_spark)
    # naive bounds mean UTC on every file, aware ones are instants
    utc_start = pd.Timestamp(times(unit)[100]).tz_localize("UTC")
    utc_end = pd.Timestamp(times(unit)[400])  # naive
    assert engine.profile(path, PLAN, start=utc_start, end=utc_end, time_column="ts").row_count == 300
    if zone is None:  # naive times are UTC wall-clock times whatever the Spark session's zone
        old = engine.session.conf.get("spark.sql.session.timeZone")
        engine.session.conf.set("spark.sql.session.timeZone", "Asia/Kolkata")
        try:
            got = engine.profile(path, PLAN, start=windows[0][0], end=windows[0][1], time_column="ts")
        finally:
            engine.session.conf.set("spark.sql.session.timeZone", old)
        assert got.row_count == 300
        # sessions that read naive Parquet timestamps as Spark `timestamp` (not timestamp_ntz)
        key = "spark.sql.parquet.inferTimestampNTZ.enabled"
        old = engine.session.conf.get(key)
        engine.session.conf.set(key, "false")
        try:
            if unit != "ns":
                assert dict(engine.read(path).dtypes)["ts"] == "timestamp"
            legacy = engine.profile(path, PLAN, start=windows[0][0], end=windows[0][1], time_column="ts")
        finally:
            engine.session.conf.set(key, old)
        assert legacy.row_count == 300
        assert_same_profile(
            LocalEngine(threads=1).profile(path, PLAN, start=windows[0][0], end=windows[0][1], time_column="ts"),
            legacy,
        )


def test_a_session_without_nanos_as_long_is_a_clear_error(tmp_path: Path, engine: Any) -> None:
    path = write(tmp_path, "ns", None)
    key = "spark.sql.legacy.parquet.nanosAsLong"
    old = engine.session.conf.get(key)
    engine.session.conf.set(key, "false")
    try:
        with pytest.raises(DataError, match=r"nanosecond timestamps .*parquet\.nanosAsLong=true"):
            engine.profile(path, PLAN)
    finally:
        engine.session.conf.set(key, old)
    assert engine.profile(path, PLAN).row_count == N


def test_nanosecond_longs_without_a_file_schema_are_refused(
    tmp_path: Path, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns_path, us_path = write(tmp_path, "ns", "UTC"), write(tmp_path, "us", "UTC")
    # a table made from the ns file: Spark's bigint, and no Parquet schema to tell
    engine.session.read.parquet(str(ns_path)).createOrReplaceTempView("ns_as_long")
    with pytest.raises(DataError, match=r"time column 'ts' as bigint"):
        engine.profile("ns_as_long", PLAN, start="2026-01-02", end="2026-01-03", time_column="ts")
    # a remote path (no local schema): a datetime feature read as bigint is refused...
    monkeypatch.setattr(type(engine), "_arrow_schema", lambda self, source: None)
    with pytest.raises(DataError, match=r"datetime column\(s\) \['opened'\] as bigint"):
        engine.profile(str(ns_path), PLAN)
    # ...while µs timestamps, which Spark reads natively, are profiled as usual
    assert engine.profile(str(us_path), PLAN).row_count == N


def test_a_time_column_that_is_not_a_timestamp_is_refused_on_both_engines(
    tmp_path: Path, engine: Any
) -> None:
    path = tmp_path / "text_ts.parquet"
    df = pd.DataFrame({"request_id": ["a", "b"], "ts": [1, 2], "opened": pd.Timestamp("2026-01-01"),
                       "income": [1.0, 2.0]})  # fmt: skip
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    for profile in (LocalEngine(threads=1).profile, engine.profile):
        with pytest.raises(DataError, match=r"time column 'ts' has (Spark )?type .*not a timestamp"):
            profile(path, PLAN, start="2026-01-01", end="2026-01-02", time_column="ts")
