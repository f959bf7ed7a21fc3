"""DiCE counterfactual search for a batch of rows, runnable in a worker process.

DiCE's random search first samples ``sample_size`` candidates per step and retries
with four times as many only when that finds fewer than the requested number (a
quarter of DiCE's default 1,000 is enough for most rows and four times faster).
Each row gets its own wall-clock limit (a ``SIGALRM`` timer when running in a
process's main thread, which is where pool workers run tasks). A row without
counterfactuals records why: DiCE found none under the constraints, the time limit
was hit, or DiCE raised.
"""

from __future__ import annotations

import contextlib
import io
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


class RowTimeout(Exception):
    """Raised inside a worker when one row exceeds its time limit."""


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


@dataclass
class RowOutcome:
    """Counterfactuals found for one test row, or the reason there are none."""

    row: int
    status: str  # ok | no_counterfactual | timeout | error
    reason: str = ""
    counterfactuals: pd.DataFrame = field(default_factory=pd.DataFrame)


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`RowTimeout` after ``seconds`` (main thread only; no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise RowTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def search_rows(job: SearchJob, rows: list[tuple[int, pd.DataFrame]]) -> list[RowOutcome]:
    """Search counterfactuals for each ``(row_id, one-row frame)`` pair."""
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
        started = time.monotonic()
        try:
            with (
                time_limit(job.time_limit),
                warnings.catch_warnings(),
                contextlib.redirect_stderr(io.StringIO()),
                contextlib.redirect_stdout(io.StringIO()),
            ):
                warnings.simplefilter("ignore")
                frame, detail = _search_one(
                    explainer, query, job, kwargs, UserConfigValidationException
                )
        except RowTimeout:
            outcomes.append(
                RowOutcome(
                    row_id, "timeout", f"no result within the {job.time_limit:g}s per-row limit"
                )
            )
            continue
        except Exception as exc:
            if job.time_limit and time.monotonic() - started >= job.time_limit:
                # the limit fired inside a library that wrapped it in its own exception
                outcomes.append(
                    RowOutcome(row_id, "timeout", f"no result within the {job.time_limit:g}s per-row limit")
                )
                continue
            outcomes.append(RowOutcome(row_id, "error", f"{type(exc).__name__}: {exc}"))
            continue
        if frame is None or len(frame) == 0:
            outcomes.append(RowOutcome(row_id, "no_counterfactual", _why_none(job, detail)))
            continue
        features = [c for c in job.train.columns if c != job.target]
        outcomes.append(RowOutcome(row_id, "ok", "", frame[features].reset_index(drop=True)))
    return outcomes


def _search_one(
    explainer: Any,
    query: pd.DataFrame,
    job: SearchJob,
    kwargs: dict[str, Any],
    none_found: type[Exception],
) -> tuple[pd.DataFrame | None, str]:
    """Sample ``job.sample_size`` candidates; if too few are found, retry with 4x as many."""
    best: pd.DataFrame | None = None
    detail = "empty result"
    for size in (job.sample_size, 4 * job.sample_size):
        try:
            found = explainer.generate_counterfactuals(
                query, total_CFs=job.total_cfs, sample_size=size, **kwargs
            )
            frame = found.cf_examples_list[0].final_cfs_df
        except none_found as exc:  # DiCE raises when a query gets no counterfactual at all
            frame, detail = None, str(exc)
        if frame is not None and (best is None or len(frame) > len(best)):
            best = frame
        if best is not None and len(best) >= job.total_cfs:
            break
    return best, detail


def _why_none(job: SearchJob, detail: str) -> str:
    vary = job.features_to_vary if job.features_to_vary != "all" else "all features"
    ranges = job.permitted_range or "none"
    return (
        f"DiCE (random search) found no counterfactual reaching the desired outcome while varying "
        f"{vary} within permitted ranges {ranges} ({detail}); allow more features to vary or "
        "widen the ranges."
    )
