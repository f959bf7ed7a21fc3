"""Stored rows are turned back into the model's input types before the model sees them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from jobs.demo import model_version_spec
from jobs.demo_data import FEATURES, applicants, labels_for, train_model
from monitor.baseline.model_input import to_model_input
from monitor.baseline.reference import create_baseline
from monitor.spec.model_version import parse_model_version


def test_booleans_and_datetimes_come_back_in_model_types() -> None:
    mv = parse_model_version(
        {"name": "m", "version": "1", "task": "binary",
         "features": {"flag": "boolean", "when": "datetime", "x": "numeric"}}
    )  # fmt: skip
    stored = pd.DataFrame({"flag": ["true", "false", None], "when": [0.0, 86400.0, None], "x": [1.0, 2.0, 3.0]})
    out = to_model_input(mv, stored)
    assert out["flag"].tolist() == [True, False, None]
    assert out["when"].iloc[1] == pd.Timestamp("1970-01-02", tz="UTC")
    assert out["x"].tolist() == [1.0, 2.0, 3.0]


def test_attribution_baseline_uses_the_model_on_its_own_types() -> None:
    # has_guarantor is a bool in training; the baseline sample stores "true"/"false".
    # Fed as strings, the one-hot encoder would ignore it and its importance would be 0.
    rng = np.random.default_rng(3)
    with threadpool_limits(1):
        train = applicants(3000, rng)
        model = train_model(train, labels_for(train, rng), 0)
        ref = applicants(2000, rng)
        ref["default"] = labels_for(ref, rng)
        ref["score"] = model.predict_proba(ref[list(FEATURES)])[:, 1]
        ref["prediction"] = (ref["score"] >= 0.5).astype(int)
        mv = parse_model_version({**model_version_spec(), "model_uri": "model.joblib"})
        baseline = create_baseline(mv, ref, threads=1, model=model)
    importance = baseline.performance["attribution"]["importance"]
    stored = baseline.profile.reservoir.to_pandas()
    direct = model.predict(to_model_input(mv, stored))
    assert (direct == stored["prediction"].astype(int)).mean() == pytest.approx(1.0)
    assert set(importance) == set(FEATURES)
    assert importance["income"] > 0  # the strongest driver of the demo's default risk
