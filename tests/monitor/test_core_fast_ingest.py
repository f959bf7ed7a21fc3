"""The fast ingestion path gives the same stored rows as the row-by-row path, and falls back
to it whenever a row might be rejected; group commit keeps every batch's own answer."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from jobs.ingest import BatchRejected, ingest_rows, parse_batch
from monitor.ingest.fast_rows import clean_log_table
from monitor.ingest.group_commit import GroupCommit
from monitor.ingest.log_rows import TimestampBounds, log_schema, validate_logs
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import ModelVersion

MV = ModelVersion.model_validate({
    "name": "credit", "version": "1", "task": "binary", "scores": ["score"],
    "features": {"age": "numeric", "purpose": "categorical", "vip": "boolean", "seen": "datetime"},
})  # fmt: skip
BOUNDS = TimestampBounds()


def _rows(n: int = 6) -> list[dict[str, object]]:
    t0 = dt.datetime(2024, 3, 1, 23, 58, tzinfo=dt.UTC)
    return [{"request_id": f" r{i} ", "timestamp": (t0 + dt.timedelta(minutes=i)).isoformat(),
             "age": [31, 40.5, None, 7, 0, -3][i % 6], "purpose": ["car", "home", None, "3", "car", "x"][i % 6],
             "vip": [True, False, None, True, True, False][i % 6], "seen": "2024-02-01T00:00:00Z",
             "prediction": str(i % 2), "score": i / 10, "extra": "ignored"}
            for i in range(n)]  # fmt: skip


def _slow(frame: pd.DataFrame) -> pa.Table:
    accepted, rejected, _ = validate_logs(MV, frame, bounds=BOUNDS)
    assert rejected.empty
    return pa.Table.from_pandas(accepted, schema=log_schema(MV), preserve_index=False)


@pytest.mark.parametrize("variant", ["iso_offsets", "naive_iso", "arrow_typed", "nan_scores"])
def test_a_clean_batch_is_stored_exactly_as_the_row_by_row_path_stores_it(variant: str) -> None:
    rows = _rows()
    if variant == "naive_iso":
        for r in rows:
            r["timestamp"] = str(r["timestamp"]).replace("+00:00", "")
    table = pa.Table.from_pylist(rows)
    if variant == "arrow_typed":
        table = table.set_column(1, "timestamp", pa.array(
            [dt.datetime.fromisoformat(str(r["timestamp"])) for r in rows], pa.timestamp("us", tz="Europe/Paris")))  # fmt: skip
    if variant == "nan_scores":
        table = table.set_column(table.schema.get_field_index("score"), "score",
                                 pa.array([float("nan"), 0.1, 0.2, None, 0.4, 0.5]))  # fmt: skip
    fast = clean_log_table(MV, table, BOUNDS)
    assert fast is not None
    assert fast[1] == ["extra"]
    assert fast[0].equals(_slow(table.to_pandas()))


@pytest.mark.parametrize(
    "spoil",
    [
        lambda rows: rows[2].update(request_id=None),
        lambda rows: rows[2].update(request_id="  "),
        lambda rows: rows[3].update(request_id=rows[1]["request_id"]),
        lambda rows: rows[2].update(timestamp="not a date"),
        lambda rows: rows[2].update(timestamp="2099-01-01T00:00:00Z"),
        lambda rows: rows[2].update(timestamp="1990-01-01T00:00:00Z"),
        lambda rows: rows[2].update(prediction=None),
        lambda rows: [r.update(timestamp=1_709_251_200 + i) for i, r in enumerate(rows)],
        lambda rows: [r.update(request_id=i) for i, r in enumerate(rows)],
    ],
    ids=["null id", "blank id", "repeated id", "bad timestamp", "future", "too old", "no prediction",
         "epoch numbers", "numeric ids"],
)  # fmt: skip
def test_anything_that_might_be_rejected_goes_row_by_row(spoil: object) -> None:
    rows = _rows()
    spoil(rows)  # type: ignore[operator]
    assert clean_log_table(MV, pa.Table.from_pylist(rows), BOUNDS) is None


def test_parse_batch_reads_json_into_columns_and_falls_back_on_mixed_kinds() -> None:
    import json

    body = json.dumps(_rows()).encode()
    assert isinstance(parse_batch(body, "application/json"), pa.Table)
    ndjson = "\n".join(json.dumps(r) for r in _rows()).encode()
    assert parse_batch(ndjson, "application/x-ndjson").equals(parse_batch(body, "application/json"))
    mixed = _rows()
    mixed[1]["age"] = "forty"  # a number column with a string: pandas reads it, as before
    assert isinstance(parse_batch(json.dumps(mixed).encode(), "application/json"), pd.DataFrame)
    ragged = _rows()
    del ragged[0]["extra"]  # keys of every row, not only the first row's
    assert "extra" in parse_batch(json.dumps(ragged).encode(), "application/json").column_names
    with pytest.raises(BatchRejected, match="not JSON"):
        parse_batch(b"[{", "application/json")
    with pytest.raises(BatchRejected, match="not valid UTF-8"):
        parse_batch(b'[{"a": "\xff"}]', "application/json")


def test_ndjson_read_by_arrow_stores_what_json_stores(tmp_path: Path) -> None:
    import json

    rows = _rows(12)
    rows[3]["extra"] = "2024-01-01T00:00:00"  # an ignored column that looks like a date
    ndjson = "\n".join(json.dumps(r) for r in rows).encode()
    table = parse_batch(ndjson, "application/x-ndjson", MV)
    assert isinstance(table, pa.Table) and table.schema.field("timestamp").type == pa.string()
    stores = [LogStore(tmp_path / "nd"), LogStore(tmp_path / "js")]
    ingest_rows(stores[0], MV, table, "logs", source="t")
    ingest_rows(stores[1], MV, parse_batch(json.dumps(rows).encode(), "application/json"), "logs", source="t")
    read = [pa.Table.from_batches(list(s.scan(MV))).sort_by("request_id") for s in stores]
    assert read[0].num_rows == 12 and read[0].equals(read[1])
    mixed = b'{"request_id": "a", "age": 1}\n{"request_id": "b", "age": "x"}'
    assert isinstance(parse_batch(mixed, "application/x-ndjson", MV), pd.DataFrame)  # the reference reader
    with pytest.raises(BatchRejected, match="not valid UTF-8"):
        parse_batch(b'{"a": "\xff"}', "application/x-ndjson", MV)
    with pytest.raises(BatchRejected, match="hold text that is not valid Unicode"):
        parse_batch(b'{"request_id": "\\ud800"}', "application/x-ndjson", MV)


def test_both_paths_store_the_same_rows_and_reject_the_same_way(tmp_path: Path) -> None:
    fast_store, slow_store = LogStore(tmp_path / "fast"), LogStore(tmp_path / "slow")
    table = pa.Table.from_pylist(_rows())
    fast = ingest_rows(fast_store, MV, table, "logs", source="t")
    slow = ingest_rows(slow_store, MV, table.to_pandas(), "logs", source="t")
    assert fast == slow and fast.accepted == 6 and fast.ignored_columns == ["extra"]
    read = [pa.Table.from_batches(list(s.scan(MV))).sort_by("request_id") for s in (fast_store, slow_store)]
    assert read[0].equals(read[1]) and read[0].num_rows == 6
    again = ingest_rows(fast_store, MV, table, "logs", source="t")
    assert (again.accepted, again.duplicates) == (0, 6)
    bad = _rows()
    bad[4]["timestamp"] = "garbage"
    with pytest.raises(BatchRejected) as err:
        ingest_rows(fast_store, MV, pa.Table.from_pylist(bad), "logs", source="t")
    assert [e["row"] for e in err.value.errors] == [4]
    assert err.value.errors[0]["reason"].startswith("invalid_timestamp")


def test_concurrent_batches_share_a_commit_and_each_gets_its_own_answer(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    rows = [dict(r, request_id=f"id{i}") for i, r in enumerate(_rows(6))]
    batches = [pa.Table.from_pylist(rows[:4]), pa.Table.from_pylist(rows[2:]), pa.Table.from_pylist(rows[4:])]
    tables = [clean_log_table(MV, b, BOUNDS)[0] for b in batches]  # type: ignore[index]
    commits: list[int] = []
    original = store._commit_logs

    def counting(mv: ModelVersion, group: list[pa.Table]) -> object:
        commits.append(len(group))
        return original(mv, group)

    store._commit_logs = counting  # type: ignore[method-assign]
    gate = threading.Event()
    results: dict[int, object] = {}
    # the first commit waits until the other two are queued, so they go in one group
    store._groups[(MV.name, MV.version)] = GroupCommit(
        lambda items: (gate.wait(5), counting(MV, list(items)))[1])  # type: ignore[arg-type]  # fmt: skip
    threads = [threading.Thread(target=lambda k=k: results.__setitem__(k, store.append_logs(MV, tables[k])))
               for k in range(3)]  # fmt: skip
    threads[0].start()
    while not store._groups[(MV.name, MV.version)]._busy:
        time.sleep(0.001)
    threads[1].start()
    threads[2].start()
    while len(store._groups[(MV.name, MV.version)]._queue) < 2:
        time.sleep(0.001)
    gate.set()
    for t in threads:
        t.join(10)
    assert commits == [1, 2]  # the two waiting batches were written together
    answers = {k: (r.accepted, r.duplicates) for k, r in results.items()}  # type: ignore[attr-defined]
    # batch 1 repeats ids 2-3 of batch 0; batch 2 repeats ids 4-5, which batch 1 stores in the same group
    assert answers[0] == (4, 0)
    assert sorted([answers[1], answers[2]]) == [(0, 2), (2, 2)]
    stored = pa.Table.from_batches(list(store.scan(MV)))
    assert sorted(stored.column("request_id").to_pylist()) == [f"id{i}" for i in range(6)]


def test_a_failed_group_commit_fails_every_batch_in_it() -> None:
    def boom(items: object) -> list[int]:
        raise OSError("disk full")

    gc: GroupCommit[int, int] = GroupCommit(boom)
    with pytest.raises(OSError, match="disk full"):
        gc.submit(1)
    ok: GroupCommit[int, int] = GroupCommit(lambda items: [i + 1 for i in items], max_items=2)
    out: list[int] = []
    threads = [threading.Thread(target=lambda i=i: out.append(ok.submit(i))) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(out) == list(range(1, 21))
