"""Causal effects of treatment features on the outcome, with DoWhy.

For each treatment: a causal model from the user's graph (DOT or GML; nodes are the
target and feature names with non-alphanumerics as ``_``, a categorical common cause
appearing one-hot as ``<name>_<level>``) or from common causes (by default every other
feature), backdoor identification, estimation by double machine learning (EconML
``LinearDML``) when EconML is importable and ``causal.estimator`` is
``auto``/``dml``, else linear regression; then three refutations (placebo treatment,
random common cause, data subset). The outcome is the target on the train data (for
classification the indicator of the positive class); a binary categorical treatment
is coded 1 for its last level in sorted order. Treatments run in a process pool when
``causal.n_jobs > 1``.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from rai.components.causal_estimation import EffectEstimate, estimate_effect, refute_effect
from rai.components.causal_policy import treatment_policy
from rai.config import CausalSettings
from rai.errors import RaiConfigError
from rai.results import ComponentResult, to_jsonable
from rai.validate import RaiInputs


def causal_frame(inputs: RaiInputs) -> pd.DataFrame:
    """Train rows (sampled to ``causal.max_rows``), categoricals one-hot, outcome numeric."""
    config = inputs.config
    frame = inputs.x_train.copy()
    if len(frame) > config.causal.max_rows:
        frame = frame.sample(n=config.causal.max_rows, random_state=config.seed)
    y = inputs.y_train.loc[frame.index]
    outcome = (y == inputs.model.positive_label) if inputs.model.is_classifier else y
    binary_treatments = [t for t in config.treatment_features if t in inputs.categorical]
    for name in binary_treatments:
        levels = sorted(frame[name].astype(str).unique())
        frame[name] = (frame[name].astype(str) == levels[-1]).astype(int)
    others = [c for c in inputs.categorical if c not in binary_treatments]
    frame = pd.get_dummies(frame, columns=others, drop_first=True, dtype=float)
    frame.columns = [_safe_name(c) for c in frame.columns]
    frame[_safe_name(config.target)] = outcome.astype(float).to_numpy()
    return frame.reset_index(drop=True)


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in str(name))


def choose_estimator(setting: str) -> str:
    """``dml`` when requested or when ``auto`` and EconML imports, else ``linear``."""
    has_econml = importlib.util.find_spec("econml") is not None
    if setting == "dml" and not has_econml:
        raise RaiConfigError("causal.estimator 'dml' needs EconML: `pip install econml`.")
    return "dml" if setting == "dml" or (setting == "auto" and has_econml) else "linear"


def analyse_treatment(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    method: str,
    settings: CausalSettings,
    seed: int,
) -> dict[str, Any]:
    """Estimate, refute and (optionally) build a policy for one treatment; plain data only."""
    name = _safe_name(treatment)
    causes = _common_causes(frame, name, outcome, settings.common_causes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimate = estimate_effect(
            frame,
            name,
            outcome,
            causes,
            method=method,
            graph=settings.graph,
            seed=seed,
            individual=settings.individual_effects,
        )
        refuted = refute_effect(estimate, settings.refutation_simulations, seed)
    analysis: dict[str, Any] = {
        "effect": {"treatment": treatment, **estimate.summary()},
        "refutations": [{"treatment": treatment, **r} for r in refuted],
        "individual": estimate.individual,
        "policy": None,
    }
    if estimate.individual is not None:
        analysis["policy"] = treatment_policy(frame[causes], estimate.individual, seed=seed)
    return analysis


def run_causal(inputs: RaiInputs) -> ComponentResult:
    """Estimate and refute the effect of every treatment feature (in parallel if asked)."""
    config, settings = inputs.config, inputs.config.causal
    frame = causal_frame(inputs)
    method = choose_estimator(settings.estimator)
    outcome = _safe_name(config.target)
    treatments = list(config.treatment_features)
    jobs = min(settings.n_jobs, len(treatments))
    analyses = Parallel(n_jobs=jobs, backend="loky" if jobs > 1 else "sequential")(
        delayed(analyse_treatment)(frame, t, outcome, method, settings, config.seed)
        for t in treatments
    )
    effects = [a["effect"] for a in analyses]
    refutations = [r for a in analyses for r in a["refutations"]]
    policies = {t: a["policy"] for t, a in zip(treatments, analyses, strict=True) if a["policy"]}
    individual = [
        pd.DataFrame(
            {"treatment": t, "row": np.arange(len(a["individual"])), "effect": a["individual"]}
        )
        for t, a in zip(treatments, analyses, strict=True)
        if a["individual"] is not None
    ]
    summary = {
        "outcome": (
            f"P({config.target} == {inputs.model.positive_label!r})"
            if inputs.model.is_classifier
            else config.target
        ),
        "data": "train",
        "rows": len(frame),
        "estimator": method,
        "effects": effects,
        "refutations": refutations,
        "policies": policies,
        "all_refutations_passed": all(r["passed"] for r in refutations),
    }
    tables = {"effects": pd.DataFrame(effects), "refutations": pd.DataFrame(refutations)}
    if individual:
        tables["individual_effects"] = pd.concat(individual, ignore_index=True)
    return ComponentResult("causal", summary=to_jsonable(summary), tables=tables)


def _common_causes(
    frame: pd.DataFrame, treatment: str, outcome: str, declared: tuple[str, ...]
) -> list[str]:
    if declared:
        wanted = {_safe_name(c) for c in declared}
        return [
            c
            for c in frame.columns
            if c != treatment and any(c == w or c.startswith(f"{w}_") for w in wanted)
        ]
    return [c for c in frame.columns if c not in (treatment, outcome)]


__all__ = ["EffectEstimate", "causal_frame", "choose_estimator", "run_causal"]
