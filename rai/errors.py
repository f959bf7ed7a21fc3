"""Exceptions raised by the Responsible-AI pipeline.

Every class subclasses :class:`monitor.errors.RaiwatchError` and the builtin callers
already catch, so ``except ValueError`` keeps working. Messages name the field or
column, the problem and the fix.
"""

from __future__ import annotations

from monitor.errors import RaiwatchError


class RaiError(RaiwatchError):
    """Base class of every error raised on purpose by :mod:`rai`."""


class RaiConfigError(RaiError, ValueError):
    """The RAI configuration (YAML or keyword arguments) is invalid."""


class RaiDataError(RaiError, ValueError):
    """Train or test data do not fit the configuration (missing column, NaN...)."""


class RaiModelError(RaiError, ValueError):
    """The model cannot be loaded or does not behave (``predict`` raises, wrong shape...)."""


class BundleError(RaiError, ValueError):
    """An insights bundle directory is missing, incomplete or of an unknown schema."""


__all__ = ["BundleError", "RaiConfigError", "RaiDataError", "RaiError", "RaiModelError"]
