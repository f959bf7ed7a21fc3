"""A seeded credit-scoring demo: train a pipeline, build its RAI bundle with gates.

``raiwatch demo`` calls :func:`build_demo_bundle` and prints the gate verdicts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from rai.pipeline import build_from_frames

PURPOSES = ("car", "education", "furniture", "business", "medical")


def make_credit_data(n_rows: int, *, seed: int = 0) -> pd.DataFrame:
    """Synthetic credit applications with a known default process.

    Default risk rises with ``debt_ratio`` and falls with ``income`` and
    ``credit_history_months``; ``purpose`` shifts it a little; ``sex`` has no direct
    effect but is correlated with income, so a model can still treat groups unequally.
    """
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=n_rows, p=[0.45, 0.55])
    age = rng.integers(19, 75, size=n_rows)
    income = np.round(
        rng.lognormal(10.4, 0.45, size=n_rows) * np.where(sex == "male", 1.12, 1.0), -2
    )
    debt_ratio = np.clip(rng.beta(2, 5, size=n_rows) + 0.1 * rng.normal(size=n_rows), 0.0, 1.0)
    history = np.clip((age - 18) * 12 * rng.uniform(0.2, 1.0, size=n_rows), 0, None).round()
    purpose = rng.choice(PURPOSES, size=n_rows, p=[0.3, 0.15, 0.2, 0.2, 0.15])
    purpose_shift = (
        pd.Series(purpose)
        .map({"car": 0.0, "education": 0.3, "furniture": -0.1, "business": 0.5, "medical": 0.2})
        .to_numpy()
    )
    logit = (
        -1.0
        + 4.0 * (debt_ratio - 0.3)
        - 1.5 * (np.log(income) - 10.4)
        - 0.004 * (history - 150)
        + purpose_shift
    )
    default = (rng.uniform(size=n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "age": age,
            "income": income,
            "debt_ratio": debt_ratio.round(4),
            "credit_history_months": history,
            "purpose": purpose,
            "sex": sex,
            "default": default,
        }
    )


def train_demo_model(train: pd.DataFrame, *, seed: int = 0) -> Pipeline:
    """One-hot encode ``purpose`` and ``sex``, then a seeded random forest."""
    encode = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore"), ["purpose", "sex"])],
        remainder="passthrough",
    )
    forest = RandomForestClassifier(
        n_estimators=60, max_depth=8, min_samples_leaf=5, random_state=seed, n_jobs=1
    )
    model = Pipeline([("encode", encode), ("forest", forest)])
    return model.fit(train.drop(columns="default"), train["default"])


DEMO_CONFIG = {
    "target": "default",
    "task": "binary",
    "categorical_features": ["purpose", "sex"],
    "sensitive_features": ["sex"],
    "treatment_features": ["debt_ratio"],
    "explanation": {"permutation_repeats": 5, "local_rows": 200},
    "error_analysis": {"max_depth": 3, "min_samples_leaf": 25},
    "causal": {"max_rows": 1500},
    "counterfactual": {
        "rows": [0, 1, 2, 3, 4, 5],
        "total_cfs": 4,
        "features_to_vary": ["income", "debt_ratio", "credit_history_months", "purpose"],
        "permitted_range": {"debt_ratio": [0.0, 1.0]},
        "time_limit_seconds": 20,
    },
    "fairness": {"min_group_size": 30, "bootstrap": 200},
    "gates": [
        {"metric": "accuracy", "min": 0.7},
        {"metric": "roc_auc", "min": 0.65},
        {"metric": "demographic_parity_difference", "sensitive_feature": "sex", "max": 0.1},
        {"metric": "equalized_odds_difference", "max": 0.15},
        {"metric": "counterfactual_validity", "min": 0.9},
    ],
}


def build_demo_bundle(out_dir: Path, *, seed: int = 0) -> Path:
    """Train the seeded demo credit model and write its RAI bundle under ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Directory of the bundle (manifest, component files, scorecard.html/pdf).
    seed : int
        Seeds data, model and every RAI component.

    Returns
    -------
    Path
        ``out_dir``; judge it with ``InsightsBundle.load(out_dir).gate_verdicts()``.
    """
    data = make_credit_data(2000, seed=seed)
    train, test = data.iloc[:1500].reset_index(drop=True), data.iloc[1500:].reset_index(drop=True)
    model = train_demo_model(train, seed=seed)
    build_from_frames(
        model,
        train,
        test,
        config={**DEMO_CONFIG, "seed": seed},
        out_dir=out_dir,
        model_reference=None,
        progress=False,
    )
    return Path(out_dir)
