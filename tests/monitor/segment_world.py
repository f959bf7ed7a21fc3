"""A seeded world for the segment tests: 4 numeric features and a 10-valued region."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitor.spec.model_version import ModelVersion, parse_model_version

REGIONS = tuple(f"r{i}" for i in range(10))


def world_mv() -> ModelVersion:
    return parse_model_version({
        "name": "seg", "version": "1", "task": "binary", "prediction": None,
        "features": [{"name": f"x{i}", "type": "numeric"} for i in range(4)] + [{"name": "region", "type": "categorical"}],
    })  # fmt: skip


def world_rows(rng: np.random.Generator, n: int, *, shift: float = 0.0, region: str = "r3") -> pd.DataFrame:
    """Rows with every region at 10 % of traffic; ``x0`` moved by ``shift`` sd in ``region`` only."""
    frame = pd.DataFrame(rng.normal(size=(n, 4)), columns=[f"x{i}" for i in range(4)])
    frame["region"] = rng.choice(REGIONS, size=n)
    frame.loc[frame["region"] == region, "x0"] += shift
    return frame
