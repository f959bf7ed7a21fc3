"""One effect estimate for a stated estimand: EconML ``LinearDML`` or linear regression.

* **dml** — EconML ``LinearDML`` with seeded random-forest nuisances and seeded
  3-fold cross-fitting. For a binary treatment the covariates are effect modifiers
  (``X``), so the CATE is linear in them and the estimand is the mean CATE over the
  target rows: all rows (ATE), treated rows (ATT) or control rows (ATC), with EconML's
  ``ate_inference`` interval for that mean. For a numeric treatment the covariates are
  controls (``W``) and the estimand is the constant effect per unit (ATE).
* **linear** — ordinary least squares with HC2 standard errors. A binary treatment is
  fully interacted with the covariates centred on the target rows (Lin's regression
  adjustment), so the treatment coefficient is the ATE, ATT or ATC; a numeric treatment
  gets ``y ~ t + covariates`` (the slope).

Columns are always used in sorted order and every random step is seeded, so the same
data and seed give the same numbers in any process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

Estimand = Literal["ate", "att", "atc"]


@dataclass
class EffectEstimate:
    """An effect with its interval, p-value, outcome residuals and individual effects."""

    method: str
    estimand: str
    value: float
    ci_low: float
    ci_high: float
    p_value: float
    std_error: float
    rows: int
    individual: np.ndarray | None
    outcome_residuals: np.ndarray

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures of the estimate."""
        return {
            "method": self.method,
            "estimand": self.estimand,
            "effect": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "std_error": self.std_error,
            "rows": self.rows,
        }


def target_mask(treatment: np.ndarray, estimand: str) -> np.ndarray:
    """Rows the estimand averages over: all (ate), treated (att) or controls (atc)."""
    if estimand == "att":
        return treatment == 1
    if estimand == "atc":
        return treatment == 0
    return np.ones(len(treatment), dtype=bool)


def is_binary(values: np.ndarray) -> bool:
    """True when the treatment takes exactly the values 0 and 1."""
    return set(np.unique(values).tolist()) == {0.0, 1.0}


def estimate_effect(
    frame: pd.DataFrame,
    treatment: str,
    outcome: str,
    covariates: list[str],
    *,
    method: str,
    estimand: str,
    seed: int,
    modifiers_for: np.ndarray | None = None,
) -> EffectEstimate:
    """Estimate the ``estimand`` effect of ``treatment`` on ``outcome``.

    ``modifiers_for`` (a boolean mask) asks the DML estimator for individual effects of
    those rows (binary treatments only).
    """
    covariates = sorted(covariates)
    t = frame[treatment].to_numpy(dtype=float)
    y = frame[outcome].to_numpy(dtype=float)
    w = frame[covariates].to_numpy(dtype=float) if covariates else np.zeros((len(frame), 0))
    binary = is_binary(t)
    if estimand != "ate" and not binary:
        raise ValueError(f"estimand {estimand!r} needs a 0/1 treatment")
    if method == "dml":
        return _dml(t, y, w, binary, estimand, seed, modifiers_for)
    return _linear(t, y, w, binary, estimand)


def _forest(binary: bool, seed: int) -> Any:
    settings = {"n_estimators": 30, "max_depth": 6, "min_samples_leaf": 10, "random_state": seed}
    return RandomForestClassifier(**settings) if binary else RandomForestRegressor(**settings)


def _dml(
    t: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    binary: bool,
    estimand: str,
    seed: int,
    modifiers_for: np.ndarray | None,
) -> EffectEstimate:
    from econml.dml import LinearDML

    model = LinearDML(
        model_y=_forest(False, seed),
        model_t=_forest(binary, seed),
        discrete_treatment=binary,
        cv=3,
        random_state=seed,
    )
    individual = None
    if binary and w.shape[1]:
        model.fit(y, t, X=w, cache_values=True)
        rows = target_mask(t, estimand)
        inference = model.ate_inference(X=w[rows])
        point = float(np.ravel(inference.mean_point)[0])
        low, high = (float(np.ravel(v)[0]) for v in inference.conf_int_mean(alpha=0.05))
        p_value = float(np.ravel(inference.pvalue())[0])
        std_error = float(np.ravel(inference.stderr_mean)[0])
        if modifiers_for is not None:
            individual = np.ravel(model.effect(w[modifiers_for]))
    else:
        model.fit(y, t, W=w if w.shape[1] else None, cache_values=True)
        inference = model.ate_inference()
        point = float(np.ravel(inference.mean_point)[0])
        low, high = (float(np.ravel(v)[0]) for v in inference.conf_int_mean(alpha=0.05))
        p_value = float(np.ravel(inference.pvalue())[0])
        std_error = float(np.ravel(inference.stderr_mean)[0])
    y_res = np.ravel(model.residuals_[0])
    return EffectEstimate(
        method="EconML LinearDML (random-forest nuisances, 3-fold cross-fitting, seeded)",
        estimand=estimand,
        value=point,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        std_error=std_error,
        rows=int(target_mask(t, estimand).sum()),
        individual=individual,
        outcome_residuals=y_res,
    )


def linear_design(t: np.ndarray, w: np.ndarray, binary: bool, estimand: str) -> np.ndarray:
    """Design matrix ``[1, t, w, t * (w - mean of w over the target rows)]``."""
    columns = [np.ones(len(t)), t, w]
    if binary and w.shape[1]:
        centre = w[target_mask(t, estimand)].mean(axis=0)
        columns.append(t[:, None] * (w - centre))
    return np.column_stack(columns)


def _linear(
    t: np.ndarray, y: np.ndarray, w: np.ndarray, binary: bool, estimand: str
) -> EffectEstimate:
    design = linear_design(t, w, binary, estimand)
    fitted = sm.OLS(y, design).fit(cov_type="HC2")
    low, high = (float(v) for v in fitted.conf_int(alpha=0.05)[1])
    controls = np.column_stack([np.ones(len(t)), w])
    y_res = y - controls @ np.linalg.lstsq(controls, y, rcond=None)[0]
    return EffectEstimate(
        method=(
            "OLS, treatment fully interacted with centred covariates (HC2 errors)"
            if binary and w.shape[1]
            else "OLS y ~ treatment + covariates (HC2 errors)"
        ),
        estimand=estimand,
        value=float(fitted.params[1]),
        ci_low=low,
        ci_high=high,
        p_value=float(fitted.pvalues[1]),
        std_error=float(fitted.bse[1]),
        rows=int(target_mask(t, estimand).sum()),
        individual=None,
        outcome_residuals=y_res,
    )
