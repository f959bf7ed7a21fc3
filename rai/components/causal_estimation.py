"""One DoWhy estimate (DML or linear regression) and its three refutations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from dowhy import CausalModel
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

REFUTERS: dict[str, tuple[str, dict[str, Any]]] = {
    "placebo_treatment": ("placebo_treatment_refuter", {"placebo_type": "permute"}),
    "random_common_cause": ("random_common_cause", {}),
    "data_subset": ("data_subset_refuter", {"subset_fraction": 0.8}),
}


@dataclass
class EffectEstimate:
    """A DoWhy estimate with its interval, p-value and (optional) individual effects."""

    model: CausalModel
    identified: Any
    estimate: Any
    method: str
    value: float
    ci_low: float
    ci_high: float
    p_value: float
    individual: np.ndarray | None

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures of the estimate."""
        return {
            "method": self.method,
            "effect": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "unit": "change in outcome per unit increase of the treatment",
        }


def _nuisance(binary: bool, seed: int) -> tuple[Any, Any]:
    forest = {"n_estimators": 20, "max_depth": 5, "min_samples_leaf": 20, "random_state": seed}
    model_t = RandomForestClassifier(**forest) if binary else RandomForestRegressor(**forest)
    return RandomForestRegressor(**forest), model_t


def estimate_effect(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    causes: list[str],
    *,
    method: str,
    graph: str | None,
    seed: int,
    individual: bool,
) -> EffectEstimate:
    """Identify and estimate the average effect of ``treatment`` on ``outcome``."""
    np.random.seed(seed)  # DoWhy's refuters and EconML's splits draw from the global state
    binary = frame[treatment].nunique() == 2
    modifiers = causes if individual and method == "dml" else None
    model = CausalModel(
        data=frame,
        treatment=treatment,
        outcome=outcome,
        graph=graph,
        common_causes=None if graph else causes,
        effect_modifiers=modifiers,
    )
    identified = model.identify_effect(proceed_when_unidentifiable=True)
    if method == "dml":
        model_y, model_t = _nuisance(binary, seed)
        estimate = model.estimate_effect(
            identified,
            method_name="backdoor.econml.dml.LinearDML",
            effect_modifiers=modifiers or [],  # only the ones asked for, never graph-implied
            method_params={
                "init_params": {
                    "model_y": model_y,
                    "model_t": model_t,
                    "discrete_treatment": bool(binary),
                    "cv": 3,
                    "random_state": seed,
                },
                "fit_params": {},
            },
        )
        econml_model = estimate.estimator.estimator
        fitted_x = getattr(estimate.estimator, "_effect_modifiers", None) if modifiers else None
        x = None if fitted_x is None else np.asarray(fitted_x, dtype=float)  # as DoWhy fitted it
        inference = econml_model.ate_inference(X=x)
        low, high = (float(v) for v in np.ravel(inference.conf_int_mean()))
        p_value = float(np.ravel(inference.pvalue())[0])
        effects = np.ravel(econml_model.effect(x)) if x is not None else None
        label = "DoWhy backdoor + EconML LinearDML (random-forest nuisances, 3-fold)"
    else:
        estimate = model.estimate_effect(
            identified,
            method_name="backdoor.linear_regression",
            effect_modifiers=[],
            confidence_intervals=True,
            test_significance=True,
        )
        low, high = (float(v) for v in np.ravel(estimate.get_confidence_intervals()))
        p_value = float(np.ravel(estimate.test_stat_significance()["p_value"])[0])
        effects = None
        label = "DoWhy backdoor + linear regression"
    return EffectEstimate(
        model, identified, estimate, label, float(estimate.value), low, high, p_value, effects
    )


def refute_effect(estimate: EffectEstimate, simulations: int, seed: int) -> list[dict[str, Any]]:
    """Run the three refutations; each passes when its new effect stays within tolerance.

    Tolerance is the larger of the estimate's half interval width and 10 % of |effect|.
    A placebo passes when its effect is within tolerance of 0; the random common cause
    and data subset refutations pass when their effect is within tolerance of the
    estimate.
    """
    tolerance = max((estimate.ci_high - estimate.ci_low) / 2, 0.1 * abs(estimate.value))
    results = []
    for name, (method_name, extra) in REFUTERS.items():
        np.random.seed(seed)
        refuted = estimate.model.refute_estimate(
            estimate.identified,
            estimate.estimate,
            method_name=method_name,
            num_simulations=simulations,
            random_seed=seed,
            **extra,
        )
        new_effect = float(np.mean(refuted.new_effect))
        expected = 0.0 if name == "placebo_treatment" else estimate.value
        significance = refuted.refutation_result or {}
        results.append(
            {
                "refutation": name,
                "new_effect": new_effect,
                "expected": expected,
                "tolerance": tolerance,
                "passed": abs(new_effect - expected) <= tolerance,
                "dowhy_p_value": float(np.ravel(significance.get("p_value", np.nan))[0]),
            }
        )
    return results
