"""A seeded credit-scoring world for the demo: training data, a model and daily traffic.

Drift is injected from a known day in known features: applicants' ``income``
falls by 35 % and ``purpose`` shifts towards ``business``; everything else keeps
its distribution. Earlier, a drift that only segments show: 40 % of retirees
(12 % of applicants) now apply for a ``home`` loan while as many employed applicants
turn to other purposes, so the mix over all applicants stays the same. The model and labels
come from the same generating process.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

FEATURES = {
    "age": "numeric",
    "income": "numeric",
    "debt_ratio": "numeric",
    "credit_history_months": "numeric",
    "open_accounts": "numeric",
    "purpose": "categorical",
    "employment": "categorical",
    "has_guarantor": "boolean",
    "sex": "categorical",
}
DRIFTED = ("income", "purpose")
PURPOSES = ["car", "home", "education", "business", "other"]


SEGMENT = ("employment", "retired")  # where the segment-only drift happens


def applicants(
    n: int, rng: np.random.Generator, *, drifted: bool = False, segment_drift: bool = False
) -> pd.DataFrame:
    """``n`` synthetic applicants; ``drifted`` applies the demo's data drift,
    ``segment_drift`` the drift confined to retirees."""
    income = rng.lognormal(mean=10.8, sigma=0.45, size=n)
    p_purpose = [0.3, 0.25, 0.15, 0.1, 0.2]
    if drifted:
        income = income * 0.65
        p_purpose = [0.15, 0.15, 0.1, 0.45, 0.15]
    frame = pd.DataFrame(
        {
            "age": rng.integers(19, 75, size=n).astype(float),
            "income": income.round(0),
            "debt_ratio": rng.beta(2, 5, size=n).round(4),
            "credit_history_months": rng.gamma(4.0, 24.0, size=n).round(0),
            "open_accounts": rng.poisson(4, size=n).astype(float),
            "purpose": rng.choice(PURPOSES, size=n, p=p_purpose),
            "employment": rng.choice(
                ["employed", "self-employed", "unemployed", "retired"],
                size=n,
                p=[0.65, 0.15, 0.08, 0.12],
            ),
            "has_guarantor": rng.random(n) < 0.2,
            "sex": rng.choice(["female", "male"], size=n, p=[0.48, 0.52]),
        }
    )
    if segment_drift:
        _segment_drift(frame, p_purpose)
    return frame


def _segment_drift(frame: pd.DataFrame, p_purpose: list[float]) -> None:
    """40 % of retirees now ask for a home loan, and as many employed applicants fewer: each
    segment moved, the mix of purposes over all applicants did not (in expectation).

    Uses its own generator seeded from the rows, so the main stream is that of other days.
    """
    rng = np.random.default_rng(int(frame["income"].sum()) % 2**32)
    n, home = len(frame), PURPOSES.index("home")
    retired = (frame[SEGMENT[0]] == SEGMENT[1]).to_numpy()
    gained = 0.4 * (1 - p_purpose[home]) * retired.mean()  # share of all rows turned to home
    home_seekers = (frame["purpose"] == "home").to_numpy()
    employed = (frame[SEGMENT[0]] == "employed").to_numpy() & home_seekers
    give_back = gained / max(employed.mean(), 1e-9)  # the employed home-seekers that turn away
    others = [c for c in PURPOSES if c != "home"]
    weights = np.array([p_purpose[PURPOSES.index(c)] for c in others])
    away = employed & (rng.random(n) < give_back)
    frame.loc[away, "purpose"] = rng.choice(others, size=int(away.sum()), p=weights / weights.sum())
    frame.loc[retired & (rng.random(n) < 0.4), "purpose"] = "home"


def default_probability(
    x: pd.DataFrame, *, concept_shift: bool = False, business_risk: float = 0.3
) -> np.ndarray:
    """The true probability of default; ``concept_shift`` changes the relation, not the inputs.

    ``business_risk`` is the log-odds added for business loans (the demo's lifecycle
    episode raises it: the new business-loan customers default more than the model learned).
    """
    z = (
        -1.2
        - 1.1 * (np.log(x["income"]) - 10.8)
        + 3.0 * (x["debt_ratio"] - 0.28)
        - 0.008 * (x["credit_history_months"] - 96)
        - 0.02 * (x["age"] - 45)
        + 0.6 * (x["employment"] == "unemployed")
        + business_risk * (x["purpose"] == "business")
        - 0.5 * x["has_guarantor"]
    )
    if concept_shift:
        z = -z - 2.0
    return 1.0 / (1.0 + np.exp(-z.to_numpy(dtype=float)))


def labels_for(
    x: pd.DataFrame, rng: np.random.Generator, *, concept_shift: bool = False, business_risk: float = 0.3
) -> np.ndarray:
    p = default_probability(x, concept_shift=concept_shift, business_risk=business_risk)
    return (rng.random(len(x)) < p).astype(int)


def train_model(train: pd.DataFrame, y: np.ndarray, seed: int) -> Pipeline:
    cats = [c for c, t in FEATURES.items() if t in ("categorical", "boolean")]
    nums = [c for c, t in FEATURES.items() if t == "numeric"]
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), cats), ("num", "passthrough", nums)]
    )
    model = Pipeline(
        [("pre", pre), ("clf", HistGradientBoostingClassifier(max_iter=150, random_state=seed))]
    )
    model.fit(train[list(FEATURES)], y)
    return model
