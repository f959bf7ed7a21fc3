"""Where profiles are computed: ``local`` (Arrow batches, threads) or ``spark``.

Both engines run the same profile code (:mod:`monitor.profiles`) and return the
same :class:`~monitor.profiles.dataset.DatasetProfile`; signals never know which
engine ran. ``spark`` needs the optional extra ``raiwatch[spark]`` and Java 17,
and is imported only when it is asked for.
"""

from __future__ import annotations

from typing import Literal

from monitor.engines.local import LocalEngine, ProfileEngine

EngineName = Literal["local", "spark"]
ENGINES: tuple[EngineName, ...] = ("local", "spark")

__all__ = ["ENGINES", "EngineName", "LocalEngine", "ProfileEngine"]
