"""Segments by simulation: a shift hidden in the aggregate is found in its segment, and the
monitor's page rate on no-change windows stays within ``alpha`` with ten segments.

Measured when written (the seeds below): a 0.25 sd shift of ``x0`` in one region (10 % of
traffic, about 1,000 of 10,000 rows) alerted in that segment in 100 of 100 windows and in
the aggregate in 2 of 100 (the aggregate moves by about 0.025 sd, half data drift's 0.05 sd
``min_effect``; the 2 are estimates that landed just above it); with no change, 200 windows
at ``alpha = 0.05`` with ten segments paged in 5 (2.5 %), 2 of them by a segment.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitor.baseline.reference import create_baseline
from monitor.segments.spec import SegmentSpec
from monitor.signals.evaluate import evaluate_window
from monitor.spec.signal_config import SignalConfig
from tests.monitor.segment_world import world_mv, world_rows

BY_REGION = (SegmentSpec(feature="region"),)


@pytest.mark.slow
def test_shift_in_one_segment_of_ten_percent_is_caught_there_and_not_in_the_aggregate() -> None:
    runs, in_segment, in_aggregate, elsewhere = 100, 0, 0, 0
    for i in range(runs):
        if i % 25 == 0:
            ref = world_rows(np.random.default_rng(1000 + i), 20_000)
            baseline = create_baseline(world_mv(), ref, threads=1, segments=BY_REGION, seed=i)
        window = world_rows(np.random.default_rng(i), 10_000, shift=0.25, region="r3")
        results = evaluate_window(baseline, [window], threads=1, segments=BY_REGION).results
        x0 = [r for r in results if r.signal == "data_drift" and r.feature == "x0"]
        in_segment += any(r.status == "alert" for r in x0 if r.segment == "region=r3")
        in_aggregate += any(r.status == "alert" for r in x0 if r.segment is None)
        elsewhere += any(r.status == "alert" for r in results if r.segment not in (None, "region=r3"))
    print(f"segment r3: {in_segment}/{runs}, aggregate: {in_aggregate}/{runs}, other segments: {elsewhere}/{runs}")
    assert in_segment / runs >= 0.9, in_segment
    assert in_aggregate / runs <= 0.05, in_aggregate
    assert elsewhere <= stats.binom.ppf(0.999, runs, 0.01), elsewhere  # other regions: no change


@pytest.mark.slow
def test_no_change_page_rate_with_ten_segments_stays_within_the_budget() -> None:
    alpha, windows, paged, segment_pages = 0.05, 200, 0, 0
    config = SignalConfig(alpha=alpha)
    for i in range(windows):
        if i % 20 == 0:
            ref = world_rows(np.random.default_rng(5000 + i), 20_000)
            baseline = create_baseline(world_mv(), ref, threads=1, segments=BY_REGION, seed=i)
        report = evaluate_window(
            baseline, [world_rows(np.random.default_rng(7000 + i), 3000)], config=config, threads=1, segments=BY_REGION
        )
        judged = {r.segment for r in report.results if r.segment is not None and r.status != "no_data"}
        assert len(judged) == 10  # every region (about 300 rows) was judged, not skipped
        paged += any(r.status == "alert" for r in report.results)
        segment_pages += any(r.status == "alert" for r in report.results if r.segment is not None)
    print(f"no-change windows paged: {paged}/{windows} (by a segment: {segment_pages}), alpha {alpha}")
    # P(any alert | no change) <= alpha: the count stays under the binomial bound of alpha
    assert paged <= stats.binom.ppf(0.999, windows, alpha), (paged, windows)
    assert segment_pages <= stats.binom.ppf(0.999, windows, alpha / 2), (segment_pages, windows)
