"""A simple treatment policy: a depth-2 tree over individual effects.

Each leaf is a segment with a readable ``DataFrame.query`` filter, its mean
individual effect and a recommendation (increase the treatment where the effect is
positive). The tree is a surrogate of the individual effects, so its fidelity (R²)
is reported with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score
from sklearn.tree import DecisionTreeRegressor


def treatment_policy(
    covariates: pd.DataFrame, effects: np.ndarray, *, seed: int, depth: int = 2
) -> dict[str, Any]:
    """Segments with mean effect and recommendation, plus the policy's expected gain.

    ``gain_vs_treat_all`` is the mean effect of treating only segments with a positive
    mean effect minus the mean effect of treating everyone, both per row.
    """
    min_leaf = max(1, len(effects) // 20)
    tree = DecisionTreeRegressor(max_depth=depth, min_samples_leaf=min_leaf, random_state=seed)
    tree.fit(covariates, effects)
    leaves = tree.apply(covariates)
    segments = []
    treat = np.zeros(len(effects), dtype=bool)
    for leaf, conditions in _paths(tree.tree_, list(covariates.columns)).items():
        mask = leaves == leaf
        mean_effect = float(effects[mask].mean())
        treat |= mask & (mean_effect > 0)
        segments.append(
            {
                "filter": " and ".join(conditions) or "all rows",
                "size": int(mask.sum()),
                "mean_effect": mean_effect,
                "treat": mean_effect > 0,
            }
        )
    return {
        "segments": segments,
        "surrogate_fidelity_r2": float(r2_score(effects, tree.predict(covariates))),
        "gain_vs_treat_all": float(np.where(treat, effects, 0).mean() - effects.mean()),
    }


def _paths(structure: Any, columns: list[str]) -> dict[int, list[str]]:
    paths: dict[int, list[str]] = {}
    stack: list[tuple[int, list[str]]] = [(0, [])]
    while stack:
        node, conditions = stack.pop()
        left, right = structure.children_left[node], structure.children_right[node]
        if left == right:
            paths[node] = conditions
            continue
        name = columns[structure.feature[node]]
        threshold = float(structure.threshold[node])
        stack.append((right, [*conditions, f"{name} > {threshold!r}"]))
        stack.append((left, [*conditions, f"{name} <= {threshold!r}"]))
    return paths
