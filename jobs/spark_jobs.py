"""What the command line and the service need to run profiles on Spark.

The Spark engine itself lives in :mod:`monitor.engines.spark`; this module turns
command-line options and monitor declarations into an engine and a source.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.errors import SchemaError
from monitor.spec.engine import SourceSpec, SparkSettings
from monitor.spec.model_version import ModelVersion

if TYPE_CHECKING:
    from monitor.engines.spark import SparkEngine

ENGINE_HELP = "where profiles are built: local (this process) or spark (needs raiwatch[spark])"


def check_engine(engine: str) -> str:
    if engine not in ("local", "spark"):
        raise SchemaError(f"--engine must be 'local' or 'spark', got {engine!r}")
    return engine


def parse_spark_conf(pairs: Sequence[str]) -> dict[str, str]:
    """``["spark.executor.memory=4g", ...]`` → a dict; each item must be ``key=value``."""
    conf: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SchemaError(
                f"--spark-conf {pair!r} is not key=value; write e.g. --spark-conf spark.executor.memory=4g"
            )
        conf[key.strip()] = value.strip()
    return conf


def spark_settings(
    master: str | None, conf: Sequence[str], base: SparkSettings | None = None
) -> SparkSettings:
    base = base or SparkSettings()
    update: dict[str, object] = {"conf": {**base.conf, **parse_spark_conf(conf)}}
    if master:
        update["master"] = master
    return base.model_copy(update=update)


def spark_engine(settings: SparkSettings) -> SparkEngine:
    """The Spark engine (a clear error when PySpark or Java is missing)."""
    from monitor.engines.spark import SparkEngine

    return SparkEngine(settings=settings)


def log_store_source(log_dir: Path, mv: ModelVersion) -> SourceSpec:
    """raiwatch's own Parquet log store for ``mv``, read by Spark and filtered on its timestamp."""
    path = Path(log_dir) / f"model={mv.name}" / f"version={mv.version}"
    if not path.is_dir():
        raise SchemaError(
            f"no inference logs for {mv.name}:{mv.version} under {str(path)!r}; ingest logs first "
            "or give the monitor a `source:`"
        )
    return SourceSpec(path=str(path), time_column=mv.timestamp_column)
