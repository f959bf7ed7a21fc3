"""Propensity scores and overlap diagnostics for a binary treatment.

The propensity ``P(t = 1 | covariates)`` is a cross-fitted (5-fold, seeded) logistic
regression on standardised covariates: each row's score comes from a model that did
not see it. Overlap is judged on the bounds ``[0.05, 0.95]``: the share of rows (and of
treated and control rows) outside them is stored, and overlap *fails* when more than
``max_share_outside`` of the rows lie outside. Trimming (``causal.trim = a``) keeps only
rows with a score in ``[a, 1 - a]`` before estimating; the estimand then refers to
that trimmed population, which the result says.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

OVERLAP_BOUNDS = (0.05, 0.95)


def propensity_scores(treatment: np.ndarray, covariates: np.ndarray, *, seed: int) -> np.ndarray:
    """Cross-fitted propensity scores (constant share of treated without covariates)."""
    if covariates.shape[1] == 0:
        return np.full(len(treatment), float(np.mean(treatment)))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    scores = cross_val_predict(
        model, covariates, treatment.astype(int), cv=folds, method="predict_proba"
    )
    return np.asarray(scores[:, 1], dtype=float)


def overlap_diagnostics(
    scores: np.ndarray, treatment: np.ndarray, *, max_share_outside: float
) -> dict[str, Any]:
    """Share outside the bounds (all, treated, controls), score quantiles, verdict."""
    low, high = OVERLAP_BOUNDS
    outside = (scores < low) | (scores > high)
    treated = treatment == 1

    def share(mask: np.ndarray) -> float | None:
        return float(outside[mask].mean()) if mask.any() else None

    quantiles = [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0]
    return {
        "bounds": [low, high],
        "share_outside": float(outside.mean()),
        "share_outside_treated": share(treated),
        "share_outside_control": share(~treated),
        "propensity_quantiles_treated": dict(
            zip(map(str, quantiles), np.quantile(scores[treated], quantiles).tolist(), strict=True)
        )
        if treated.any()
        else None,
        "propensity_quantiles_control": dict(
            zip(map(str, quantiles), np.quantile(scores[~treated], quantiles).tolist(), strict=True)
        )
        if (~treated).any()
        else None,
        "max_share_outside": max_share_outside,
        "passed": bool(outside.mean() <= max_share_outside),
        "method": "cross-fitted (5-fold, seeded) logistic regression on standardised covariates",
    }


def within_bounds(scores: np.ndarray, trim: float = 0.0) -> np.ndarray:
    """Rows whose score lies in ``[trim, 1 - trim]`` (``OVERLAP_BOUNDS`` when trim is 0)."""
    low, high = (trim, 1 - trim) if trim > 0 else OVERLAP_BOUNDS
    return (scores >= low) & (scores <= high)
