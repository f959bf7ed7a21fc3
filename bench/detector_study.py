"""Change detectors on the documented stream: delays on accuracy drops, false alarms when stationary.

The documented stream (DESIGN.md, "Alerts people can trust"): 1,000 labelled rows a day of
a classifier whose accuracy is 0.77, with

====================  ==========  ==================================================
days                  accuracy    what
====================  ==========  ==================================================
0-99                  0.77        stationary
100-119               0.72        -5-point step (recovers on day 120)
120-219               0.77        stationary
220-234               0.62        -15-point step (recovers on day 235)
235-334               0.77        stationary
335-374               0.77->0.62  gradual decline over 40 days (recovers on day 375)
375-414               0.77        stationary
====================  ==========  ==================================================

Each row is an error with probability 1 - accuracy, independently. The baseline's error rate
is estimated, as a baseline would, from 10,000 seeded reference rows at accuracy 0.77. Every
detector runs day by day through :func:`monitor.signals.concept_drift.run_detectors`, its
state going through JSON between days, as in production. The CUSUM is calibrated for a
per-window false-alarm rate of 0.002 (the default budget 0.01 split over about 5 signals).

Figures per detector: ``days_to_fire`` on each change (1 = fired on the change's first day;
``None`` = not before the change ended), false alarms per 100 stationary days and the share
of stationary days with an alarm. Stationary days are the days at 0.77 except the 3 days
after each recovery (a two-sided detector may rightly flag a recovery). The rule a default
detector must meet: -15 points within 1 day, -5 points within 3 days, <= 1 false alarm per
100 stationary days -- on every seed for the delays, over all seeds for the false alarms.

River's pure-Python detectors are slow (KSWIN most), so they run on fewer seeds than the
default set and ADWIN; their figures say on how many.

Usage::

    /work/main/.venv/bin/python bench/detector_study.py   # writes bench/results/detector_study.{json,md}
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script from anywhere: the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.signals.concept_drift import (
    DEFAULT_PARAMS,
    calibrate_cusum,
    default_detectors,
    run_detectors,
)

ROWS_PER_DAY = 1000
ACCURACY = 0.77
REFERENCE_ROWS = 10_000
ALPHA = 0.002  # per window: the default budget 0.01 over ~5 signals
SETTLE_DAYS = 3
# (name, first day, last day, accuracy drop at the first day, at the last day); the rule's limit
CHANGES: tuple[tuple[str, int, int, float, float], ...] = (
    ("step_5", 100, 119, 0.05, 0.05),
    ("step_15", 220, 234, 0.15, 0.15),
    ("gradual_40d", 335, 374, 0.15 / 40, 0.15),
)
DAYS = 415
RULE_DAYS = {"step_5": 3, "step_15": 1}
RULE_FALSE_ALARMS_PER_100 = 1.0
RIVER = ("adwin", "ddm", "eddm", "page_hinkley", "kswin")


def accuracy_by_day() -> np.ndarray:
    """The documented stream's accuracy on each day."""
    acc = np.full(DAYS, ACCURACY)
    for _, first, last, drop_first, drop_last in CHANGES:
        acc[first : last + 1] = ACCURACY - np.linspace(drop_first, drop_last, last - first + 1)
    return acc


def stationary_days() -> np.ndarray:
    """Days at the base accuracy, less the settling days after each recovery."""
    keep = accuracy_by_day() == ACCURACY
    for _, _, last, _, _ in CHANGES:
        keep[last + 1 : last + 1 + SETTLE_DAYS] = False
    return keep


def generate_stream(seed: int) -> tuple[list[np.ndarray], float]:
    """Daily 0/1 error arrays and the baseline's reference error rate, from ``seed``."""
    rng = np.random.default_rng(seed)
    reference = float((rng.uniform(size=REFERENCE_ROWS) > ACCURACY).mean())
    days = [(rng.uniform(size=ROWS_PER_DAY) > acc).astype(float) for acc in accuracy_by_day()]
    return days, reference


def fire_days(
    days: list[np.ndarray], detector: str, params: dict[str, Any], seed: int
) -> list[int]:
    """Days on which ``detector`` fired at least once, running day by day through JSON state."""
    state, fired = None, []
    for day, errors in enumerate(days):
        events, state = run_detectors(
            errors, None, state, detectors=(detector,), params={detector: params}, seed=seed
        )
        state = json.loads(json.dumps(state))
        if events:
            fired.append(day)
    return fired


def _score(fired: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, first, last, _, _ in CHANGES:
        hit = [d for d in fired if first <= d <= last]
        out[name] = hit[0] - first + 1 if hit else None
    still = stationary_days()
    out["stationary_days"] = int(still.sum())
    out["false_alarm_days"] = int(sum(still[d] for d in fired))
    return out


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    days = sum(r["stationary_days"] for r in runs)
    alarms = sum(r["false_alarm_days"] for r in runs)
    out: dict[str, Any] = {"seeds": len(runs)}
    for name, first, last, _, _ in CHANGES:
        delays = [r[name] for r in runs]
        found = [d for d in delays if d is not None]
        out[name] = {
            "days_to_fire": delays,
            "max_days": max(found) if found and len(found) == len(delays) else None,
            "median_days": float(np.median(found)) if found else None,
            "missed": len(delays) - len(found),
        }
        if name == "gradual_40d" and found:
            drop = np.linspace(CHANGES[2][3], CHANGES[2][4], last - first + 1)
            out[name]["median_drop_at_fire"] = round(
                float(np.median([drop[d - 1] for d in found])), 4
            )
    out["stationary_days"] = days
    out["false_alarms_per_100_days"] = round(100 * alarms / days, 3)
    out["window_false_alarm_rate"] = round(alarms / days, 5)
    out["meets_rule"] = bool(
        all(
            out[k]["max_days"] is not None and out[k]["max_days"] <= v for k, v in RULE_DAYS.items()
        )
        and out["false_alarms_per_100_days"] <= RULE_FALSE_ALARMS_PER_100
    )
    return out


def detector_study(
    seed: int = 0, *, n_seeds: int = 20, river_seeds: int = 1, kswin_seeds: int = 0
) -> dict[str, Any]:
    """Run every detector over the documented stream for ``n_seeds`` seeds from ``seed``.

    The default detectors (:func:`default_detectors`) and ADWIN run on all ``n_seeds``
    seeds; river's pure-Python ones on the first ``river_seeds`` (KSWIN, at ~50 µs a row,
    20 s a seed, on ``kswin_seeds``: none unless asked). About 30 s with the defaults.

    Returns
    -------
    dict
        ``stream`` (its description), ``defaults`` (the default set) and ``detectors``:
        per detector ``seeds``, per change ``days_to_fire`` (one per seed), ``max_days``,
        ``median_days``, ``missed``, and ``false_alarms_per_100_days``,
        ``window_false_alarm_rate``, ``stationary_days``, ``meets_rule``, ``params``.
    """
    defaults = default_detectors("binary")
    full = (*defaults, "adwin")  # ADWIN is compiled, fast enough for every seed
    seeds_of = {
        d: n_seeds if d in full else (kswin_seeds if d == "kswin" else river_seeds)
        for d in (*defaults, *RIVER)
    }
    runs: dict[str, list[dict[str, Any]]] = {d: [] for d in seeds_of}
    params_of: dict[str, Any] = {}
    for s in range(seed, seed + n_seeds):
        days, reference = generate_stream(s)
        for det, n in seeds_of.items():
            if s - seed >= n:
                continue
            if det == "cusum":
                params = calibrate_cusum(
                    "binary",
                    round(reference, 4),
                    REFERENCE_ROWS,
                    alpha=ALPHA,
                    rows_per_window=ROWS_PER_DAY,
                )
            else:
                params = DEFAULT_PARAMS[det]
            params_of.setdefault(det, params)
            runs[det].append(_score(fire_days(days, det, params, s)))
    detectors = {d: {**_summarise(r), "params": params_of[d]} for d, r in runs.items() if r}
    return {
        "stream": {
            "rows_per_day": ROWS_PER_DAY,
            "accuracy": ACCURACY,
            "days": DAYS,
            "changes": [
                dict(
                    zip(
                        ("name", "first_day", "last_day", "drop_first_day", "drop_last_day"),
                        c,
                        strict=True,
                    )
                )
                for c in CHANGES
            ],
            "reference_rows": REFERENCE_ROWS,
            "alpha_per_window": ALPHA,
            "settle_days": SETTLE_DAYS,
            "seeds": list(range(seed, seed + n_seeds)),
            "rule": {
                "days_to_fire": RULE_DAYS,
                "false_alarms_per_100_days": RULE_FALSE_ALARMS_PER_100,
            },
        },
        "defaults": list(defaults),
        "detectors": detectors,
    }


def markdown(doc: dict[str, Any]) -> str:
    """The study as a Markdown table."""
    lines = [
        "# Change detectors on the documented stream",
        "",
        f"1,000 labelled rows/day, accuracy 0.77; -5 and -15-point steps, a 40-day decline to 0.62. "
        f"Seeds {doc['stream']['seeds'][0]}..{doc['stream']['seeds'][-1]}; default set: {', '.join(doc['defaults'])}. "
        "Days to fire: 1 = on the change's first day (max over seeds; `miss` = not before the change ended).",
        "",
        "| detector | seeds | -15 pts: max days | -5 pts: max days | 40-day decline: median days (drop) | false alarms / 100 stationary days | per-window FA rate | meets rule |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in doc["detectors"].items():

        def cell(k: str, r: dict[str, Any] = r) -> str:
            m = r[k]["max_days"]
            return f"{m}" if m is not None else f"miss ({r[k]['missed']}/{r['seeds']})"

        g = r["gradual_40d"]
        grad = (
            f"{g['median_days']} ({g.get('median_drop_at_fire')})"
            if g["median_days"] is not None
            else "miss"
        )
        lines.append(
            f"| {name} | {r['seeds']} | {cell('step_15')} | {cell('step_5')} | {grad} | "
            f"{r['false_alarms_per_100_days']} | {r['window_false_alarm_rate']} | {'yes' if r['meets_rule'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    started = time.perf_counter()
    doc = detector_study(0, river_seeds=2, kswin_seeds=1)
    doc["seconds"] = round(time.perf_counter() - started, 1)
    out = Path(__file__).resolve().parent / "results" / "detector_study"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(doc))
    print(markdown(doc))
    print(f"{doc['seconds']} s")
