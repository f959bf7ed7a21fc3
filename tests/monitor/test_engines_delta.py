"""Delta tables as a source, on both engines, read from the log's current snapshot.

The table is written with ``deltalake`` in several commits -- an append, an
overwrite, a delete (which rewrites files) and another append -- so the Parquet
files on disk are not the table: a reader that listed the directory would read
rows that were overwritten or deleted. The expected rows are computed from the
same frames with pandas, independently of both readers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitor.baseline.reference import create_baseline
from monitor.engines.local import LocalEngine
from monitor.errors import DataError, EngineUnavailableError
from monitor.ingest.delta import delta_snapshot, is_delta_table
from monitor.ingest.sources import file_columns, iter_batches
from monitor.spec.engine import SourceSpec
from tests.monitor.test_engines_spark import MV, assert_same_profile, frame

deltalake = pytest.importorskip("deltalake", reason="Delta sources need pip install deltalake")

pytestmark = pytest.mark.slow
PARTITION = "purpose"  # a feature, with nulls: its values live only in the Delta log


def _us(df: pd.DataFrame) -> pa.Table:
    """Delta stores microsecond timestamps."""
    out = df.copy()
    for c in ("timestamp", "opened"):
        out[c] = out[c].astype("datetime64[us, UTC]")
    out["children"] = out["children"].astype(object)
    return pa.Table.from_pandas(out, preserve_index=False)


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rows = frame(3000, 11, prefix="d")
    path = tmp_path_factory.mktemp("delta") / "credit_logs"
    write = deltalake.write_deltalake
    write(path, _us(rows.iloc[:1200]), partition_by=[PARTITION])
    write(path, _us(rows.iloc[1200:2000]), mode="append", partition_by=[PARTITION])
    write(path, _us(rows.iloc[500:2500]), mode="overwrite", partition_by=[PARTITION])
    deltalake.DeltaTable(path).delete("income > 650")
    write(path, _us(rows.iloc[2500:]), mode="append", partition_by=[PARTITION])
    kept = rows.iloc[500:2500]
    expected = pd.concat([kept[~(kept["income"] > 650)], rows.iloc[2500:]], ignore_index=True)
    return {"path": path, "expected": _us(expected).to_pandas()}


def test_the_snapshot_is_not_the_directory_listing(table: dict[str, Any]) -> None:
    path, expected = table["path"], table["expected"]
    snap = delta_snapshot(path)
    on_disk = sorted(str(p) for p in path.rglob("*.parquet"))
    assert is_delta_table(path) and snap.version == 4
    assert len(on_disk) > len(snap.files), "overwritten and deleted files must still be on disk"
    listed = sum(pq.ParquetFile(p).metadata.num_rows for p in on_disk)
    assert listed > len(expected) == snap.rows  # reading the directory would be wrong
    assert snap.partition_columns == (PARTITION,)
    assert None in {f.partition_values[PARTITION] for f in snap.files}  # the null partition
    assert file_columns(path) == list(snap.schema.names)


def test_the_local_engine_reads_the_snapshot_rows(table: dict[str, Any]) -> None:
    got = pa.Table.from_batches(list(iter_batches(table["path"], batch_rows=100))).to_pandas()
    expected = table["expected"]
    assert len(got) == len(expected)
    key = "request_id"
    got = got.sort_values(key).reset_index(drop=True)[list(expected.columns)]
    pd.testing.assert_frame_equal(got, expected.sort_values(key).reset_index(drop=True))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return create_baseline(MV, frame(3000, 0), bins=30, reservoir_size=300, seed=3, threads=1)


def test_both_engines_profile_the_table_like_its_expected_rows(
    table: dict[str, Any], baseline: Any, spark: Any
) -> None:
    from monitor.engines.spark import SparkEngine

    plan = baseline.window_plan()
    expected = LocalEngine(threads=1).profile(table["expected"], plan)
    local = LocalEngine(threads=1, batch_rows=128).profile(table["path"], plan)
    engine = SparkEngine(spark)
    assert engine.read(table["path"]).rdd.getNumPartitions() > 1
    on_spark = engine.profile(table["path"], plan)
    assert local.row_count == on_spark.row_count == len(table["expected"])
    assert_same_profile(expected, local)
    assert_same_profile(expected, on_spark)
    # the partition column (not in the files) is profiled from the log's values, nulls included
    assert on_spark.columns[PARTITION].nulls == table["expected"][PARTITION].isna().sum() > 0


def test_a_delta_source_block_filters_the_window_on_spark(
    table: dict[str, Any], baseline: Any, spark: Any
) -> None:
    from monitor.engines.spark import SparkEngine

    start, end = pd.Timestamp("2026-01-01 12:00", tz="UTC"), pd.Timestamp("2026-01-02 06:00", tz="UTC")
    expected = table["expected"]
    inside = expected[(expected["timestamp"] >= start) & (expected["timestamp"] < end)]
    source = SourceSpec(path=str(table["path"]), format="delta", time_column="timestamp")
    plan = baseline.window_plan()
    on_spark = SparkEngine(spark).profile(source, plan, start=start, end=end)
    local = LocalEngine(threads=1).profile(
        table["path"], plan, start=start, end=end, time_column="timestamp"
    )
    assert 0 < on_spark.row_count == local.row_count == len(inside) < len(expected)
    assert_same_profile(LocalEngine(threads=1).profile(inside, plan), on_spark)


def test_a_baseline_from_a_delta_table_names_its_version(
    table: dict[str, Any], spark: Any
) -> None:
    from monitor.engines.spark import SparkEngine

    kwargs: dict[str, Any] = {"bins": 30, "reservoir_size": 300, "seed": 3, "threads": 1}
    local = create_baseline(MV, table["path"], **kwargs)
    on_spark = create_baseline(MV, table["path"], engine=SparkEngine(spark), **kwargs)
    assert local.source == {
        "kind": "delta", "path": str(table["path"]), "version": 4,
        "files": len(delta_snapshot(table["path"]).files), "rows": len(table["expected"]),
    }  # fmt: skip
    assert_same_profile(local.profile, on_spark.profile)
    json.dumps(local.to_document())  # the stored source is plain JSON


@pytest.mark.parametrize(
    ("config", "refused"),
    [
        ({"delta.enableDeletionVectors": "true"}, "deletion vectors"),
        ({"delta.columnMapping.mode": "name"}, "column mapping"),
    ],
)
def test_tables_with_unsupported_reader_features_are_refused(
    tmp_path: Path, config: dict[str, str], refused: str, spark: Any
) -> None:
    from monitor.engines.spark import SparkEngine

    path = tmp_path / "t"
    deltalake.write_deltalake(path, pa.table({"x": [1.0, 2.0, 3.0]}), configuration=config)
    for read in (
        lambda: list(iter_batches(path)),
        lambda: SparkEngine(spark).read(path),
        lambda: SparkEngine(spark).read(SourceSpec(path=str(path), format="delta")),
    ):
        with pytest.raises(DataError, match=f"cannot read the Delta table .* uses .*{refused}"):
            read()


def test_a_path_that_is_not_a_delta_table_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot open the Delta table"):
        delta_snapshot(tmp_path)


def test_a_missing_deltalake_is_a_clear_error(
    table: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "deltalake", None)
    with pytest.raises(EngineUnavailableError, match=r"pip install 'raiwatch\[spark\]'"):
        list(iter_batches(table["path"]))
