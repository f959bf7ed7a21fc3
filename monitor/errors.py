"""The exception tree of raiwatch.

Every error subclasses :class:`RaiwatchError` and also the builtin that callers
already catch (``ValueError``, ``FileNotFoundError``...), so ``except ValueError``
keeps working. Messages name the input, the problem and the fix.
"""

from __future__ import annotations


class RaiwatchError(Exception):
    """Base class of every error raised on purpose by raiwatch."""


class SchemaError(RaiwatchError, ValueError):
    """A model-version or monitor declaration is invalid."""


class DataError(RaiwatchError, ValueError):
    """Input data does not fit the declared schema (missing columns, wrong types...)."""


class CorruptFileError(RaiwatchError, ValueError):
    """A CSV / Parquet / JSONL file cannot be read (truncated, corrupt or not that format)."""


class NotFoundError(RaiwatchError, LookupError):
    """A model version, baseline, monitor or run does not exist."""


class ConflictError(RaiwatchError, ValueError):
    """An object already exists with a different definition."""


class NotFittedError(RaiwatchError, ValueError, AttributeError):
    """An estimator-like object was used before ``fit``."""
