"""The inference-log store: quarantine with reasons, date partitions, time scans, labels."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset
import pytest

from monitor.errors import DataError
from monitor.ingest.log_rows import log_schema
from monitor.ingest.logstore import LogStore
from monitor.spec.model_version import parse_model_version

MV = parse_model_version(
    {
        "name": "m",
        "version": "2",
        "task": "binary",
        "features": {"a": "numeric", "c": "categorical"},
        "scores": ["score"],
        "classes": ["0", "1"],
    }
)
UTC = dt.UTC


def logs(
    n: int, start: str = "2026-05-01T00:00:00Z", freq: str = "6h", prefix: str = "r"
) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "request_id": [f"{prefix}{i}" for i in range(n)],
            "timestamp": pd.date_range(start, periods=n, freq=freq),
            "a": rng.normal(size=n),
            "c": rng.choice(["x", "y"], n),
            "prediction": rng.choice(["0", "1"], n),
            "score": rng.random(n),
        }
    )


def scan_frame(
    store: LogStore, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> pd.DataFrame:
    batches = list(store.scan(MV, start, end))
    if not batches:
        return pd.DataFrame(columns=log_schema(MV).names)
    return pa.Table.from_batches(batches).to_pandas()


def test_ingest_splits_accepted_and_quarantined_with_reasons(tmp_path: Path) -> None:
    df = logs(10)
    df["timestamp"] = df["timestamp"].astype(object)
    df["prediction"] = df["prediction"].astype(object)
    df.loc[1, "request_id"] = None
    df.loc[2, "request_id"] = "  "
    df.loc[3, "timestamp"] = "not a date"
    df.loc[4, "timestamp"] = None
    df.loc[5, "prediction"] = None
    df.loc[6, "request_id"] = "r0"  # repeats row 0
    store = LogStore(tmp_path)
    report = store.ingest_frame(MV, df, source="batch-1")
    assert (report.accepted, report.quarantined) == (4, 6)
    assert report.reasons == {
        "missing_request_id": 2, "invalid_timestamp": 2, "missing_prediction": 1, "duplicate_request_id": 1,
    }  # fmt: skip
    stored = scan_frame(store)
    assert sorted(stored["request_id"]) == ["r0", "r7", "r8", "r9"]
    # the first r0 is the one kept
    assert stored.set_index("request_id").loc["r0", "a"] == df.loc[0, "a"]
    q = store.read_quarantine(MV).sort_values("row").reset_index(drop=True)
    assert len(q) == 6 and set(q["source"]) == {"batch-1"}
    by_id = {
        json.loads(row)["request_id"]: reason
        for row, reason in zip(q["row"], q["reason"], strict=True)
    }
    assert by_id["r3"] == "invalid_timestamp: 'timestamp' is missing or not a date"
    assert by_id["r5"] == "missing_prediction: no value in 'prediction'"
    assert by_id["r0"] == "duplicate_request_id: the same request id appears earlier in this batch"
    assert by_id[None] == "missing_request_id: no value in 'request_id'"
    # the quarantined row keeps its original values
    assert json.loads(q.loc[q["row"].str.contains('"r3"'), "row"].iloc[0])["a"] == pytest.approx(
        df.loc[3, "a"]
    )


def test_a_row_is_quarantined_for_its_first_problem_only(tmp_path: Path) -> None:
    df = logs(2)
    df["timestamp"] = df["timestamp"].astype(object)
    df.loc[1, ["request_id", "timestamp", "prediction"]] = [None, "bad", None]
    report = LogStore(tmp_path).ingest_frame(MV, df)
    assert report.reasons == {"missing_request_id": 1}


def test_rows_are_partitioned_by_utc_date(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    df = logs(12, start="2026-05-01T00:00:00Z", freq="6h")  # 3 days, 4 rows each
    df.loc[0, "timestamp"] = pd.Timestamp("2026-05-01T01:30:00+02:00")  # 2026-04-30 23:30 UTC
    report = store.ingest_frame(MV, df)
    assert report.accepted == 12
    assert store.days(MV) == [
        dt.date(2026, 4, 30),
        dt.date(2026, 5, 1),
        dt.date(2026, 5, 2),
        dt.date(2026, 5, 3),
    ]
    base = tmp_path / "logs" / "model=m" / "version=2"
    per_day = {p.name: pq_rows(p) for p in sorted(base.iterdir())}
    assert per_day == {
        "date=2026-04-30": 1,
        "date=2026-05-01": 3,
        "date=2026-05-02": 4,
        "date=2026-05-03": 4,
    }
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporary file
    stored = scan_frame(store).set_index("request_id")
    assert stored.loc["r0", "timestamp"] == pd.Timestamp("2026-04-30T23:30:00Z")


def pq_rows(directory: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in directory.glob("*.parquet"))


def test_scan_window_is_start_inclusive_end_exclusive(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    store.ingest_frame(MV, logs(12, freq="6h"))  # 05-01 00:00 ... 05-03 18:00
    got = scan_frame(
        store, dt.datetime(2026, 5, 1, 12, tzinfo=UTC), dt.datetime(2026, 5, 2, 12, tzinfo=UTC)
    )
    assert sorted(got["timestamp"].dt.strftime("%m-%d %H")) == [
        "05-01 12",
        "05-01 18",
        "05-02 00",
        "05-02 06",
    ]
    # naive datetimes are UTC; other zones are converted
    naive = scan_frame(store, dt.datetime(2026, 5, 1, 12), dt.datetime(2026, 5, 2, 12))
    assert sorted(naive["request_id"]) == sorted(got["request_id"])
    zoned = dt.timezone(dt.timedelta(hours=-6))
    shifted = scan_frame(
        store, dt.datetime(2026, 5, 1, 6, tzinfo=zoned), dt.datetime(2026, 5, 2, 6, tzinfo=zoned)
    )
    assert sorted(shifted["request_id"]) == sorted(got["request_id"])
    assert len(scan_frame(store)) == 12
    assert len(scan_frame(store, start=dt.datetime(2026, 5, 3, 18, tzinfo=UTC))) == 1
    assert len(scan_frame(store, end=dt.datetime(2026, 5, 1, 0, tzinfo=UTC))) == 0
    cols = pa.Table.from_batches(list(store.scan(MV, columns=["request_id", "a"]))).schema.names
    assert cols == ["request_id", "a"]


def test_scan_of_an_unknown_model_is_empty(tmp_path: Path) -> None:
    assert list(LogStore(tmp_path).scan(MV)) == []
    assert LogStore(tmp_path).days(MV) == []


def test_appends_accumulate_across_ingests(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    store.ingest_frame(MV, logs(3, prefix="a"))
    store.ingest_frame(MV, logs(3, prefix="b"))
    assert sorted(scan_frame(store)["request_id"]) == ["a0", "a1", "a2", "b0", "b1", "b2"]


def test_stored_schema_is_canonical(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    df = logs(3)
    df["c"] = [1, 2, 3]  # integers in a categorical column are stored as text
    df["timestamp"] = df["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")  # ISO strings are parsed
    store.ingest_frame(MV, df)
    table = pa.Table.from_batches(list(store.scan(MV)))
    assert table.schema.equals(log_schema(MV))
    assert table.column("c").to_pylist() == ["1", "2", "3"]


# --- labels ----------------------------------------------------------------------------


def test_labels_last_one_wins(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    first = pd.DataFrame(
        {
            "request_id": ["r1", "r2", "r3"],
            "label": ["0", "1", "0"],
            "label_timestamp": pd.to_datetime(["2026-05-02T00:00Z"] * 3),
        }
    )
    second = pd.DataFrame(
        {
            "request_id": ["r2", "r3"],
            "label": ["0", "1"],
            "label_timestamp": pd.to_datetime(["2026-05-03T00:00Z", "2026-05-01T00:00Z"]),
        }
    )
    assert store.ingest_labels_frame(MV, first).accepted == 3
    assert store.ingest_labels_frame(MV, second).accepted == 2
    labels = store.read_labels(MV).set_index("request_id")["label"].to_dict()
    # corrections are decided by arrival order: r3's second label arrived later and wins
    # even though its label_timestamp is older (a client clock must not pin a label)
    assert labels == {"r1": "0", "r2": "0", "r3": "1"}


def test_duplicate_labels_in_one_batch_keep_the_last_row(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    store.ingest_labels_frame(
        MV, pd.DataFrame({"request_id": ["r1", "r1", "r1"], "label": [0, 1, 1.0]})
    )
    got = store.read_labels(MV)
    assert got["request_id"].tolist() == ["r1"] and got["label"].tolist() == ["1"]


def test_label_rows_are_validated(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    df = pd.DataFrame(
        {"request_id": ["r1", None, "r3", "r4"], "label": ["1", "0", None, "2"], "note": "x"}
    )
    report = store.ingest_labels_frame(MV, df)
    assert (report.accepted, report.quarantined) == (1, 3)
    assert report.reasons == {"missing_request_id": 1, "missing_label": 1, "invalid_label": 1}
    assert report.ignored_columns == ["note"]
    reasons = set(store.read_quarantine(MV)["reason"])
    assert "invalid_label: not one of the classes ['0', '1']" in reasons


def test_labels_may_use_the_target_column_name(tmp_path: Path) -> None:
    mv = parse_model_version(
        {
            "name": "r",
            "version": "1",
            "task": "regression",
            "features": {"a": "numeric"},
            "target": "price",
        }
    )
    store = LogStore(tmp_path)
    report = store.ingest_labels_frame(
        mv, pd.DataFrame({"request_id": ["a", "b"], "price": ["3.5", "cheap"]})
    )
    assert (report.accepted, report.reasons) == (1, {"invalid_label": 1})
    assert store.read_labels(mv)["label"].tolist() == [3.5]


def test_labels_without_an_id_column_are_refused(tmp_path: Path) -> None:
    with pytest.raises(
        DataError,
        match=r"labels for m:2 .* is missing required column\(s\) \['request_id'\]; available columns: \['id', 'label'\]",
    ):
        LogStore(tmp_path).ingest_labels_frame(MV, pd.DataFrame({"id": ["a"], "label": ["1"]}))
    assert LogStore(tmp_path).read_labels(MV).empty


def test_ingest_file_reads_csv_parquet_and_jsonl(tmp_path: Path) -> None:
    df = logs(6)
    df.to_csv(tmp_path / "l.csv", index=False)
    df.assign(request_id=df["request_id"] + "p").to_parquet(tmp_path / "l.parquet", index=False)
    df.assign(request_id=df["request_id"] + "j", timestamp=df["timestamp"].astype(str)).to_json(
        tmp_path / "l.jsonl", orient="records", lines=True
    )
    store = LogStore(tmp_path / "store")
    for name in ("l.csv", "l.parquet", "l.jsonl"):
        report = store.ingest_file(MV, tmp_path / name)
        assert (report.accepted, report.quarantined) == (6, 0), name
    stored = scan_frame(store)
    assert len(stored) == 18
    csv_rows = stored[~stored["request_id"].str.endswith(("p", "j"))].sort_values("request_id")
    assert csv_rows["a"].to_numpy() == pytest.approx(
        df.sort_values("request_id")["a"].to_numpy(), rel=1e-15
    )


def test_numeric_timestamps_are_epoch_seconds(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    df = logs(3)
    # 2026-01-01T00:00Z and one minute later as Unix seconds; milliseconds do not fit
    df["timestamp"] = [1_767_225_600, 1_767_225_660, 1_767_225_600_000]
    report = store.ingest_frame(MV, df)
    assert (report.accepted, report.reasons) == (2, {"invalid_timestamp": 1})
    assert store.days(MV) == [dt.date(2026, 1, 1)]
    stored = scan_frame(store).sort_values("request_id")
    assert stored["timestamp"].tolist() == [
        pd.Timestamp("2026-01-01T00:00:00Z"),
        pd.Timestamp("2026-01-01T00:01:00Z"),
    ]


def test_a_rejected_first_occurrence_does_not_make_the_next_row_a_duplicate(tmp_path: Path) -> None:
    frame = logs(3)
    frame["request_id"] = ["dup", "dup", "other"]
    frame.loc[0, "timestamp"] = None  # the first "dup" is rejected for its timestamp
    report = LogStore(tmp_path).ingest_frame(MV, frame)
    assert (report.accepted, report.quarantined) == (2, 1)
    assert report.reasons == {"invalid_timestamp": 1}
    stored = pd.concat(b.to_pandas() for b in LogStore(tmp_path).scan(MV))
    assert sorted(stored["request_id"]) == ["dup", "other"]


def test_labels_with_the_same_timestamp_last_arrival_wins(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    ts = pd.to_datetime(["2026-05-02T00:00Z"])
    for label in ["0", "1", "0", "1"]:
        store.ingest_labels_frame(MV, pd.DataFrame({"request_id": ["r1"], "label": [label], "label_timestamp": ts}))
    assert store.read_labels(MV)["label"].tolist() == ["1"]


def test_numeric_datetime_features_are_epoch_seconds() -> None:
    from monitor.ingest.conform import conform
    from monitor.spec.model_version import FeatureSpec

    when = dt.datetime(2026, 5, 1, 12, tzinfo=UTC)
    frame = pd.DataFrame({"t": [when.timestamp(), None], "u": [when, None], "s": ["2026-05-01T12:00:00Z", "soon"]})
    specs = [FeatureSpec(name=c, type="datetime") for c in "tus"]
    table = conform(frame, specs).to_pandas()
    assert table["t"][0] == table["u"][0] == table["s"][0] == when.timestamp()
    assert table["_raiwatch_type_errors"].tolist() == [None, "s"]


def test_a_crash_between_the_files_of_one_batch_is_rolled_forward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import monitor.ingest.logstore as logstore_module

    frame = logs(8, freq="12h")  # 8 rows over 4 days: 4 files in one commit
    real_replace = logstore_module.os.replace
    published: list[str] = []

    def crash_after_two(src: str | Path, dst: str | Path) -> None:
        if str(dst).endswith(".parquet"):
            if len(published) == 2:
                raise KeyboardInterrupt("simulated crash")  # not an Exception: nothing catches it
            published.append(str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(logstore_module.os, "replace", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        LogStore(tmp_path).ingest_frame(MV, frame)
    monkeypatch.setattr(logstore_module.os, "replace", real_replace)
    half = sum(len(b) for b in pa.dataset.dataset(tmp_path / "logs", format="parquet").to_batches())
    assert half == 4  # two of four day-files were visible after the crash

    reopened = LogStore(tmp_path)  # opening the store finishes the interrupted commit
    stored = pd.concat(b.to_pandas() for b in reopened.scan(MV))
    assert sorted(stored["request_id"]) == sorted(frame["request_id"])
    assert not list((tmp_path / "_journal").glob("*.json"))


def test_labels_for_unknown_requests_and_repeated_labels_are_counted(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    store.ingest_frame(MV, logs(4))  # requests r0..r3
    first = pd.DataFrame({"request_id": ["r0", "r1"], "label": ["0", "1"]})
    report = store.ingest_labels_frame(MV, first, check_known=True)
    assert (report.accepted, report.relabelled, report.unknown_ids) == (2, 0, 0)
    again = pd.DataFrame({"request_id": ["r1", "r1", "ghost", "r2"], "label": ["0", "1", "1", "0"]})
    report = store.ingest_labels_frame(MV, again, check_known=True)
    # r1 twice in the batch and once before: two replacements; "ghost" was never logged
    assert (report.accepted, report.relabelled, report.unknown_ids) == (4, 2, 1)
    assert report.request_ids == ["ghost", "r1", "r2"]
    labels = store.read_labels(MV).set_index("request_id")["label"]
    assert labels.to_dict() == {"r0": "0", "r1": "1", "ghost": "1", "r2": "0"}  # kept aside, newest wins
