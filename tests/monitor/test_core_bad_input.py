"""Bad input: each case gets a clear error message or an explicit status, never a silent pass."""

from __future__ import annotations

import math
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from monitor.baseline.reference import Baseline, create_baseline
from monitor.errors import CorruptFileError, DataError
from monitor.ingest.conform import conform, type_error_masks
from monitor.ingest.logstore import LogStore
from monitor.ingest.sources import iter_batches
from monitor.profiles.column import CategoricalProfile, NumericProfile
from monitor.profiles.dataset import ColumnPlan, ProfilePlan, build_profile
from monitor.signals import SIGNALS
from monitor.signals.evaluate import evaluate_window
from monitor.signals.results import SignalResult
from monitor.spec.model_version import FeatureSpec, parse_model_version

MV = parse_model_version(
    {
        "name": "m",
        "version": "1",
        "task": "binary",
        "features": {"a": "numeric", "c": "categorical"},
    }
)


DATA_SIGNALS = ("data_drift", "dataset_drift", "prediction_drift", "data_quality")


def frame(n: int, seed: int = 0, a_shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "request_id": [f"{seed}-{i}" for i in range(n)],
            "timestamp": pd.date_range("2026-03-01", periods=n, freq="min", tz="UTC"),
            "a": rng.normal(5.0 + a_shift, 1.0, n),
            "c": rng.choice(["x", "y"], n),
            "prediction": rng.choice(["0", "1"], n),
        }
    )


@pytest.fixture(scope="module")
def baseline() -> Baseline:
    return create_baseline(MV, frame(1500), bins=100, reservoir_size=200, threads=1)


def by_key(results: list[SignalResult]) -> dict[tuple[str, str | None, str], SignalResult]:
    return {(r.signal, r.feature, r.metric): r for r in results}


def stored_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet")) if root.exists() else []


# --- missing and extra columns --------------------------------------------------------------


def test_ingest_missing_columns_lists_missing_and_available(tmp_path: Path) -> None:
    df = frame(5).drop(columns=["a", "prediction"]).rename(columns={"c": "C"})
    with pytest.raises(
        DataError,
        match=r"inference log for m:1 is missing required column\(s\) \['a', 'c', 'prediction'\]; "
        r"available columns: \['C', 'request_id', 'timestamp'\]\. Rename the columns",
    ):
        LogStore(tmp_path).ingest_frame(MV, df)
    assert stored_files(tmp_path) == []


def test_ingest_extra_columns_are_ignored_and_reported(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    report = store.ingest_frame(MV, frame(5).assign(debug="x", zz=1))
    assert (report.accepted, report.quarantined, report.ignored_columns) == (5, 0, ["debug", "zz"])
    stored = pa.Table.from_batches(list(store.scan(MV)))
    assert "debug" not in stored.schema.names and stored.num_rows == 5


def test_window_missing_a_column_names_it(baseline: Baseline) -> None:
    with pytest.raises(
        DataError,
        match=r"window is missing required column\(s\) \['c'\]; available columns: \['a', 'prediction', 'request_id', 'timestamp'\]",
    ):
        evaluate_window(baseline, [frame(50).drop(columns=["c"])])


# --- wrong types, NaN and inf -------------------------------------------------------------


def test_string_in_numeric_column_is_a_type_error_and_the_row_is_kept(tmp_path: Path) -> None:
    df = frame(6)
    df["a"] = df["a"].astype(object)
    df.loc[[1, 4], "a"] = ["twelve", "1,5"]
    store = LogStore(tmp_path)
    report = store.ingest_frame(MV, df)
    assert (report.accepted, report.quarantined, report.with_type_errors) == (6, 0, 2)
    stored = pa.Table.from_batches(list(store.scan(MV))).to_pandas().set_index("request_id")
    assert stored.loc[["0-1", "0-4"], "_raiwatch_type_errors"].tolist() == ["a", "a"]
    assert stored.loc[["0-1", "0-4"], "a"].isna().all()
    assert stored["a"].notna().sum() == 4
    # profiling the stored rows counts them as type errors, not as nulls
    plan = ProfilePlan((ColumnPlan(FeatureSpec(name="a")),), reservoir_size=0)
    prof = build_profile(store.scan(MV), plan).columns["a"]
    assert isinstance(prof, NumericProfile)
    assert (prof.count, prof.type_errors, prof.nulls, prof.n) == (6, 2, 0, 4)


def test_nan_and_infinities(baseline: Baseline) -> None:
    cur = frame(200, seed=1)
    cur.loc[:9, "a"] = np.nan
    cur.loc[10:12, "a"] = np.inf
    cur.loc[13:14, "a"] = -np.inf
    report = evaluate_window(baseline, [cur], threads=1)
    prof = report.profile.columns["a"] if report.profile else None
    assert isinstance(prof, NumericProfile)
    finite = cur["a"][np.isfinite(cur["a"])]
    assert (prof.nulls, prof.infinities, prof.n) == (10, 5, 185)
    # infinities stay out of the moments and extremes
    assert prof.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert prof.variance == pytest.approx(np.var(finite), rel=1e-12)
    assert math.isfinite(prof.min) and math.isfinite(prof.max)
    lo, hi = baseline.window_plan().columns[0].value_range or (0, 0)
    outside = int(((finite < lo) | (finite > hi)).sum())
    got = by_key(report.results)
    # ±inf count as out of range
    assert got[("data_quality", "a", "out_of_range_rate")].value == (5 + outside) / 200
    assert got[("data_quality", "a", "null_rate")].value == 10 / 200
    assert got[("data_drift", "a", "wasserstein")].status == "ok"  # same distribution otherwise


def test_mixed_types_in_one_column() -> None:
    df = pd.DataFrame(
        {
            "n": [1, "2", "abc", None, 3.5, "inf", " 4 ", "NULL"],
            "c": [1, "a", 2.0, None, True, "nan", "", 2.5],
            "b": ["yes", "no", "maybe", 1, 0, None, "FALSE", "n/a"],
        }
    )
    specs = [
        FeatureSpec(name="n"),
        FeatureSpec(name="c", type="categorical"),
        FeatureSpec(name="b", type="boolean"),
    ]
    t = conform(df, specs)
    assert t.column("n").to_pylist() == [1.0, 2.0, None, None, 3.5, math.inf, 4.0, None]
    # categories are text; integral floats lose their ".0"; null-like strings are null
    assert t.column("c").to_pylist() == ["1", "a", "2", None, "true", None, None, "2.5"]
    assert t.column("b").to_pylist() == [
        "true",
        "false",
        None,
        "true",
        "false",
        None,
        "false",
        None,
    ]
    masks = type_error_masks(t)
    assert sorted(masks) == ["b", "n"]
    assert np.flatnonzero(masks["n"]).tolist() == [2] and np.flatnonzero(masks["b"]).tolist() == [2]
    plan = ProfilePlan(tuple(ColumnPlan(s) for s in specs), reservoir_size=0)
    p = build_profile([df], plan).columns
    assert (p["n"].type_errors, p["n"].nulls, p["n"].infinities) == (1, 2, 1)
    assert isinstance(p["c"], CategoricalProfile)
    assert p["c"].counts == {"1": 1, "a": 1, "2": 1, "true": 1, "2.5": 1} and p["c"].nulls == 3
    assert (p["b"].type_errors, p["b"].nulls) == (1, 2)


def test_column_whose_type_changes_between_csv_chunks(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    df = frame(10)
    df["a"] = df["a"].astype(object)
    df.loc[7:, "a"] = "unknown"
    df.to_csv(path, index=False)
    plan = ProfilePlan((ColumnPlan(FeatureSpec(name="a")),), reservoir_size=0)
    prof = build_profile(iter_batches(path, batch_rows=4), plan).columns["a"]
    assert (prof.count, prof.type_errors, prof.n) == (10, 3, 7)


# --- empty, constant and all-null windows -----------------------------------------------------


def test_empty_window_gives_no_data_for_every_signal(baseline: Baseline, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    frame(0).to_csv(path, index=False)
    for batches in ([], [frame(0)], iter_batches(path)):
        report = evaluate_window(baseline, batches, threads=1)
        assert report.row_count == 0 and report.status == "no_data"
        data = [(r.signal, r.status) for r in report.results if r.signal in DATA_SIGNALS]
        assert data == [(name, "no_data") for name in DATA_SIGNALS]
        # one result per registered signal that applies to the model version and is on by
        # default (the challenger signal is on only when a monitor declares a challenger), all
        # no_data but the traffic signal's, which judges empty windows (one: a warning)
        assert [r.signal for r in report.results] == [
            name for name, entry in SIGNALS.items() if entry.applies(MV) and entry.settings().enabled
        ]
        judged = [r for r in report.results if SIGNALS[r.signal].judges_empty_windows]
        assert [(r.signal, r.status, r.value) for r in judged] == [("traffic", "warning", 1.0)]
        rest = [r for r in report.results if not SIGNALS[r.signal].judges_empty_windows]
        assert {r.status for r in rest} == {"no_data"}
        assert {r.message for r in rest} == {"the window has no rows"}


def test_constant_baseline_column() -> None:
    mv = parse_model_version(
        {"name": "m", "version": "1", "task": "regression", "features": {"k": "numeric"}}
    )
    ref = pd.DataFrame({"k": np.full(1200, 0.1), "prediction": np.linspace(0, 1, 1200)})
    b = create_baseline(mv, ref, bins=100, threads=1)
    same = evaluate_window(
        b, [pd.DataFrame({"k": np.full(100, 0.1), "prediction": 0.5})], threads=1
    )
    moved = evaluate_window(
        b, [pd.DataFrame({"k": np.full(100, 0.2), "prediction": 0.5})], threads=1
    )
    r_same = by_key(same.results)[("data_drift", "k", "wasserstein")]
    r_moved = by_key(moved.results)[("data_drift", "k", "wasserstein")]
    assert (
        r_same.message
        == r_moved.message
        == "the baseline column is constant; the effect is the raw Wasserstein distance"
    )
    # no spread to scale by: the effect is the raw distance, 0 and then 0.2 - 0.1
    assert r_same.value == pytest.approx(0.0, abs=1e-12) and r_same.status == "ok"
    assert r_same.p_value == 1.0
    assert r_moved.value == pytest.approx(0.1, rel=1e-9) and r_moved.status == "alert"
    assert r_moved.p_value == 0.0  # two different constants: any change is certain
    # every moved value is outside the baseline's one-value range
    oor = by_key(moved.results)[("data_quality", "k", "out_of_range_rate")]
    assert (oor.value, oor.status) == (1.0, "alert")


def test_all_null_window_column(baseline: Baseline) -> None:
    cur = frame(100, seed=2)
    cur["a"] = np.nan
    got = by_key(evaluate_window(baseline, [cur], threads=1).results)
    drift = got[("data_drift", "a", "wasserstein")]
    assert drift.status == "no_data"
    assert drift.message == "the window has no values for 'a'; drift needs at least 30"
    null_rate = got[("data_quality", "a", "null_rate")]
    assert (null_rate.value, null_rate.status) == (1.0, "alert")
    assert null_rate.message == "every value of 'a' is null in this window"
    assert got[("data_drift", "c", "l_infinity")].status == "ok"  # other columns still judged
    # an all-null column is a sure increase: one-sided Fisher of 100 of 100 against 0 of 1500
    assert null_rate.p_value == pytest.approx(1 / math.comb(1600, 100), rel=1e-6)


def test_unseen_categories(baseline: Baseline) -> None:
    cur = frame(300, seed=3)
    cur.loc[:59, "c"] = "brand-new"
    got = by_key(evaluate_window(baseline, [cur], threads=1).results)
    unseen = got[("data_quality", "c", "unseen_category_rate")]
    # the baseline has no category seen once: its unseen rate is 0, the threshold 0 + 0.02
    assert (unseen.value, unseen.threshold, unseen.status) == (0.2, 0.02, "alert")
    assert unseen.details["baseline_rate"] == 0.0
    assert unseen.message == "new categories: brand-new"
    share = got[("data_drift", "c", "l_infinity")]
    assert share.status == "alert"  # the new category is part of the distribution compared
    assert share.value == pytest.approx(0.2, abs=0.03)  # its share went from 0 to 20 %


# --- a column with a million distinct values ---------------------------------------------------


@pytest.mark.slow
def test_million_distinct_categories_in_bounded_memory() -> None:
    """1,000,000 distinct strings: counts stay bounded, ``other`` holds the rest.

    The data as Python strings would take ``n * sys.getsizeof("id-0000000")`` ≈ 58 MB;
    profiling it in batches of 20,000 must peak far below that.
    """
    n, batch, top_k = 1_000_000, 20_000, 100
    plan = ProfilePlan(
        (ColumnPlan(FeatureSpec(name="c", type="categorical")),), reservoir_size=0, top_k=top_k
    )

    def batches():  # built in Arrow memory, which tracemalloc does not see: only profiling counts
        for start in range(0, n, batch):
            ids = pa.array(np.arange(start, start + batch)).cast(pa.string())
            yield pa.record_batch([pc.binary_join_element_wise("id-", ids, "")], names=["c"])

    tracemalloc.start()
    try:
        prof = build_profile(batches(), plan, threads=1).columns["c"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    data_bytes = sum(
        sys.getsizeof("id-" + "0" * d) * count for d, count in _digit_counts(n).items()
    )
    assert isinstance(prof, CategoricalProfile)
    assert prof.count == n and prof.n == n and prof.nulls == 0
    assert len(prof.counts) <= prof.prune_at  # 10 * top_k
    assert sum(prof.counts.values()) + prof.other == n
    assert prof.other >= n - prof.prune_at
    assert peak < data_bytes / 8, (peak, data_bytes)


def _digit_counts(n: int) -> dict[int, int]:
    """How many of 0..n-1 have d digits."""
    out: dict[int, int] = {}
    lo = 0
    for d in range(1, len(str(n - 1)) + 1):
        hi = min(n, 10**d)
        out[d] = hi - lo
        lo = hi
    return out


# --- corrupt and truncated files ------------------------------------------------------------


@pytest.fixture
def good_parquet(tmp_path: Path) -> bytes:
    path = tmp_path / "good.parquet"
    frame(200).to_parquet(path, index=False)
    return path.read_bytes()


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_parquet_is_corrupt_and_nothing_is_stored(
    tmp_path: Path, good_parquet: bytes, cut: float
) -> None:
    path = tmp_path / "cut.parquet"
    path.write_bytes(good_parquet[: int(len(good_parquet) * cut)])
    store = LogStore(tmp_path / "store")
    with pytest.raises(
        CorruptFileError,
        match=r"cannot read '.*cut\.parquet' as parquet: .*The file may be truncated or not parquet; nothing was stored from it",
    ):
        store.ingest_file(MV, path)
    assert stored_files(tmp_path / "store") == []


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("request_id,timestamp\n1,2\n")
    with pytest.raises(CorruptFileError, match=r"as parquet: .*magic bytes"):
        LogStore(tmp_path / "store").ingest_file(MV, path)
    assert stored_files(tmp_path / "store") == []


@pytest.mark.parametrize(
    ("name", "content", "detail"),
    [
        ("unterminated.csv", None, r"EOF inside string"),
        ("extra_fields.csv", None, r"Expected 5 fields in line \d+, saw 7"),
        ("binary.csv", b"\xff\xfe\x00\x81garbage\n\x00", r"codec can't decode"),
    ],
)
def test_corrupt_csv_is_refused_and_nothing_is_stored(
    tmp_path: Path, name: str, content: bytes | None, detail: str
) -> None:
    text = frame(50).to_csv(index=False)
    path = tmp_path / name
    if name == "unterminated.csv":
        path.write_text(
            text + 'r-last,2026-03-01 00:00:00+00:00,1.0,"x\n'
        )  # cut inside a quoted field
    elif name == "extra_fields.csv":
        lines = text.splitlines()
        lines.insert(20, "a,b,c,d,e,f,g")
        path.write_text("\n".join(lines) + "\n")
    else:
        assert content is not None
        path.write_bytes(content)
    store = LogStore(tmp_path / "store")
    with pytest.raises(
        CorruptFileError,
        match=rf"cannot read '.*{name}' as csv: .*{detail}.*nothing was stored from it",
    ):
        store.ingest_file(MV, path)
    assert stored_files(tmp_path / "store") == []


def test_corrupt_reference_file_is_refused(tmp_path: Path, good_parquet: bytes) -> None:
    path = tmp_path / "ref.parquet"
    path.write_bytes(good_parquet[:100])
    with pytest.raises(CorruptFileError, match=r"cannot read '.*ref\.parquet' as parquet"):
        create_baseline(MV, path, threads=1)


def test_unknown_file_type_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "data.xlsx").write_bytes(b"PK")
    with pytest.raises(
        DataError, match=r"unknown file type '\.xlsx'; use one of \['\.csv', '\.json', '\.jsonl'"
    ):
        list(iter_batches(tmp_path / "data.xlsx"))
    with pytest.raises(DataError, match=r"input file '.*nope\.csv' does not exist; check the path"):
        list(iter_batches(tmp_path / "nope.csv"))
