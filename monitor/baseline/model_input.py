"""Turn stored (canonical) rows back into what the model was trained on.

The log store and the baseline sample keep booleans as ``"true"``/``"false"``
strings and datetimes as epoch seconds, so every column has one storage type.
A model trained on the original frame expects booleans and timestamps again;
feeding it the stored strings would silently change its predictions.
"""

from __future__ import annotations

import pandas as pd

from monitor.spec.model_version import ModelVersion

_BOOL = {"true": True, "false": False}


def to_model_input(mv: ModelVersion, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's feature columns of ``frame``, in the model's types."""
    out = pd.DataFrame(index=frame.index)
    for f in mv.features:
        col = frame[f.name]
        if f.type == "boolean":
            out[f.name] = col.map(lambda v: _BOOL.get(str(v).lower()) if v is not None else None)
        elif f.type == "datetime" and pd.api.types.is_numeric_dtype(col):
            out[f.name] = pd.to_datetime(col, unit="s", utc=True)
        else:
            out[f.name] = col
    return out
