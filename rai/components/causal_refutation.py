"""Checks of a causal estimate, each with a stated pass rule.

* **placebo_treatment** — the treatment is permuted ``simulations`` times (at least
  50) and the effect of each fake treatment is estimated from the estimator's outcome
  residuals and the fake treatment residualised on the covariates (Frisch–Waugh–Lovell:
  exactly the OLS coefficient of the fake treatment for the linear estimator).
  *Passes* when the mean placebo effect is within a quarter of the half-width of the
  estimate's 95 % interval of 0: the estimation machinery manufactures no effect of
  practical size from a treatment that has none. (With 50 simulations the Monte-Carlo
  error of that mean is about 0.14 standard errors, so a sound analysis fails this by
  chance with probability well under 0.1 %.) Also stored: ``p_value_vs_placebo``, the share of
  placebo effects at least as large in magnitude as the estimate (a permutation test
  of "no effect"), which is not part of the verdict.
* **data_subset** — the estimate is recomputed on ``subset_refits`` random 80 %
  subsets. *Passes* when the mean subset estimate lies inside the original 95 %
  interval.
* **negative_control_outcome** — for each declared negative-control outcome (a
  feature the treatment cannot affect, e.g. a pre-treatment measurement; it is left
  out of the covariates), the same adjustment is used to estimate the effect of the
  treatment on it by OLS with HC2 errors. *Passes* when its 95 % interval contains 0.
  A failure means the adjustment leaves confounding that also moves the control.
* **unobserved_confounder_sensitivity** — the robustness value ``RV`` of Cinelli &
  Hazlett (2020) for the 95 % interval: the share of residual variance of both the
  treatment and the outcome an unobserved confounder must explain to bring the
  interval to 0, from the OLS ``y ~ t + covariates``. Benchmark: the strongest
  observed covariate, ``max_j min(R²(y ~ x_j | t, rest), R²(t ~ x_j | rest))``.
  *Passes* when ``RV`` exceeds the benchmark: a confounder as strong as the strongest
  observed covariate could not explain the effect away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from rai.components.causal_estimation import EffectEstimate

MIN_PLACEBO_SIMULATIONS = 50


def placebo_treatment(
    estimate: EffectEstimate,
    treatment: np.ndarray,
    covariates: np.ndarray,
    *,
    simulations: int,
    seed: int,
) -> dict[str, Any]:
    """Effects of permuted treatments, vectorised over ``simulations``."""
    rng = np.random.default_rng([seed, 1])
    fake = rng.permuted(np.broadcast_to(treatment, (simulations, len(treatment))).copy(), axis=1)
    controls = np.column_stack([np.ones(len(treatment)), covariates])
    q, _ = np.linalg.qr(controls)
    residual = fake.T - q @ (q.T @ fake.T)  # (rows, simulations)
    y_res = estimate.outcome_residuals
    effects = (y_res @ residual) / np.einsum("ij,ij->j", residual, residual)
    mean, sd = float(effects.mean()), float(effects.std(ddof=1))
    margin = 0.25 * (estimate.ci_high - estimate.ci_low) / 2
    larger = int(np.sum(np.abs(effects) >= abs(estimate.value)))
    return {
        "refutation": "placebo_treatment",
        "simulations": simulations,
        "new_effect": mean,
        "placebo_sd": sd,
        "interval": [-margin, margin],
        "passed": bool(abs(mean) <= margin),
        "rule": "|mean placebo effect| <= 0.25 x half-width of the estimate's 95% interval",
        "p_value_vs_placebo": (1 + larger) / (1 + simulations),
    }


def data_subset(
    estimate: EffectEstimate,
    refit: Callable[[np.ndarray], EffectEstimate],
    n_rows: int,
    *,
    refits: int,
    seed: int,
) -> dict[str, Any]:
    """Mean estimate over random 80 % subsets, against the original interval."""
    rng = np.random.default_rng([seed, 2])
    values = []
    for _ in range(refits):
        keep = np.zeros(n_rows, dtype=bool)
        keep[rng.choice(n_rows, size=int(0.8 * n_rows), replace=False)] = True
        values.append(refit(keep).value)
    mean = float(np.mean(values))
    return {
        "refutation": "data_subset",
        "simulations": refits,
        "new_effect": mean,
        "interval": [estimate.ci_low, estimate.ci_high],
        "passed": bool(estimate.ci_low <= mean <= estimate.ci_high),
        "rule": "mean estimate over 80% subsets inside the original 95% interval",
    }


def negative_control(
    frame: pd.DataFrame, treatment: str, control: str, covariates: list[str]
) -> dict[str, Any]:
    """OLS effect of the treatment on a negative-control outcome, same adjustment."""
    used = sorted(c for c in covariates if c != control)
    design = sm.add_constant(frame[[treatment, *used]].to_numpy(dtype=float), has_constant="add")
    fitted = sm.OLS(frame[control].to_numpy(dtype=float), design).fit(cov_type="HC2")
    low, high = (float(v) for v in fitted.conf_int(alpha=0.05)[1])
    return {
        "refutation": f"negative_control_outcome:{control}",
        "simulations": None,
        "new_effect": float(fitted.params[1]),
        "interval": [low, high],
        "passed": bool(low <= 0.0 <= high),
        "rule": "95% interval of the effect on the negative-control outcome contains 0",
        "p_value": float(fitted.pvalues[1]),
    }


def robustness_value(t_statistic: float, dof: int, alpha: float = 0.05) -> float:
    """Cinelli & Hazlett robustness value for the (1 - alpha) interval to reach 0.

    >>> round(robustness_value(10.0, 100), 4)
    0.5419
    """
    f = abs(t_statistic) / np.sqrt(dof) - stats.t.ppf(1 - alpha / 2, dof - 1) / np.sqrt(dof - 1)
    if f <= 0:
        return 0.0
    return float(0.5 * (np.sqrt(f**4 + 4 * f**2) - f**2))


def confounder_sensitivity(
    frame: pd.DataFrame, treatment: str, outcome: str, covariates: list[str]
) -> dict[str, Any]:
    """Robustness value of the estimate against the strongest observed covariate."""
    used = sorted(covariates)
    x = frame[used].to_numpy(dtype=float) if used else np.zeros((len(frame), 0))
    t = frame[treatment].to_numpy(dtype=float)
    y = frame[outcome].to_numpy(dtype=float)
    outcome_fit = sm.OLS(y, sm.add_constant(np.column_stack([t, x]), has_constant="add")).fit()
    rv = robustness_value(float(outcome_fit.tvalues[1]), int(outcome_fit.df_resid))
    benchmark, strongest = 0.0, None
    if used:
        treatment_fit = sm.OLS(t, sm.add_constant(x, has_constant="add")).fit()
        r2_y = outcome_fit.tvalues[2:] ** 2 / (outcome_fit.tvalues[2:] ** 2 + outcome_fit.df_resid)
        r2_t = treatment_fit.tvalues[1:] ** 2 / (
            treatment_fit.tvalues[1:] ** 2 + treatment_fit.df_resid
        )
        strength = np.minimum(r2_y, r2_t)
        j = int(np.argmax(strength))
        benchmark, strongest = float(strength[j]), used[j]
    return {
        "refutation": "unobserved_confounder_sensitivity",
        "simulations": None,
        "new_effect": None,
        "robustness_value": rv,
        "benchmark": benchmark,
        "benchmark_covariate": strongest,
        "passed": bool(rv > benchmark),
        "rule": (
            "robustness value (share of residual variance of treatment and outcome a "
            "confounder must explain to move the 95% interval to 0) above that of the "
            "strongest observed covariate"
        ),
    }
