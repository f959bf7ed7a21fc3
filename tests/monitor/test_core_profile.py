"""Mergeable profiles: the profile of A ∪ B is the merge of the profiles of A and B.

Property tests (hypothesis) on random numeric columns with NaN, ±inf and values
of the wrong type, and categorical columns with nulls; fixed seeded tests check
the statistics against numpy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.profiles.column import CategoricalProfile, NumericProfile
from monitor.profiles.dataset import ColumnPlan, DatasetProfile, ProfilePlan, build_profile
from monitor.profiles.reservoir import KEY_COLUMN, Reservoir
from monitor.spec.model_version import FeatureSpec

EDGES = np.linspace(-50.0, 50.0, 11)
RANGE = (-80.0, 80.0)
KNOWN = frozenset({"a", "b"})
EXACT_NUMERIC = (
    "count", "nulls", "type_errors", "infinities", "out_of_range", "n", "min", "max",
    "under_count", "over_count",
)  # fmt: skip

PLAN = ProfilePlan(
    (
        ColumnPlan(FeatureSpec(name="x", type="numeric"), edges=EDGES, value_range=RANGE),
        ColumnPlan(FeatureSpec(name="c", type="categorical"), known_categories=KNOWN),
    ),
    reservoir_size=6,
    top_k=50,
    seed=7,
)

numeric_value = st.one_of(
    st.floats(-100, 100, allow_nan=False, allow_subnormal=False),
    st.integers(-100, 100).map(float),  # ties, so histogram edges are hit exactly
    st.sampled_from([math.nan, math.inf, -math.inf, None, "oops"]),  # "oops": a type error
)
category = st.one_of(st.sampled_from(["a", "b", "c", "d"]), st.none())
rows = st.lists(st.tuples(numeric_value, category), min_size=0, max_size=40)


def frame(data: list[tuple[Any, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"x": pd.Series([r[0] for r in data], dtype=object), "c": [r[1] for r in data]}
    )


def profile(
    df: pd.DataFrame, plan: ProfilePlan = PLAN, batch_rows: int | None = None
) -> DatasetProfile:
    step = batch_rows or max(len(df), 1)
    return build_profile([df.iloc[i : i + step] for i in range(0, len(df), step)], plan, threads=1)


def assert_same_profile(a: DatasetProfile, b: DatasetProfile) -> None:
    """Exact equality of counts, extremes, histograms, categories and sample; moments to 1e-9."""
    assert a.row_count == b.row_count
    xa, xb = a.columns["x"], b.columns["x"]
    assert isinstance(xa, NumericProfile) and isinstance(xb, NumericProfile)
    for name in EXACT_NUMERIC:
        assert getattr(xa, name) == getattr(xb, name), name
    assert np.array_equal(xa.counts, xb.counts)
    if xa.sums is not None or xb.sums is not None:  # per-bin sums, where profiles keep them
        assert xa.sums is not None and xb.sums is not None
        assert xa.sums.tolist() == pytest.approx(xb.sums.tolist(), rel=1e-12, abs=1e-9)
    assert xa.under_sum == pytest.approx(xb.under_sum, rel=1e-12, abs=1e-9)
    assert xa.over_sum == pytest.approx(xb.over_sum, rel=1e-12, abs=1e-9)
    assert xa.mean == pytest.approx(xb.mean, rel=1e-9, abs=1e-9)
    assert xa.m2 == pytest.approx(xb.m2, rel=1e-9, abs=1e-6)
    assert a.columns["c"].to_dict() == b.columns["c"].to_dict()
    ta, tb = a.reservoir.table, b.reservoir.table
    assert (ta is None) == (tb is None)
    if ta is not None and tb is not None:
        assert ta.column(KEY_COLUMN).to_pylist() == tb.column(KEY_COLUMN).to_pylist()
        assert ta.to_pylist() == tb.to_pylist() or _same_with_nan(ta, tb)


def _same_with_nan(ta: pa.Table, tb: pa.Table) -> bool:
    # NaN != NaN in to_pylist(); compare the pandas frames, where NaN equals NaN.
    return ta.to_pandas().equals(tb.to_pandas())


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, derandomize=True)
@given(data=rows, cut=st.floats(0, 1))
def test_profile_of_union_is_merge_of_profiles(data: list[tuple[Any, Any]], cut: float) -> None:
    df = frame(data)
    k = int(cut * len(df))
    whole = profile(df)
    merged = profile(df.iloc[:k]).merge(profile(df.iloc[k:]))
    assert_same_profile(whole, merged)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=rows, cuts=st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_merge_is_associative(data: list[tuple[Any, Any]], cuts: tuple[float, float]) -> None:
    df = frame(data)
    i, j = sorted(int(c * len(df)) for c in cuts)
    a, b, c = profile(df.iloc[:i]), profile(df.iloc[i:j]), profile(df.iloc[j:])
    assert_same_profile(a.merge(b).merge(c), a.merge(b.merge(c)))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=rows, batch_rows=st.integers(1, 9))
def test_profile_does_not_depend_on_batch_size(
    data: list[tuple[Any, Any]], batch_rows: int
) -> None:
    df = frame(data)
    assert_same_profile(profile(df), profile(df, batch_rows=batch_rows))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=rows)
def test_statistics_equal_a_direct_recount(data: list[tuple[Any, Any]]) -> None:
    df = frame(data)
    p = profile(df).columns["x"]
    assert isinstance(p, NumericProfile)
    raw = [r[0] for r in data]
    is_error = np.array([isinstance(v, str) for v in raw], dtype=bool)
    x = np.array([math.nan if (v is None or isinstance(v, str)) else v for v in raw], dtype=float)
    finite = x[np.isfinite(x)]
    assert p.count == len(raw)
    assert p.type_errors == int(is_error.sum())
    assert p.nulls == int((np.isnan(x) & ~is_error).sum())
    assert p.infinities == int(np.isinf(x).sum())
    assert p.n == len(finite)
    assert p.out_of_range == int(((finite < RANGE[0]) | (finite > RANGE[1])).sum())
    if len(finite):
        assert p.mean == pytest.approx(np.mean(finite), rel=1e-9, abs=1e-9)
        assert p.variance == pytest.approx(np.var(finite), rel=1e-9, abs=1e-9)
        assert (p.min, p.max) == (finite.min(), finite.max())
    inside = finite[(finite >= EDGES[0]) & (finite <= EDGES[-1])]
    assert p.counts is not None
    assert p.counts.tolist() == np.histogram(inside, bins=EDGES)[0].tolist()
    assert p.under_count == int((finite < EDGES[0]).sum())
    assert p.over_count == int((finite > EDGES[-1]).sum())
    c = profile(df).columns["c"]
    assert isinstance(c, CategoricalProfile)
    cats = [r[1] for r in data if r[1] is not None]
    assert c.counts == {k: cats.count(k) for k in set(cats)}
    assert c.nulls == len(data) - len(cats)
    assert c.unseen == sum(1 for v in cats if v not in KNOWN)


# --- seeded checks against numpy ----------------------------------------------------------


def test_moments_and_histogram_equal_numpy_on_seeded_data() -> None:
    rng = np.random.default_rng(42)
    x = rng.normal(3.0, 2.0, 5000)
    raw = np.concatenate([x, [np.nan] * 7, [np.inf] * 3, [-np.inf] * 2])
    rng.shuffle(raw)
    edges = np.linspace(-2.0, 8.0, 41)
    plan = ProfilePlan((ColumnPlan(FeatureSpec(name="x"), edges=edges),), reservoir_size=0)
    p = build_profile([pd.DataFrame({"x": raw})], plan, threads=1).columns["x"]
    assert isinstance(p, NumericProfile)
    assert (p.count, p.nulls, p.infinities, p.n) == (5012, 7, 5, 5000)
    assert p.mean == pytest.approx(np.mean(x), rel=1e-12)
    assert p.variance == pytest.approx(np.var(x), rel=1e-12)
    assert p.std == pytest.approx(np.std(x), rel=1e-12)
    assert (p.min, p.max) == (x.min(), x.max())
    inside = x[(x >= edges[0]) & (x <= edges[-1])]
    assert p.counts is not None
    assert p.counts.tolist() == np.histogram(inside, bins=edges)[0].tolist()
    assert p.under_count == int((x < edges[0]).sum()) and p.under_count > 0
    assert p.under_sum == pytest.approx(x[x < edges[0]].sum(), rel=1e-12)
    if p.sums is not None:  # per-bin sums equal a direct sum of each bin's values
        idx = np.digitize(inside, edges[1:-1], right=False)
        assert p.sums.tolist() == pytest.approx(
            np.bincount(idx, weights=inside, minlength=40).tolist(), rel=1e-9
        )
    assert p.over_count == int((x > edges[-1]).sum()) and p.over_count > 0
    assert p.over_sum == pytest.approx(x[x > edges[-1]].sum(), rel=1e-12)


def test_merged_chunks_keep_numpy_moments() -> None:
    rng = np.random.default_rng(1)
    x = rng.lognormal(0.0, 1.0, 3000) + 1e4  # large offset: the merge must not lose precision
    parts = [NumericProfile() for _ in range(6)]
    for part, chunk in zip(parts, np.array_split(x, 6), strict=True):
        part.update(chunk)
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    assert merged.mean == pytest.approx(np.mean(x), rel=1e-12)
    assert merged.variance == pytest.approx(np.var(x), rel=1e-9)


def test_constant_column_has_exactly_zero_variance() -> None:
    # x.mean() of 1000 copies of 0.1 is not exactly 0.1; the profile must still see a constant.
    p = NumericProfile()
    for _ in range(3):
        p.update(np.full(1000, 0.1))
    assert (p.mean, p.m2, p.std) == (0.1, 0.0, 0.0)


def test_histogram_bins_are_half_open_and_last_bin_closed() -> None:
    p = NumericProfile(edges=np.array([0.0, 1.0, 2.0]))
    p.update(np.array([-0.5, 0.0, 1.0, 1.5, 2.0, 2.5, 3.0]))
    assert p.counts is not None
    assert p.counts.tolist() == np.histogram([0.0, 1.0, 1.5, 2.0], bins=[0.0, 1.0, 2.0])[0].tolist()
    assert p.counts.tolist() == [1, 3]
    assert (p.under_count, p.under_sum, p.over_count, p.over_sum) == (1, -0.5, 2, 5.5)


def test_empty_numeric_profile_round_trips_with_infinite_extremes() -> None:
    p = NumericProfile(edges=np.array([0.0, 1.0]))
    p.update(np.array([np.nan, np.nan]))
    d = p.to_dict()
    assert (d["min"], d["max"], d["n"], d["nulls"]) == (None, None, 0, 2)
    back = NumericProfile.from_dict(d)
    assert (back.min, back.max) == (math.inf, -math.inf)
    assert math.isnan(back.variance)


def test_categorical_profile_counts_nulls_and_unseen() -> None:
    p = CategoricalProfile()
    p.update(pa.array(["a", "b", None, "z", "a", None]), known=frozenset({"a", "b"}))
    assert (p.count, p.nulls, p.unseen, p.n) == (6, 2, 1, 4)
    assert p.counts == {"a": 2, "b": 1, "z": 1}
    assert CategoricalProfile.from_dict(p.to_dict()).to_dict() == p.to_dict()


def test_categorical_pruning_keeps_top_k_and_folds_the_rest_into_other() -> None:
    p = CategoricalProfile(top_k=2)  # prunes above 20 distinct values
    values = ["a"] * 5 + ["b"] * 4 + [f"rare{i:02d}" for i in range(25)]
    p.update(pa.array(values))
    assert p.counts == {"a": 5, "b": 4}
    assert p.other == 25
    assert p.n == len(values)


# --- the reservoir ----------------------------------------------------------------------


def test_reservoir_of_union_is_merge_and_deterministic_across_batches() -> None:
    rng = np.random.default_rng(3)
    t = pa.table({"id": [f"r{i}" for i in range(500)], "x": rng.normal(size=500)})
    whole = Reservoir(20, seed=5, key_columns=["id"]).update(t)
    for size in (1, 7, 64, 499):
        r = Reservoir(20, seed=5, key_columns=["id"])
        for batch in t.to_batches(max_chunksize=size):
            r.update(batch)
        assert r.table is not None and whole.table is not None
        assert r.table.equals(whole.table), size
    parts = [
        Reservoir(20, seed=5, key_columns=["id"]).update(t.slice(i, 100))
        for i in range(0, 500, 100)
    ]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    assert merged.table is not None and merged.table.equals(whole.table)
    # the sample is the 20 rows with the smallest keys, sorted by key
    keys = whole.table.column(KEY_COLUMN).to_numpy()
    assert len(keys) == 20 and np.all(np.diff(keys.astype(np.float64)) >= 0)


def test_reservoir_keeps_every_row_when_k_is_large() -> None:
    t = pa.table({"x": [1.0, 2.0, 3.0]})
    r = Reservoir(10, seed=0).update(t)
    assert sorted(r.to_pandas()["x"].tolist()) == [1.0, 2.0, 3.0]
    back = Reservoir.from_parquet_bytes(r.to_parquet_bytes(), 10, 0)
    assert back.table is not None and r.table is not None and back.table.equals(r.table)


def test_reservoir_sample_depends_on_seed() -> None:
    t = pa.table({"id": [f"r{i}" for i in range(200)]})
    a = Reservoir(10, seed=1, key_columns=["id"]).update(t).to_pandas()["id"].tolist()
    b = Reservoir(10, seed=2, key_columns=["id"]).update(t).to_pandas()["id"].tolist()
    assert a != b


# --- errors ------------------------------------------------------------------------------


def test_merging_profiles_on_different_edges_is_refused() -> None:
    a, b = NumericProfile(edges=np.array([0.0, 1.0])), NumericProfile(edges=np.array([0.0, 2.0]))
    with pytest.raises(
        ValueError, match="cannot merge numeric profiles built on different histogram edges"
    ):
        a.merge(b)


def test_merging_profiles_of_different_columns_is_refused() -> None:
    a = profile(frame([(1.0, "a")]))
    other_plan = ProfilePlan((ColumnPlan(FeatureSpec(name="y")),), reservoir_size=6, seed=7)
    b = build_profile([pd.DataFrame({"y": [1.0]})], other_plan)
    with pytest.raises(
        ValueError, match=r"cannot merge profiles of different columns: \['c', 'x'\] vs \['y'\]"
    ):
        a.merge(b)


def test_merging_reservoirs_with_different_seeds_is_refused() -> None:
    with pytest.raises(ValueError, match=r"different k/seed: \(5, 1\) vs \(5, 2\)"):
        Reservoir(5, 1).merge(Reservoir(5, 2))
    with pytest.raises(ValueError, match="reservoir size k must be >= 0, got -1"):
        Reservoir(-1)


def test_profile_document_round_trip_and_version_check() -> None:
    p = profile(frame([(1.0, "a"), ("oops", None), (np.inf, "c"), (None, "b")]))
    doc = p.to_document()
    back = DatasetProfile.from_document(doc, p.reservoir.to_parquet_bytes())
    assert back.to_document() == doc
    assert back.reservoir.table is not None and back.reservoir.table.equals(p.reservoir.table)
    with pytest.raises(
        ValueError, match=r"profile schema version 99 is not supported .*rebuild the baseline"
    ):
        DatasetProfile.from_document({**doc, "schema_version": 99})
