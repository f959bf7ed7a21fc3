"""The SDK's InferenceLogger: thread safety, flush triggers, close, retry and drops."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from monitor.ingest.logstore import IngestReport, LogStore
from monitor.ingest.sdk import InferenceLogger
from monitor.spec.model_version import ModelVersion, parse_model_version

MV = parse_model_version(
    {
        "name": "m",
        "version": "1",
        "task": "binary",
        "features": {"a": "numeric", "c": "categorical"},
        "scores": ["score"],
    }
)


class RecordingSink:
    """Keeps every frame it is given; can fail or block on demand."""

    def __init__(self, fail_times: int = 0, gate: threading.Event | None = None) -> None:
        self.frames: list[pd.DataFrame] = []
        self.fail_times = fail_times
        self.gate = gate
        self.entered = threading.Event()
        self.calls = 0

    def ingest_frame(
        self, mv: ModelVersion, frame: pd.DataFrame, *, source: str = ""
    ) -> IngestReport:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10), "test gate never opened"
        if self.fail_times:
            self.fail_times -= 1
            raise OSError("disk full")
        self.frames.append(frame.copy())
        return IngestReport(accepted=len(frame))

    @property
    def ids(self) -> list[str]:
        return [i for f in self.frames for i in f["request_id"]]


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def log_n(logger: InferenceLogger, n: int, prefix: str = "r") -> list[str]:
    return [
        logger.log(
            {"a": float(i), "c": "x"},
            prediction=str(i % 2),
            scores=[i / n],
            request_id=f"{prefix}{i}",
        )
        for i in range(n)
    ]


def test_rows_from_many_threads_are_stored_exactly_once(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    logger = InferenceLogger(MV, store, flush_rows=64, flush_interval_s=0.05)
    threads = [threading.Thread(target=log_n, args=(logger, 250, f"t{t}-")) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = logger.close()
    stored = pa.Table.from_batches(list(store.scan(MV))).to_pandas()
    expected = {f"t{t}-{i}" for t in range(4) for i in range(250)}
    assert len(stored) == 1000 and set(stored["request_id"]) == expected
    assert (report.accepted, report.quarantined, logger.logged, logger.dropped) == (
        1000,
        0,
        1000,
        0,
    )
    row = stored.set_index("request_id").loc["t2-7"]
    assert (row["a"], row["c"], row["prediction"], row["score"]) == (
        7.0,
        "x",
        "1",
        pytest.approx(7 / 250),
    )


def test_flush_when_the_buffer_reaches_flush_rows() -> None:
    sink = RecordingSink()
    logger = InferenceLogger(MV, sink, flush_rows=5, flush_interval_s=60)
    log_n(logger, 4)
    time.sleep(0.2)
    assert sink.frames == []  # below flush_rows and long before the interval: nothing written
    log_n(logger, 1, prefix="x")
    assert wait_for(lambda: len(sink.ids) == 5)
    assert sink.ids == ["r0", "r1", "r2", "r3", "x0"]
    logger.close()


def test_flush_on_the_interval() -> None:
    sink = RecordingSink()
    logger = InferenceLogger(MV, sink, flush_rows=1000, flush_interval_s=0.1)
    log_n(logger, 3)
    assert wait_for(lambda: len(sink.ids) == 3, timeout=3.0)  # no close(), no size trigger
    assert logger.report.accepted == 3
    logger.close()


def test_close_flushes_everything_and_is_idempotent() -> None:
    sink = RecordingSink()
    logger = InferenceLogger(MV, sink, flush_rows=1000, flush_interval_s=60)
    ids = log_n(logger, 7)
    report = logger.close()
    assert sink.ids == ids and report.accepted == 7
    assert logger.close().accepted == 7  # a second close writes nothing more
    assert len(sink.ids) == 7
    with pytest.raises(RuntimeError, match="this InferenceLogger is closed; create a new one"):
        logger.log({"a": 1.0, "c": "x"}, prediction="1")


def test_context_manager_closes() -> None:
    sink = RecordingSink()
    with InferenceLogger(MV, sink, flush_rows=100, flush_interval_s=60) as logger:
        log_n(logger, 3)
    assert sink.ids == ["r0", "r1", "r2"]


def test_a_failing_sink_keeps_the_rows_for_retry() -> None:
    sink = RecordingSink(fail_times=1)
    logger = InferenceLogger(MV, sink, flush_rows=1000, flush_interval_s=60)
    log_n(logger, 3)
    with pytest.raises(OSError, match="disk full"):
        logger.flush()
    assert sink.ids == []
    log_n(logger, 2, prefix="late")
    report = logger.flush()  # the retry writes the kept rows first, then the new ones
    assert sink.ids == ["r0", "r1", "r2", "late0", "late1"]
    assert report.accepted == 5 and sink.calls == 2
    logger.close()
    assert len(sink.ids) == 5


def test_generated_ids_timestamps_and_missing_features() -> None:
    sink = RecordingSink()
    logger = InferenceLogger(MV, sink, flush_rows=10, flush_interval_s=60)
    rid = logger.log({"a": 2.0}, prediction="1")  # no "c", no score: stored as missing
    logger.close()
    frame = sink.frames[0]
    assert len(rid) == 32 and frame["request_id"].tolist() == [rid]
    assert frame["c"].isna().all() and frame["score"].isna().all()
    assert frame["timestamp"].iloc[0].tzinfo is not None


def test_full_buffer_drops_and_counts_rows() -> None:
    gate = threading.Event()
    sink = RecordingSink(gate=gate)
    logger = InferenceLogger(
        MV, sink, flush_rows=2, flush_interval_s=60, max_buffer_rows=2, block_timeout_s=0.01
    )
    log_n(logger, 2, prefix="a")  # triggers a flush, which blocks in the sink
    assert sink.entered.wait(5)
    log_n(logger, 2, prefix="b")  # fills the buffer again
    log_n(logger, 3, prefix="c")  # nowhere to go: dropped after waiting 10 ms each
    assert (logger.logged, logger.dropped) == (4, 3)
    gate.set()
    logger.close()
    assert sorted(sink.ids) == ["a0", "a1", "b0", "b1"]


def test_invalid_buffer_sizes_are_refused() -> None:
    with pytest.raises(
        ValueError,
        match=r"need 1 <= flush_rows <= max_buffer_rows, got flush_rows=10, max_buffer_rows=5",
    ):
        InferenceLogger(MV, RecordingSink(), flush_rows=10, max_buffer_rows=5)
    with pytest.raises(ValueError, match=r"got flush_rows=0"):
        InferenceLogger(MV, RecordingSink(), flush_rows=0)
