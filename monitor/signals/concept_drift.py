"""Concept drift: streaming change detectors from ``river`` on the time-ordered error stream.

The detectors watch the model's errors (0/1 misclassifications, or absolute errors for
regression) in time order. Their state is carried from one run to the next as plain JSON,
so a stream continues across windows and service restarts, and no pickle is stored:

* DDM, EDDM, Page-Hinkley and KSWIN are pure Python: their numeric internals (running
  means and variances, KSWIN's window and random-generator state) are written out and set
  back on a fresh detector, which then behaves exactly as the uninterrupted one.
* ADWIN lives in compiled code whose internals cannot be read. Its state is the part of the
  stream fed since its last detection (when ADWIN starts afresh), replayed on restore. This
  is exact while that part holds at most ``max_replay`` values; beyond it only the most recent
  ``max_replay`` values are kept (``"exact": false`` in the state), which ADWIN, whose window
  forgets old data anyway, tolerates with a slightly different sensitivity.

>>> rng = np.random.default_rng(0)
>>> errors = np.r_[rng.uniform(size=1000) < 0.1, rng.uniform(size=1000) < 0.5].astype(float)
>>> events, state = run_detectors(errors, None, None, detectors=("ddm",))
>>> [(e["detector"], e["index"]) for e in events]
[('ddm', 1042)]
"""

from __future__ import annotations

import collections
import math
import random
from typing import Any

import numpy as np
import pandas as pd
import river
from numpy.typing import ArrayLike
from river import drift, stats
from river.base import DriftDetector
from river.drift import binary
from scipy.special import kolmogorov

from monitor.errors import DataError
from monitor.signals.results import SignalResult

__all__ = [
    "BINARY_ONLY",
    "DEFAULT_PARAMS",
    "DETECTORS",
    "STATE_VERSION",
    "VectorKSWIN",
    "concept_drift_signal_results",
    "default_detectors",
    "run_detectors",
]

STATE_VERSION = 1
DETECTORS: tuple[str, ...] = ("adwin", "ddm", "eddm", "page_hinkley", "kswin")
BINARY_ONLY = frozenset({"ddm", "eddm"})  # they read a stream of 0/1 errors


class VectorKSWIN(drift.KSWIN):
    """river's KSWIN whose Kolmogorov-Smirnov test is computed with NumPy.

    river calls ``scipy.stats.ks_2samp`` on every update (about 2 ms), too slow for windows
    of 10^5 errors. This subclass keeps KSWIN's window, random sampling and state, and
    computes the two-sample statistic with sorted searches and its p-value from the
    asymptotic Kolmogorov distribution (about 50 µs).
    """

    def update(self, x: float) -> None:
        if self.drift_detected:
            self._reset()
        self.n += 1
        self.window.append(x)
        self._drift_detected = False
        if len(self.window) < self.window_size:
            return
        older = self.window_size - self.stat_size
        values = np.fromiter(self.window, dtype=float, count=len(self.window))
        sample = np.sort(values[self._rng.sample(range(older), self.stat_size)])
        recent = np.sort(values[older:])
        grid = np.concatenate([sample, recent])
        gap = np.searchsorted(sample, grid, "right") - np.searchsorted(recent, grid, "right")
        statistic = float(np.abs(gap).max()) / self.stat_size
        self.p_value = float(kolmogorov(statistic * math.sqrt(self.stat_size / 2)))  # type: ignore[assignment]
        if self.p_value <= self.alpha and statistic > 0.1:
            self._drift_detected = True
            self.window = collections.deque(values[older:].tolist(), maxlen=self.window_size)


_FACTORIES: dict[str, Any] = {
    "adwin": drift.ADWIN,
    "ddm": binary.DDM,
    "eddm": binary.EDDM,
    "page_hinkley": drift.PageHinkley,
    "kswin": VectorKSWIN,
}
_STATS: dict[str, Any] = {"Mean": stats.Mean, "Var": stats.Var}
# Defaults tuned on seeded simulations (3000 errors; error rate 0.15 -> 0.35, or |N(0, 1)| ->
# |N(0, 2)|): river's own defaults let DDM, EDDM and KSWIN fire on most stationary streams.
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "adwin": {},
    "ddm": {"warm_start": 500, "drift_threshold": 3.5},
    "eddm": {"warm_start": 500, "alpha": 0.9, "beta": 0.8},
    "page_hinkley": {"min_instances": 100, "threshold": 80.0},
    "kswin": {"alpha": 1e-5, "window_size": 500, "stat_size": 200},
}


def default_detectors(task: str) -> tuple[str, ...]:
    """Every detector for classifiers; those that read real-valued errors for regression."""
    return tuple(d for d in DETECTORS if task != "regression" or d not in BINARY_ONLY)


def _dump(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else {"float": str(float(value))}
    if isinstance(value, collections.deque):
        return {"deque": [_dump(v) for v in value], "maxlen": value.maxlen}
    if isinstance(value, random.Random):
        version, internal, gauss = value.getstate()
        return {"random": [version, list(internal), gauss]}
    if type(value).__name__ in _STATS and isinstance(value, _STATS[type(value).__name__]):
        return {
            "stat": type(value).__name__,
            "fields": {k: _dump(v) for k, v in vars(value).items()},
        }
    raise TypeError(f"cannot store detector internal of type {type(value).__name__}")


def _load(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "float" in value:
        return float(value["float"])
    if "deque" in value:
        return collections.deque((_load(v) for v in value["deque"]), maxlen=value["maxlen"])
    if "random" in value:
        rng = random.Random()
        version, internal, gauss = value["random"]
        rng.setstate((version, tuple(internal), gauss))
        return rng
    obj = _STATS[value["stat"]]()
    for k, v in value["fields"].items():
        setattr(obj, k, _load(v))
    return obj


def _internals(det: DriftDetector, params: dict[str, Any]) -> dict[str, Any]:
    public = set(params)  # constructor settings; everything else is state
    return {k: _dump(v) for k, v in vars(det).items() if k not in public and not callable(v)}


def _restore(name: str, saved: dict[str, Any] | None, params: dict[str, Any]) -> DriftDetector:
    det = _FACTORIES[name](**(saved["params"] if saved else params))
    if saved and name == "adwin":
        for v in saved["replay"]:
            det.update(v)
    elif saved:
        for k, v in saved["internals"].items():
            setattr(det, k, _load(v))
    return det


def _timestamps(timestamps: ArrayLike | None, n: int, last: str | None) -> pd.DatetimeIndex | None:
    if timestamps is None:
        return None
    ts = pd.DatetimeIndex(pd.to_datetime(np.asarray(timestamps), utc=True))
    if ts.size != n:
        raise DataError(f"timestamps has {ts.size} values but errors has {n}; align them")
    if n and not ts.is_monotonic_increasing:
        raise DataError("timestamps are not in time order; sort the window by timestamp first")
    if n and last is not None and ts[0] < pd.Timestamp(last):
        raise DataError(
            f"the window starts at {ts[0].isoformat()}, before {last}, the last time already fed "
            "to the detectors; run windows in time order or start from an empty state"
        )
    return ts


def run_detectors(
    errors: ArrayLike,
    timestamps: ArrayLike | None,
    state: dict[str, Any] | None,
    *,
    detectors: tuple[str, ...] = DETECTORS,
    seed: int = 0,
    params: dict[str, dict[str, Any]] | None = None,
    max_replay: int = 10_000,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Feed a window of the error stream to the detectors, continuing from ``state``.

    Parameters
    ----------
    errors
        Errors in time order: 0/1 misclassifications or absolute errors.
    timestamps
        The time of each error (datetime-like), or ``None``.
    state
        The ``new_state`` of the previous run (JSON-compatible), or ``None`` to start afresh.
    detectors
        Names among ``adwin``, ``ddm``, ``eddm``, ``page_hinkley``, ``kswin``.
    seed
        Seed of KSWIN's sampling; recorded in the state, which keeps it for later runs.
    params
        Constructor arguments per detector over :data:`DEFAULT_PARAMS`, e.g.
        ``{"adwin": {"delta": 0.01}}``; the state keeps those of the run that started the stream.
    max_replay
        How much of ADWIN's stream since its last detection the state keeps.

    Returns
    -------
    events, new_state
        One event per detection: ``detector``, ``index`` in this window, ``stream_index``
        since the stream began and ``timestamp`` (ISO 8601 or ``None``).
    """
    unknown = sorted(set(detectors) - set(DETECTORS))
    if unknown:
        raise DataError(f"unknown detectors {unknown}; choose among {list(DETECTORS)}")
    x = np.asarray(errors, dtype=float).ravel()
    if not np.isfinite(x).all():
        raise DataError("errors must be finite; drop the rows whose label has not arrived")
    if set(detectors) & BINARY_ONLY and not np.isin(x, (0.0, 1.0)).all():
        raise DataError(
            f"{sorted(set(detectors) & BINARY_ONLY)} read a 0/1 error stream; for real-valued "
            f"errors use detectors={default_detectors('regression')}"
        )
    if state and state.get("version") != STATE_VERSION:
        raise DataError(
            f"detector state version {state.get('version')!r} is not {STATE_VERSION}; it was "
            "written by another raiwatch version: start the stream again from an empty state"
        )
    state = state or {"version": STATE_VERSION, "n_seen": 0, "last_timestamp": None, "seed": seed}
    ts = _timestamps(timestamps, x.size, state["last_timestamp"])
    saved: dict[str, Any] = state.get("detectors", {})
    new: dict[str, Any] = {}
    events: list[dict[str, Any]] = []
    for name in detectors:
        init = {**DEFAULT_PARAMS[name], **(params or {}).get(name, {})}
        if name == "kswin":
            init.setdefault("seed", state["seed"])
        det = _restore(name, saved.get(name), init)
        init = saved[name]["params"] if name in saved else init
        replay = list(saved[name]["replay"]) if name == "adwin" and name in saved else []
        exact = bool(saved[name]["exact"]) if name == "adwin" and name in saved else True
        for i, value in enumerate(x.tolist()):
            det.update(value)
            replay.append(value)
            if det.drift_detected:
                replay = []
                stamp = None if ts is None else ts[i].isoformat()
                events.append({"detector": name, "index": i, "stream_index": state["n_seen"] + i,
                               "timestamp": stamp})  # fmt: skip
        if name == "adwin":
            exact = exact and len(replay) <= max_replay
            new[name] = {"params": init, "replay": replay[-max_replay:], "exact": exact}
        else:
            new[name] = {"params": init, "internals": _internals(det, init)}
    events.sort(key=lambda e: e["index"])  # time order; detectors in order within a row
    last = ts[-1].isoformat() if ts is not None and x.size else state["last_timestamp"]
    new_state = {"version": STATE_VERSION, "river": river.__version__, "seed": state["seed"],
                 "n_seen": state["n_seen"] + x.size, "last_timestamp": last, "detectors": new}  # fmt: skip
    return events, new_state


def concept_drift_signal_results(
    events: list[dict[str, Any]], n: int, detectors: tuple[str, ...] = DETECTORS
) -> list[SignalResult]:
    """One ``concept_drift`` result per detector: ``alert`` when it fired in the window."""
    results = []
    for name in detectors:
        mine = [e for e in events if e["detector"] == name]
        if n == 0:
            status, msg = "no_data", "no labels have arrived for this window"
        else:
            status = "alert" if mine else "ok"
            msg = f"{name} detected {len(mine)} change(s) in {n} errors"
        results.append(
            SignalResult(
                "concept_drift",
                None,
                name,
                float(len(mine)) if n else None,
                1.0,
                status,
                current_size=n,
                message=msg,
                details={"events": mine},
            )
        )
    return results
