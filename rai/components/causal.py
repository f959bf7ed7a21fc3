"""Causal effects of treatment features on the outcome, stating what they estimate.

For each treatment: the adjustment set (from the user's graph by DoWhy's backdoor
identification — nodes are the target and feature names with non-alphanumerics as
``_``, a categorical common cause appearing one-hot as ``<name>_<level>`` — or from the
declared common causes, by default every other feature), always in sorted order; for
a 0/1 treatment, cross-fitted propensity scores with overlap diagnostics and optional
trimming (:mod:`rai.components.causal_overlap`); the estimate of ``causal.estimand``
(``ate`` by default, ``att``, ``atc``) by EconML ``LinearDML`` or linear regression
(:mod:`rai.components.causal_estimation`); and refutations with stated pass rules
(:mod:`rai.components.causal_refutation`). Individual effects and the treatment policy
are computed only for rows inside the overlap bounds.

The rows are those of ``causal.data`` (``both`` by default: train and test
together; or ``train``, ``test``), sampled to ``causal.max_rows``. The outcome is the
target (for classification the indicator of the positive class); a binary
categorical treatment is coded 1 for its last level in sorted order. Treatments run
in a process pool when ``causal.n_jobs > 1``.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from rai.components import causal_refutation as refute
from rai.components.causal_estimation import EffectEstimate, estimate_effect, is_binary
from rai.components.causal_overlap import (
    overlap_diagnostics,
    propensity_scores,
    within_bounds,
)
from rai.components.causal_policy import treatment_policy
from rai.config import CausalSettings
from rai.errors import RaiConfigError
from rai.results import ComponentResult, to_jsonable
from rai.validate import RaiInputs


def causal_frame(inputs: RaiInputs) -> pd.DataFrame:
    """Rows of ``causal.data`` (sampled to ``causal.max_rows``), categoricals one-hot,
    booleans as 0/1, outcome numeric."""
    config = inputs.config
    parts = {"train": (inputs.x_train, inputs.y_train), "test": (inputs.x_test, inputs.y_test)}
    chosen = ["train", "test"] if config.causal.data == "both" else [config.causal.data]
    frame = pd.concat([parts[c][0] for c in chosen], ignore_index=True)
    target = pd.concat([parts[c][1] for c in chosen], ignore_index=True)
    if len(frame) > config.causal.max_rows:
        frame = frame.sample(n=config.causal.max_rows, random_state=config.seed)
    y = target.loc[frame.index]
    for name in frame.columns:
        if pd.api.types.is_bool_dtype(frame[name]):
            frame[name] = frame[name].astype(int)
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
    """Overlap, estimate, refutations and (optionally) a policy for one treatment."""
    name = _safe_name(treatment)
    controls = [_safe_name(c) for c in settings.negative_control_outcomes]
    causes = [c for c in _adjustment_set(frame, name, outcome, settings) if c not in controls]
    t_all = frame[name].to_numpy(dtype=float)
    binary = is_binary(t_all)
    warnings_found: list[str] = []
    overlap: dict[str, Any] | None = None
    keep = np.ones(len(frame), dtype=bool)
    scores = None
    if binary:
        scores = propensity_scores(t_all, frame[causes].to_numpy(dtype=float), seed=seed)
        overlap = overlap_diagnostics(scores, t_all, max_share_outside=settings.max_share_outside)
        if settings.trim > 0:
            keep = within_bounds(scores, settings.trim)
            overlap["trimmed_to"] = [settings.trim, 1 - settings.trim]
        overlap["rows_used"] = int(keep.sum())
        if not overlap["passed"]:
            warnings_found.append(
                f"{treatment}: {overlap['share_outside']:.1%} of rows have a propensity outside "
                f"[0.05, 0.95] (limit {settings.max_share_outside:.0%}); the "
                f"{settings.estimand.upper()} extrapolates there"
                + (
                    f" (estimated on the {int(keep.sum())} rows trimmed to "
                    f"[{settings.trim}, {1 - settings.trim}])"
                    if settings.trim > 0
                    else "; set causal.trim (e.g. 0.05) or use estimand 'att'"
                )
            )
    used = frame[keep].reset_index(drop=True)
    t = used[name].to_numpy(dtype=float)
    in_overlap = within_bounds(scores[keep]) if scores is not None else None
    want_individual = settings.individual_effects and method == "dml" and binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimate = estimate_effect(
            used,
            name,
            outcome,
            causes,
            method=method,
            estimand=settings.estimand,
            seed=seed,
            modifiers_for=in_overlap if want_individual else None,
        )

        def refit(rows: np.ndarray) -> EffectEstimate:
            subset = used[rows].reset_index(drop=True)
            return estimate_effect(
                subset, name, outcome, causes, method=method, estimand=settings.estimand, seed=seed
            )

        checks = [
            refute.placebo_treatment(
                estimate,
                t,
                used[sorted(causes)].to_numpy(dtype=float),
                simulations=settings.refutation_simulations,
                seed=seed,
            ),
            refute.data_subset(
                estimate, refit, len(used), refits=settings.subset_refits, seed=seed
            ),
            *[refute.negative_control(used, name, c, causes) for c in controls],
            refute.confounder_sensitivity(used, name, outcome, causes),
        ]
    if settings.individual_effects and not want_individual:
        warnings_found.append(
            f"{treatment}: individual effects need estimator 'dml' and a 0/1 treatment "
            "(overlap is checked on its propensity); none computed"
        )
    effect = {
        "treatment": treatment,
        **estimate.summary(),
        "adjustment_set": sorted(causes),
        "overlap": overlap,
        "unit": (
            "difference in outcome between treatment 1 and 0"
            if binary
            else "change in outcome per unit increase of the treatment"
        ),
    }
    analysis: dict[str, Any] = {
        "effect": effect,
        "refutations": [{"treatment": treatment, **r} for r in checks],
        "individual": estimate.individual,
        "policy": None,
        "warnings": warnings_found,
    }
    if estimate.individual is not None and in_overlap is not None and len(estimate.individual):
        covariates = used.loc[in_overlap, sorted(causes)].reset_index(drop=True)
        analysis["policy"] = treatment_policy(covariates, estimate.individual, seed=seed)
        analysis["policy"]["rows"] = "rows with a propensity inside [0.05, 0.95]"
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
    found = [w for a in analyses for w in a["warnings"]]
    summary = {
        "outcome": (
            f"P({config.target} == {inputs.model.positive_label!r})"
            if inputs.model.is_classifier
            else config.target
        ),
        "data": settings.data,
        "rows": len(frame),
        "estimator": method,
        "estimand": settings.estimand,
        "effects": effects,
        "refutations": refutations,
        "policies": policies,
        "all_refutations_passed": all(r["passed"] for r in refutations),
        "warnings": found,
    }
    effect_table = pd.DataFrame(
        [{k: v for k, v in e.items() if k not in ("overlap", "adjustment_set")} for e in effects]
    )
    refutation_table = pd.DataFrame(
        [
            {
                "treatment": r["treatment"],
                "refutation": r["refutation"],
                "new_effect": r.get("new_effect"),
                "passed": r["passed"],
                "rule": r["rule"],
            }
            for r in refutations
        ]
    )
    tables = {"effects": effect_table, "refutations": refutation_table}
    if individual:
        tables["individual_effects"] = pd.concat(individual, ignore_index=True)
    return ComponentResult(
        "causal",
        status="warning" if found else "ok",
        summary=to_jsonable(summary),
        tables=tables,
    )


def _adjustment_set(
    frame: pd.DataFrame, treatment: str, outcome: str, settings: CausalSettings
) -> list[str]:
    """Sorted adjustment set: backdoor set of the user's graph, else the common causes."""
    if settings.graph:
        from dowhy import CausalModel

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = CausalModel(
                data=frame, treatment=treatment, outcome=outcome, graph=settings.graph
            )
            identified = model.identify_effect(proceed_when_unidentifiable=True)
        return sorted(str(v) for v in identified.get_backdoor_variables())
    return sorted(_common_causes(frame, treatment, outcome, settings.common_causes))


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
