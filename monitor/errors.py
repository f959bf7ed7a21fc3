"""The exception tree of raiwatch.

Every error subclasses :class:`RaiwatchError` and also the builtin that callers
already catch (``ValueError``, ``FileNotFoundError``...), so ``except ValueError``
keeps working. Messages name the input, the problem and the fix.
"""

from __future__ import annotations

from typing import Any

from monitor.redaction import redact


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


class EngineUnavailableError(RaiwatchError, RuntimeError):
    """A profile engine cannot run here (PySpark not installed, no Java...)."""


def format_validation_error(what: str, source: str, err: Any) -> str:
    """One readable message for a pydantic ``ValidationError``: field, bad value, fix.

    Values of fields named like secrets (and ``SecretStr`` values) are never shown.
    """
    lines = [f"invalid {what} in {source}:"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        bad = e.get("input")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "literal_error":
            fix = f"use one of {msg.split('Input should be ')[-1]}"
            lines.append(f"  - {loc}: got {bad!r}; {fix}")
        elif e["type"] == "missing":
            lines.append(f"  - {loc}: required field is missing; add it")
        elif e["type"] == "extra_forbidden":
            lines.append(f"  - {loc}: unknown field; remove it (check its spelling)")
        else:
            hidden = (
                isinstance(bad, dict | list | tuple)
                or "secret" in loc
                or type(bad).__name__ == "SecretStr"
            )
            shown = "" if hidden else f" got {bad!r};"
            lines.append(f"  - {loc}:{shown} {msg}")
    return redact("\n".join(lines))
