"""Seeded data for the detection-quality study: no-change and shifted windows.

Each data set has numeric columns of four shapes (normal, heavy-tailed t with 3
degrees of freedom, skewed log-normal, discrete Poisson), categorical columns
with unequal shares and a boolean column; a prediction column is a categorical
of the model's classes. ``shift_numeric`` moves the mean of chosen numeric
columns by a number of their standard deviations; ``shift_categorical`` moves
share points between two categories.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CATEGORIES = ("a", "b", "c", "d")
SHARES = np.array([0.4, 0.3, 0.2, 0.1])
SHAPES = ("normal", "heavy", "skewed", "discrete")


def _numeric(rng: np.random.Generator, shape: str, n: int) -> np.ndarray:
    if shape == "normal":
        return rng.normal(size=n)
    if shape == "heavy":
        return rng.standard_t(3, size=n) / np.sqrt(3.0)  # unit variance
    if shape == "skewed":
        return (rng.lognormal(0.0, 0.75, size=n) - np.exp(0.28125)) / 0.86  # about unit variance
    return (rng.poisson(3.0, size=n) - 3.0) / np.sqrt(3.0)


def make_frame(
    rng: np.random.Generator,
    n: int,
    *,
    n_numeric: int = 20,
    n_categorical: int = 3,
    shift_numeric: dict[int, float] | None = None,
    shift_categorical: float = 0.0,
) -> pd.DataFrame:
    """``n`` rows; ``shift_numeric`` maps a numeric column index to a mean shift in σ."""
    cols: dict[str, object] = {}
    for i in range(n_numeric):
        values = _numeric(rng, SHAPES[i % len(SHAPES)], n)
        if shift_numeric and i in shift_numeric:
            values = values + shift_numeric[i]
        cols[f"x{i}"] = values
    for j in range(n_categorical):
        shares = SHARES.copy()
        if j == 0 and shift_categorical:
            shares[0] -= shift_categorical
            shares[1] += shift_categorical
        cols[f"c{j}"] = rng.choice(np.array(CATEGORIES), size=n, p=shares)
    cols["flag"] = rng.uniform(size=n) < 0.3
    cols["prediction"] = np.where(rng.uniform(size=n) < 0.25, "yes", "no")
    return pd.DataFrame(cols)


def model_version_doc(n_numeric: int = 20, n_categorical: int = 3) -> dict[str, object]:
    """The model version the study's frames are logged under."""
    features = [{"name": f"x{i}", "type": "numeric"} for i in range(n_numeric)]
    features += [{"name": f"c{j}", "type": "categorical"} for j in range(n_categorical)]
    features += [{"name": "flag", "type": "boolean"}]
    return {"name": "study", "version": "1", "task": "binary", "features": features, "prediction": "prediction", "classes": ["no", "yes"]}
