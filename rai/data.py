"""Read train/test data from a DataFrame, CSV or Parquet and fingerprint it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from rai.errors import RaiDataError


def load_frame(source: pd.DataFrame | str | Path, *, name: str) -> pd.DataFrame:
    """Return ``source`` as a DataFrame, reading ``.csv`` or ``.parquet`` paths.

    Parameters
    ----------
    source : DataFrame, str or Path
        The data itself or a path to a CSV or Parquet file.
    name : str
        Role of the data (``"train"``, ``"test"``), used in error messages.
    """
    if isinstance(source, pd.DataFrame):
        return source
    path = Path(source)
    if not path.is_file():
        raise RaiDataError(f"{name} data file {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except Exception as exc:
        raise RaiDataError(f"{name} data file {str(path)!r} could not be read: {exc}") from exc
    raise RaiDataError(
        f"{name} data file {str(path)!r} has suffix {suffix!r}; use .csv or .parquet."
    )


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 over column names, dtypes and row hashes (index included).

    >>> a = pd.DataFrame({"x": [1, 2]})
    >>> frame_fingerprint(a) == frame_fingerprint(a.copy())
    True
    """
    digest = hashlib.sha256()
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()
