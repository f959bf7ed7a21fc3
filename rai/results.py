"""The result of one RAI component: a JSON summary plus named tables.

A component never returns pickled objects: ``summary`` holds JSON-ready scalars,
lists and dicts; ``tables`` holds DataFrames stored as Parquet in the bundle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

Status = Literal["ok", "warning", "failed", "skipped"]


@dataclass
class ComponentResult:
    """Outcome of one component.

    Parameters
    ----------
    name : str
        Component name (``"fairness"``, ...).
    status : {"ok", "warning", "failed", "skipped"}
        ``failed`` keeps ``error``; the other components still run. ``warning`` means the
        figures were computed but ``summary["warnings"]`` says why to read them with care.
    summary : dict
        JSON-ready figures.
    tables : dict of str to DataFrame
        Row-level figures, stored as Parquet.
    error : str or None
        ``"ExceptionType: message"`` when failed.
    seconds : float
        Wall-clock time of the component (stored in the manifest, not compared).
    """

    name: str
    status: Status = "ok"
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the component finished without error (warnings included)."""
        return self.status in ("ok", "warning")


def to_jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays, tuples and non-finite floats into plain JSON data.

    NaN and infinities become ``None`` so the JSON stays standard.

    >>> to_jsonable({"a": np.float64(1.5), "b": (np.int64(2), float("nan"))})
    {'a': 1.5, 'b': [2, None]}
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return value
