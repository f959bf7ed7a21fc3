"""The detection limits promised at baseline time hold by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from monitor.baseline.detection_limits import (
    detection_limits,
    mean_shift_limit,
    reference_rows_needed,
)
from monitor.baseline.reference import create_baseline
from monitor.profiles.column import NumericProfile
from monitor.profiles.dataset import build_profile
from monitor.signals.column_drift import _numeric_p
from monitor.spec.model_version import parse_model_version
from monitor.spec.signal_config import SignalConfig

MV = parse_model_version({"name": "m", "version": "1", "task": "binary", "features": [{"name": "x", "type": "numeric"}], "prediction": None})


def test_power_at_the_promised_limit_is_about_95_percent() -> None:
    alpha, features, n_ref, n = 0.005, 20, 2000, 500
    shift = mean_shift_limit(alpha=alpha, features=features, n_ref=n_ref, n=n)
    rng = np.random.default_rng(0)
    level = alpha / features  # the first Holm step: the level one feature must beat
    hits, sims = 0, 200
    for _ in range(sims):
        ref = create_baseline(MV, pd.DataFrame({"x": rng.normal(size=n_ref)}), threads=1)
        cur = build_profile([pa.table({"x": rng.normal(loc=shift, size=n)})], ref.window_plan(), threads=1)
        r, c = ref.profile.columns["x"], cur.columns["x"]
        assert isinstance(r, NumericProfile) and isinstance(c, NumericProfile)
        p, _ = _numeric_p(r, c, None, None)
        hits += p < level
    assert hits / sims >= 0.90


def test_reference_rows_needed_inverts_the_limit() -> None:
    need = reference_rows_needed(alpha=0.005, features=20, shift=0.5, n=200)
    assert need is not None
    assert mean_shift_limit(alpha=0.005, features=20, n_ref=need, n=200) <= 0.5
    assert mean_shift_limit(alpha=0.005, features=20, n_ref=need - 5, n=200) > 0.5
    assert reference_rows_needed(alpha=0.005, features=20, shift=0.1, n=200) is None  # no reference is enough


def test_small_reference_is_said_at_baseline_time() -> None:
    rng = np.random.default_rng(1)
    small = create_baseline(MV, pd.DataFrame({"x": rng.normal(size=60)}), threads=1)
    report = detection_limits(small, SignalConfig())
    assert report["reference_rows"] == 60
    assert any("reference rows" in w for w in report["warnings"])
    big = create_baseline(MV, pd.DataFrame({"x": rng.normal(size=5000)}), threads=1)
    assert detection_limits(big, SignalConfig())["warnings"] == []
