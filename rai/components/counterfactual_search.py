"""Counterfactual search for a batch of rows, runnable in a worker process.

Two methods (``counterfactual.method``):

* ``sparse`` (default) — raiwatch's sparse-first search
  (:mod:`rai.components.counterfactual_sparse`): one feature changed, then two, then
  more, each counterfactual then reduced (features put back, numeric changes pulled
  toward the query) while the model still gives the desired outcome.
* ``dice`` — DiCE's random search: ``sample_size`` candidates per step, retried with
  four times as many only when that finds fewer than the requested number.

The per-row time limit is a deadline checked before and after every search step (a
batched model call for ``sparse``, one DiCE call for ``dice``) with a monotonic
clock: no timer thread or signal is involved, so the limit holds in any thread and
cannot be swallowed by a library. A step in progress is not interrupted. A row
without counterfactuals records why: none found under the constraints, the time
limit, or the error raised.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from rai.components.counterfactual_sparse import SparseSearch


@dataclass(frozen=True)
class SearchJob:
    """Everything a worker needs to search counterfactuals (picklable)."""

    model: Any
    train: pd.DataFrame  # features and target
    target: str
    continuous: list[str]
    task: str
    total_cfs: int
    desired_class: Any
    desired_range: tuple[float, float] | None
    features_to_vary: list[str] | str
    permitted_range: dict[str, list[float]]
    seed: int
    time_limit: float
    sample_size: int = 250
    method: Literal["sparse", "dice"] = "sparse"
    desired_label: Any = None  # multiclass: the desired class label (DiCE takes its index)


@dataclass
class RowOutcome:
    """Counterfactuals found for one test row, or the reason there are none."""

    row: int
    status: str  # ok | no_counterfactual | timeout | error
    reason: str = ""
    counterfactuals: pd.DataFrame = field(default_factory=pd.DataFrame)


def search_rows(
    job: SearchJob,
    rows: list[tuple[int, pd.DataFrame]],
    *,
    clock: Callable[[], float] = time.monotonic,
) -> list[RowOutcome]:
    """Search counterfactuals for each ``(row_id, one-row frame)`` pair."""
    if job.method == "dice":
        return _search_rows_dice(job, rows, clock)
    features = [c for c in job.train.columns if c != job.target]
    search = SparseSearch(
        model=job.model,
        train=job.train[features],
        continuous=job.continuous,
        features_to_vary=job.features_to_vary,
        permitted_range=job.permitted_range,
        is_desired=_desired_test(job),
        total_cfs=job.total_cfs,
        sample_size=job.sample_size,
        seed=job.seed,
        time_limit=job.time_limit,
        clock=clock,
    )
    outcomes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        searched = search.search(rows)
    for state, status in searched:
        if status == "timeout":
            outcomes.append(RowOutcome(state.row_id, "timeout", _timeout_reason(job)))
            continue
        frame = search.counterfactuals(state)
        if len(frame) == 0:
            outcomes.append(
                RowOutcome(state.row_id, "no_counterfactual", _why_none(job, "none found"))
            )
            continue
        outcomes.append(RowOutcome(state.row_id, "ok", "", frame))
    return outcomes


def _desired_test(job: SearchJob) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``test(predictions, query labels)``: which predictions are the desired outcome."""
    if job.task == "regression":
        low, high = job.desired_range or (-np.inf, np.inf)
        return lambda predicted, _labels: (predicted >= low) & (predicted <= high)
    if job.task == "binary":
        return lambda predicted, labels: predicted != labels
    wanted = str(job.desired_label)
    return lambda predicted, _labels: predicted.astype(str) == wanted


def _timeout_reason(job: SearchJob) -> str:
    return f"no result within the {job.time_limit:g}s per-row limit"


def _search_rows_dice(
    job: SearchJob, rows: list[tuple[int, pd.DataFrame]], clock: Callable[[], float]
) -> list[RowOutcome]:
    """DiCE random search, the deadline checked before and after every DiCE call."""
    import dice_ml
    from raiutils.exceptions import UserConfigValidationException

    data = dice_ml.Data(
        dataframe=job.train, continuous_features=job.continuous, outcome_name=job.target
    )
    model_type = "regressor" if job.task == "regression" else "classifier"
    explainer = dice_ml.Dice(
        data,
        dice_ml.Model(model=job.model, backend="sklearn", model_type=model_type),
        method="random",
    )
    kwargs: dict[str, Any] = {
        "features_to_vary": job.features_to_vary,
        "random_seed": job.seed,
        "verbose": False,
        "posthoc_sparsity_param": None,
    }
    if job.permitted_range:
        kwargs["permitted_range"] = job.permitted_range
    if job.task == "regression":
        kwargs["desired_range"] = list(job.desired_range or ())
    else:
        kwargs["desired_class"] = job.desired_class
    outcomes = []
    for row_id, query in rows:
        deadline = clock() + job.time_limit
        try:
            with (
                warnings.catch_warnings(),
                contextlib.redirect_stderr(io.StringIO()),
                contextlib.redirect_stdout(io.StringIO()),
            ):
                warnings.simplefilter("ignore")
                frame, detail = _search_one(
                    explainer, query, job, kwargs, UserConfigValidationException, clock, deadline
                )
        except _Timeout:
            outcomes.append(RowOutcome(row_id, "timeout", _timeout_reason(job)))
            continue
        except Exception as exc:
            outcomes.append(RowOutcome(row_id, "error", f"{type(exc).__name__}: {exc}"))
            continue
        if frame is None or len(frame) == 0:
            outcomes.append(RowOutcome(row_id, "no_counterfactual", _why_none(job, detail)))
            continue
        features = [c for c in job.train.columns if c != job.target]
        outcomes.append(RowOutcome(row_id, "ok", "", frame[features].reset_index(drop=True)))
    return outcomes


class _Timeout(Exception):
    """A DiCE row's deadline passed."""


def _search_one(
    explainer: Any,
    query: pd.DataFrame,
    job: SearchJob,
    kwargs: dict[str, Any],
    none_found: type[Exception],
    clock: Callable[[], float],
    deadline: float,
) -> tuple[pd.DataFrame | None, str]:
    """Sample ``job.sample_size`` candidates; if too few are found, retry with 4x as many."""
    best: pd.DataFrame | None = None
    detail = "empty result"
    for size in (job.sample_size, 4 * job.sample_size):
        if clock() > deadline:
            raise _Timeout
        try:
            found = explainer.generate_counterfactuals(
                query, total_CFs=job.total_cfs, sample_size=size, **kwargs
            )
            frame = found.cf_examples_list[0].final_cfs_df
        except none_found as exc:  # DiCE raises when a query gets no counterfactual at all
            frame, detail = None, str(exc)
        if clock() > deadline:
            raise _Timeout
        if frame is not None and (best is None or len(frame) > len(best)):
            best = frame
        if best is not None and len(best) >= job.total_cfs:
            break
    return best, detail


def _why_none(job: SearchJob, detail: str) -> str:
    vary = job.features_to_vary if job.features_to_vary != "all" else "all features"
    ranges = job.permitted_range or "none"
    return (
        f"The {job.method} search found no counterfactual reaching the desired outcome while varying "
        f"{vary} within permitted ranges {ranges} ({detail}); allow more features to vary or "
        "widen the ranges."
    )
