"""Small seeded data sets with known generating processes, and models fitted on them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder


def known_classification(n_rows: int = 600, *, seed: int = 0, n_classes: int = 2) -> pd.DataFrame:
    """``x_strong`` and ``colour`` drive the label; ``noise_*`` do not; ``sex`` is balanced."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x_strong": rng.normal(size=n_rows),
            "noise_a": rng.normal(size=n_rows),
            "noise_b": rng.uniform(size=n_rows),
            "colour": rng.choice(["red", "green", "blue"], size=n_rows),
            "sex": rng.choice(["f", "m"], size=n_rows),
        }
    )
    score = (
        2.0 * frame["x_strong"] + 1.5 * (frame["colour"] == "red") + 0.3 * rng.normal(size=n_rows)
    )
    if n_classes == 2:
        frame["label"] = (score > 0.5).astype(int)
    else:
        frame["label"] = pd.cut(score, [-np.inf, -0.5, 1.0, np.inf], labels=["a", "b", "c"]).astype(
            str
        )
    return frame


def known_regression(n_rows: int = 600, *, seed: int = 0) -> pd.DataFrame:
    """``y = 3 x_strong + 2 [colour == red] + noise``."""
    frame = known_classification(n_rows, seed=seed).drop(columns="label")
    rng = np.random.default_rng(seed + 1)
    frame["label"] = (
        3.0 * frame["x_strong"] + 2.0 * (frame["colour"] == "red") + 0.2 * rng.normal(size=n_rows)
    )
    return frame


def forest_pipeline(frame: pd.DataFrame, *, regression: bool = False, seed: int = 0) -> Pipeline:
    """One-hot the string columns, then a small seeded random forest."""
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["colour", "sex"])],
        remainder="passthrough",
    )
    forest_cls: Any = RandomForestRegressor if regression else RandomForestClassifier
    model = Pipeline(
        [("encode", encode), ("forest", forest_cls(n_estimators=30, random_state=seed))]
    )
    return model.fit(frame.drop(columns="label"), frame["label"])


def base_config(**overrides: Any) -> dict[str, Any]:
    """A fast binary config with every component; override per test."""
    config: dict[str, Any] = {
        "target": "label",
        "task": "binary",
        "categorical_features": ["colour", "sex"],
        "sensitive_features": ["sex"],
        "treatment_features": ["noise_a"],
        "explanation": {
            "permutation_repeats": 3,
            "local_rows": 20,
            "background_rows": 10,
            "max_evals": 60,
        },
        "causal": {"estimator": "linear", "subset_refits": 2},
        "counterfactual": {"rows": [0, 1], "total_cfs": 3, "time_limit_seconds": 30},
        "fairness": {"bootstrap": 50},
        "gates": [{"metric": "accuracy", "min": 0.7}],
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def binary_data() -> tuple[pd.DataFrame, pd.DataFrame, Pipeline]:
    """(train, test, fitted forest pipeline) for the known binary process."""
    frame = known_classification(800)
    train, test = frame.iloc[:600].reset_index(drop=True), frame.iloc[600:].reset_index(drop=True)
    return train, test, forest_pipeline(train)
