"""Which engine profiles a monitor's windows, and the Spark settings when it is Spark.

In a monitor YAML::

    engine: spark
    spark:
      master: spark://spark-master:7077     # or local[4], yarn, k8s://...
      conf: {spark.executor.memory: 4g, spark.sql.files.maxPartitionBytes: 256m}
    source:
      path: s3a://lake/inference/credit/    # Parquet or Delta (format: delta); or `table:`
      time_column: timestamp                # rows with start <= time < end form the window

Without ``source`` a monitor reads raiwatch's own Parquet log store. The local
engine takes a ``source`` too, when it is a local path (a Parquet/CSV/JSONL file
or a Delta table directory); tables and remote paths need ``engine: spark``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SparkSettings(BaseModel):
    """How to reach (or start) the Spark session that profiles the data.

    ``master`` ``local[N]`` starts Spark in this process, bound to 127.0.0.1 with
    the UI off; any other master is used as given, with ``conf`` on top.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    master: str = "local[2]"
    app_name: str = "raiwatch"
    conf: dict[str, str] = Field(default_factory=dict)
    merge_fan_in: int = Field(default=16, ge=2, le=1024)


class SourceSpec(BaseModel):
    """Where a monitor's windows live: a Parquet/Delta path or (Spark) a table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = None
    table: str | None = None
    format: Literal["parquet", "delta"] = "parquet"
    time_column: str | None = None

    @model_validator(mode="after")
    def _one_place(self) -> SourceSpec:
        if (self.path is None) == (self.table is None):
            raise ValueError("source: give exactly one of 'path' (Parquet/Delta) or 'table'")
        return self


__all__ = ["SourceSpec", "SparkSettings"]
