"""Segments: profiles in the same pass, segment baselines, no_data below the minimum size,
cohorts from a real RAI bundle, bad input, and where results and alerts name the segment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression

from monitor.baseline.reference import Baseline, create_baseline
from monitor.errors import SchemaError
from monitor.profiles.dataset import build_profile
from monitor.segments.cohorts import parse_filter
from monitor.segments.plan import SegmentFamily
from monitor.segments.profiles import SegmentProfiler
from monitor.segments.spec import SegmentSpec, load_segments
from monitor.signals.evaluate import evaluate_window
from monitor.spec.model_version import parse_model_version
from monitor.spec.monitor import parse_monitor_spec
from tests.monitor.segment_world import REGIONS, world_mv, world_rows

BY_REGION = (SegmentSpec(feature="region"),)


@pytest.fixture(scope="module")
def baseline() -> Baseline:
    return create_baseline(world_mv(), world_rows(np.random.default_rng(0), 20_000), threads=1, segments=BY_REGION)


def _batches(frame: pd.DataFrame, size: int = 700) -> list[pa.Table]:
    return [pa.Table.from_pandas(frame.iloc[i : i + size], preserve_index=False) for i in range(0, len(frame), size)]


def test_segment_profiles_come_from_the_same_single_pass(baseline: Baseline) -> None:
    frame = world_rows(np.random.default_rng(1), 5000)
    family = baseline.segments.family("region") if baseline.segments else None
    assert family is not None and sorted(family.keys) == [f"region={r}" for r in sorted(REGIONS)]

    reads = []

    def once() -> Iterator[pa.Table]:  # a generator: a second scan would find it exhausted
        for b in _batches(frame):
            reads.append(b.num_rows)
            yield b

    profiler = SegmentProfiler([family], baseline.window_plan())
    whole = build_profile(once(), baseline.window_plan(), threads=1, segments=profiler)
    assert sum(reads) == len(frame)  # every row read exactly once
    plain = build_profile(_batches(frame), baseline.window_plan(), threads=1)
    assert whole.row_count == plain.row_count == 5000
    assert whole.reservoir.table.equals(plain.reservoir.table)  # bottom-k merges exactly
    for name, col in plain.columns.items():
        merged = whole.columns[name]
        assert merged.count == col.count and merged.nulls == col.nulls
        if hasattr(col, "m2"):
            np.testing.assert_array_equal(merged.counts, col.counts)
            assert merged.mean == pytest.approx(col.mean, rel=1e-12, abs=1e-15)
            assert merged.m2 == pytest.approx(col.m2, rel=1e-12)
        else:
            assert merged.counts == col.counts
    # each segment's profile is the profile of its rows, profiled alone
    for key, prof in profiler.profiles().items():
        rows = frame[frame["region"] == key.split("=")[1]]
        alone = build_profile(_batches(rows), baseline.window_plan(), threads=1)
        assert prof.row_count == len(rows)
        np.testing.assert_array_equal(prof.columns["x0"].counts, alone.columns["x0"].counts)
        assert prof.columns["x1"].mean == pytest.approx(alone.columns["x1"].mean, rel=1e-12, abs=1e-15)


def test_baseline_holds_a_profile_per_segment_and_round_trips(baseline: Baseline) -> None:
    assert baseline.segments is not None
    sizes = {k: p.row_count for k, p in baseline.segments.profiles.items()}
    assert sum(sizes.values()) == 20_000 and len(sizes) == 10
    assert all(1800 < n < 2200 for n in sizes.values())
    again = Baseline.from_document(baseline.to_document(), baseline.sample_bytes())
    assert again.segments is not None
    assert again.segments.to_document() == baseline.segments.to_document()
    family = again.segments.family("region")
    assert family is not None
    seg = again.segments.baseline_for(again, family, family.keys.index("region=r3"))
    sample = seg.profile.reservoir.to_pandas()
    assert len(sample) > 500 and set(sample["region"]) == {"r3"}  # the segment's own sample


def test_segment_below_minimum_size_reports_no_data_with_the_size_needed(baseline: Baseline) -> None:
    frame = world_rows(np.random.default_rng(2), 1000)  # about 100 rows per region
    spec = (SegmentSpec(feature="region", min_rows=150),)
    report = evaluate_window(baseline, [frame], threads=1, segments=spec)
    segment_results = [r for r in report.results if r.segment is not None]
    assert segment_results and all(r.status == "no_data" for r in segment_results)
    r3 = next(r for r in segment_results if r.segment == "region=r3" and r.signal == "data_drift")
    n = int((frame["region"] == "r3").sum())
    assert r3.current_size == n and r3.details["rows_needed"] == 150
    assert f"has {n} rows in this window; at least 150 are needed" in (r3.message or "")
    assert any(r.segment is None and r.status != "no_data" for r in report.results)  # the whole window is judged


def test_results_name_the_segment_and_the_budget_share(baseline: Baseline) -> None:
    frame = world_rows(np.random.default_rng(3), 6000, shift=0.6)
    report = evaluate_window(baseline, [frame], threads=1, segments=BY_REGION, segment_budget=0.5)
    drift = [r for r in report.results if r.signal == "data_drift" and r.feature == "x0"]
    whole = next(r for r in drift if r.segment is None)
    r3 = next(r for r in drift if r.segment == "region=r3")
    assert r3.status == "alert"
    assert "bonferroni over 10 segments" in (r3.correction or "")
    # x0 has the smallest p-value in both, so both sit at Holm's first level (share / features);
    # the whole window has half the budget, each of the 10 segments a tenth of the other half
    for r in (whole, r3):
        same = [q.p_value for q in report.results if q.signal == "data_drift" and q.segment == r.segment]
        assert r.p_value == min(p for p in same if p is not None)
    assert whole.alpha is not None and r3.alpha is not None
    assert r3.alpha == pytest.approx(whole.alpha / 10, rel=1e-9)
    assert report.details["segment_rows"]["region=r3"] == int((frame["region"] == "r3").sum())


def test_a_family_the_baseline_lacks_is_an_error_naming_the_fix(baseline: Baseline) -> None:
    plain = create_baseline(world_mv(), world_rows(np.random.default_rng(4), 3000), threads=1)
    report = evaluate_window(plain, [world_rows(np.random.default_rng(5), 3000)], threads=1, segments=BY_REGION)
    errors = [r for r in report.results if r.segment == "region=*"]
    assert errors and all(r.status == "error" for r in errors)
    assert "raiwatch baseline create ... --segments" in (errors[0].message or "")


def test_bad_segment_declarations_are_clear_errors(tmp_path: Path) -> None:
    frame = world_rows(np.random.default_rng(6), 2000)
    with pytest.raises(SchemaError, match="feature 'x0' is numeric; segment by a categorical"):
        create_baseline(world_mv(), frame, threads=1, segments=(SegmentSpec(feature="x0"),))
    with pytest.raises(SchemaError, match="'nope' is not a declared column"):
        create_baseline(world_mv(), frame, threads=1, segments=(SegmentSpec(feature="nope"),))
    with pytest.raises(SchemaError, match="cannot be read as an RAI bundle"):
        create_baseline(world_mv(), frame, threads=1, segments=(SegmentSpec(cohorts_from=str(tmp_path)),))
    base = {"name": "m", "model": "seg", "version": "1"}
    with pytest.raises(SchemaError, match="exactly one of 'feature"):
        parse_monitor_spec({**base, "segments": [{"feature": "region", "cohorts_from": "b"}]})
    with pytest.raises(SchemaError, match=r"\['region'\] appear more than once"):
        parse_monitor_spec({**base, "segments": [{"feature": "region"}, {"feature": "region"}]})
    with pytest.raises(SchemaError, match="segments are profiled by the local engine"):
        parse_monitor_spec({**base, "engine": "spark", "segments": [{"feature": "region"}]})
    with pytest.raises(SchemaError, match="unknown signals"):
        parse_monitor_spec({**base, "segments": [{"feature": "region", "signals": ["nope"]}]})
    with pytest.raises(SchemaError, match="min_rows"):
        parse_monitor_spec({**base, "segments": [{"feature": "region", "min_rows": 1}]})
    bad = tmp_path / "bad.yaml"
    bad.write_text("segments: region\n")
    with pytest.raises(SchemaError, match="expected a 'segments:' list"):
        load_segments(bad)
    with pytest.raises(SchemaError, match="does not exist"):
        load_segments(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    "text",
    ["__import__('os').system('true') == 0", "x0 < x1", "x0 < 1 or x1 > 2", "f(x0) > 1", "x0 in 3", "1 < x0 < 2"],
)
def test_cohort_filters_outside_the_grammar_are_refused_not_evaluated(text: str) -> None:
    with pytest.raises(SchemaError, match="is not a conjunction"):
        parse_filter(text)


def _error_world(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Labels follow x0, except in region r3 with x1 > 0.5, where they are noise."""
    frame = world_rows(rng, n)
    y = (frame["x0"] > 0).astype(int)
    hard = (frame["region"] == "r3") & (frame["x1"] > 0.5)
    y[hard] = rng.integers(0, 2, size=int(hard.sum()))
    return frame.assign(y=y)


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    from rai.pipeline import build_from_frames

    rng = np.random.default_rng(7)
    train, test = _error_world(rng, 3000), _error_world(rng, 3000)
    features = ["x0", "x1", "x2", "x3"]
    model = Pipeline([("keep", ColumnTransformer([("x", "passthrough", features)])), ("lr", LogisticRegression())])
    model.fit(train.drop(columns="y"), train["y"])
    out = tmp_path_factory.mktemp("bundle")
    config = {
        "target": "y", "task": "binary", "categorical_features": ["region"], "components": ["error_analysis"],
        "error_analysis": {"max_depth": 3, "min_samples_leaf": 60},
    }  # fmt: skip
    build_from_frames(model, train, test, config=config, out_dir=out)
    return out


def test_cohorts_from_reads_a_real_bundle_and_cuts_rows_as_its_filters_say(bundle_dir: Path) -> None:
    from rai.bundle import InsightsBundle

    stored = InsightsBundle.load(bundle_dir).components["error_analysis"].tables["cohorts"]
    spec = (SegmentSpec(cohorts_from=str(bundle_dir), top=3, min_rows=50),)
    ref = world_rows(np.random.default_rng(8), 20_000)
    base = create_baseline(world_mv(), ref, threads=1, segments=spec)
    assert base.segments is not None
    family = base.segments.family(spec[0].family)
    assert family is not None and family.kind == "cohorts" and len(family.keys) == 3
    worst = stored.sort_values(["error_rate", "leaf"], ascending=[False, True]).head(3)
    assert [c.filter for c in family.cohorts] == list(worst["filter"])
    assert "region" in family.cohorts[0].filter and "x1" in family.cohorts[0].filter  # the planted cohort
    # independent check: pandas evaluates the stored filter text itself
    for key, text in zip(family.keys, worst["filter"], strict=True):
        expected = len(ref.query(text))
        assert base.segments.profiles[key].row_count == expected, (key, text)
    # and a shift confined to the worst cohort is found there
    window = world_rows(np.random.default_rng(9), 20_000)
    inside = window.query(family.cohorts[0].filter).index
    window.loc[inside, "x2"] += 1.0
    report = evaluate_window(base, [window], threads=1, segments=spec)
    hit = [r for r in report.results if r.segment == family.keys[0] and r.feature == "x2" and r.signal == "data_drift"]
    assert hit and hit[0].status == "alert" and hit[0].details["segment_filter"] == family.cohorts[0].filter


def test_cohorts_naming_undeclared_columns_are_refused(bundle_dir: Path) -> None:
    mv = parse_model_version({
        "name": "other", "version": "1", "task": "binary", "prediction": None,
        "features": [{"name": "x0", "type": "numeric"}, {"name": "x2", "type": "numeric"}],
    })  # fmt: skip
    frame = world_rows(np.random.default_rng(10), 1000)[["x0", "x2"]]
    with pytest.raises(SchemaError, match="the cohort filters read"):
        create_baseline(mv, frame, threads=1, segments=(SegmentSpec(cohorts_from=str(bundle_dir)),))


def test_feature_family_codes_match_pandas() -> None:
    frame = world_rows(np.random.default_rng(11), 500)
    family = SegmentFamily("region", "feature", column="region", values=("r1", "r5"))
    codes = family.codes(pa.Table.from_pandas(frame, preserve_index=False))
    expected = frame["region"].map({"r1": 0, "r5": 1}).fillna(-1).astype(int).to_numpy()
    np.testing.assert_array_equal(codes, expected)


def _labelled_world(rng: np.random.Generator, n: int, prefix: str) -> pd.DataFrame:
    """Predictions right 95 % of the time, but only 65 % in region r3 (always, not a change)."""
    frame = world_rows(rng, n)
    frame["prediction"] = (frame["x0"] > 0).astype(int)
    flip = rng.random(n) < np.where(frame["region"] == "r3", 0.35, 0.05)
    frame["y"] = np.where(flip, 1 - frame["prediction"], frame["prediction"])
    frame["request_id"] = [f"{prefix}{i}" for i in range(n)]
    return frame


def test_a_segment_is_judged_against_its_own_reference_performance() -> None:
    mv = parse_model_version({
        "name": "p", "version": "1", "task": "binary", "target": "y", "prediction": "prediction",
        "classes": ["0", "1"],
        "features": [{"name": f"x{i}", "type": "numeric"} for i in range(4)] + [{"name": "region", "type": "categorical"}],
    })  # fmt: skip
    spec = (SegmentSpec(feature="region", signals=("performance",)),)
    base = create_baseline(mv, _labelled_world(np.random.default_rng(20), 20_000, "r"), threads=1, segments=spec)
    window = _labelled_world(np.random.default_rng(21), 10_000, "w")
    labels = pd.DataFrame({"request_id": window["request_id"], "label": window["y"]})
    report = evaluate_window(base, [window.drop(columns="y")], labels=labels, threads=1, segments=spec)
    accuracy = {r.segment: r for r in report.results if r.signal == "performance" and r.metric == "accuracy"}
    r3 = accuracy["region=r3"]
    # its reference is r3's own rows of the baseline sample, recounted here
    sample = base.profile.reservoir.to_pandas()
    own = sample[sample["region"] == "r3"]
    right = own["y"].astype(int).astype(str) == own["prediction"].astype(str)  # prediction is stored as text
    assert r3.details["baseline_value"] == pytest.approx(right.mean(), abs=1e-9)
    assert r3.details["baseline_value"] < 0.75 < accuracy[None].details["baseline_value"]
    assert r3.value is not None and r3.value < 0.75  # a weak segment, as it always was ...
    assert r3.status != "alert"  # ... is not a drop: no page
    assert {r.status for r in accuracy.values()} <= {"ok", "warning"}
