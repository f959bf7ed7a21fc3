"""The seeded credit world the model-signal tests share, and the facts they rely on.

Other ``test_model_signals_*`` files import the builders from here. The model is trained
once per process (``functools.cache``) on 3,000 applicants of ``jobs.demo_data``; every
window is drawn with its own seed, so each test sees the same rows on every run.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score
from threadpoolctl import threadpool_limits

from jobs.demo import model_version_spec
from jobs.demo_data import FEATURES, applicants, labels_for, train_model
from monitor.baseline.reference import Baseline, create_baseline
from monitor.spec.model_version import ModelVersion, parse_model_version

T0 = pd.Timestamp("2026-10-01", tz="UTC")
SEED = 0


@functools.cache
def credit_model() -> Any:
    rng = np.random.default_rng(SEED)
    train = applicants(3000, rng)
    with threadpool_limits(1):  # OpenMP threads on 2 shared cores are 20x slower, not faster
        return train_model(train, labels_for(train, rng), SEED)


def credit_version(**changes: Any) -> ModelVersion:
    return parse_model_version({**model_version_spec(), **changes})


def scored(
    n: int, seed: int, *, shift: bool = False, prefix: str = "r", day: int = 0
) -> pd.DataFrame:
    """``n`` applicants scored by the model, with their true label in ``default``.

    Rows are in time order within ``day`` (distinct timestamps); ``shift`` draws the labels
    from the concept-shifted relation while the inputs keep their distribution.
    """
    rng = np.random.default_rng(seed)
    x = applicants(n, rng)
    x["default"] = labels_for(x, rng, concept_shift=shift)
    with threadpool_limits(1):
        x["score"] = credit_model().predict_proba(x[list(FEATURES)])[:, 1]
    x["prediction"] = (x["score"] >= 0.5).astype(int)
    x["request_id"] = [f"{prefix}-{i}" for i in range(n)]
    seconds = np.sort(rng.choice(86_000, size=n, replace=False)).astype(float)
    x["timestamp"] = T0 + pd.Timedelta(days=day) + pd.to_timedelta(seconds, unit="s")
    return x


def labels_of(frame: pd.DataFrame) -> pd.DataFrame:
    """The ground truth of ``frame`` as the log store hands it over."""
    return pd.DataFrame({"request_id": frame["request_id"], "label": frame["default"]})


def logged(frame: pd.DataFrame) -> pd.DataFrame:
    """What the model logs at inference time: everything but the label."""
    return frame.drop(columns=["default"])


@functools.cache
def credit_baseline() -> Baseline:
    """Baseline of 3,000 labelled reference rows (shared, never mutated by the tests)."""
    return create_baseline(credit_version(), scored(3000, 1), seed=SEED, threads=1)


def test_the_world_is_seeded() -> None:
    a, b = scored(200, 7), scored(200, 7)
    pd.testing.assert_frame_equal(a, b)
    assert a["timestamp"].is_monotonic_increasing and a["timestamp"].is_unique


def test_the_concept_shift_changes_labels_not_inputs() -> None:
    before, after = scored(3000, 11), scored(3000, 11, shift=True)
    pd.testing.assert_frame_equal(before.drop(columns="default"), after.drop(columns="default"))
    acc_before = accuracy_score(before["default"], before["prediction"])
    acc_after = accuracy_score(after["default"], after["prediction"])
    assert acc_before > 0.7 and acc_after < acc_before - 0.1
