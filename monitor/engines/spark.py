"""The Spark engine: the same profile code, one partial profile per Spark partition.

Each partition is profiled where it lives by ``mapInArrow`` with the local
builder (:func:`monitor.profiles.dataset.build_chunk_profiles`) on the
partition's Arrow batches. A partition emits one small *partial*: the profile
document as versioned JSON plus its bottom-k reservoir as Parquet bytes (no
pickles). Partials are merged in a tree: ``groupBy(partition // fan_in)``
levels until at most ``fan_in`` partials are left, which the driver merges. The
driver therefore holds ``fan_in`` partials (columns × bins + the reservoir),
never raw rows, whatever the row count.

Counts, nulls, type errors, category counts and histogram bin counts equal the
local engine's exactly; moments (mean, variance) and bin sums are merged in a
different order and agree to float rounding (relative 1e-9). The reservoir is
bottom-k on row keys, so it is the same sample. Category counts stay exact
while a column has fewer than ``10 × top_k`` distinct values; beyond that both
engines fold the rarest categories into ``other``, and which ones they fold can
differ (the local engine prunes batch by batch, Spark partition by partition).

Timestamps. Spark reads microsecond and millisecond Parquet timestamps natively
(time-zone-naive ones as ``timestamp_ntz``), but nanosecond ones -- what pandas
writes -- only as epoch-nanosecond longs (``spark.sql.legacy.parquet.nanosAsLong``,
which raiwatch's sessions turn on; without it Spark refuses the file, and the engine
says how to fix that). For local files, directories and Delta tables the engine reads
the Parquet schema, so it casts every column back to the file's own type (unit and
time zone) and filters windows on the file's unit
(:mod:`monitor.ingest.time_filter`): both engines keep the same rows. For remote
paths (``s3a://``...) and tables it cannot tell nanosecond longs from integers, so a
time column or ``datetime`` feature Spark reads as ``bigint`` is refused with a clear
error: write such files with microsecond timestamps (``coerce_timestamps="us"``).

Delta tables are read without Delta's Spark jars: :mod:`monitor.ingest.delta`
resolves the current snapshot (its Parquet files and partition values) with
``deltalake``, and Spark reads exactly those files.

Requires ``pip install 'raiwatch[spark]'`` (PySpark ≥ 3.5) and Java 17; raiwatch
must be importable by the executors' Python (same package in the cluster image).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

from monitor.errors import DataError, EngineUnavailableError, RaiwatchError
from monitor.ingest.conform import missing_columns_error
from monitor.ingest.delta import delta_snapshot, is_delta_table
from monitor.ingest.time_filter import epoch_bound
from monitor.profiles.dataset import DatasetProfile, ProfilePlan, build_chunk_profiles
from monitor.spec.engine import SourceSpec, SparkSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

PARTIAL_FORMAT = "raiwatch.profile-partial"
PARTIAL_VERSION = 1
_PARTIAL_DDL = "chunk int, part long, rows long, doc string, sample binary"
_PARTIAL_ARROW = pa.schema(
    [("chunk", pa.int32()), ("part", pa.int64()), ("rows", pa.int64()),
     ("doc", pa.string()), ("sample", pa.binary())]
)  # fmt: skip
_COUNT_ARROW = pa.schema([("part", pa.int64()), ("rows", pa.int64())])


# --- the partial's wire format ------------------------------------------------------------


def encode_partial(profile: DatasetProfile) -> tuple[str, bytes | None]:
    """``(JSON document, reservoir Parquet bytes or None)`` of a partial profile."""
    doc = {"format": PARTIAL_FORMAT, "version": PARTIAL_VERSION, "profile": profile.to_document()}
    sample = profile.reservoir.to_parquet_bytes() if profile.reservoir.num_rows else None
    return json.dumps(doc, separators=(",", ":")), sample


def decode_partial(doc: str, sample: bytes | None) -> DatasetProfile:
    """The profile of :func:`encode_partial`; refuses other formats and versions."""
    data = json.loads(doc)
    if data.get("format") != PARTIAL_FORMAT or data.get("version") != PARTIAL_VERSION:
        raise DataError(
            f"partial profile format {data.get('format')!r} version {data.get('version')!r} is not "
            f"{PARTIAL_FORMAT!r} version {PARTIAL_VERSION}; run the same raiwatch on the driver "
            "and the executors"
        )
    return DatasetProfile.from_document(data["profile"], sample)


def merge_profiles(profiles: Sequence[DatasetProfile]) -> DatasetProfile:
    """Left-to-right merge (callers order the partials, so merges are deterministic)."""
    out = profiles[0]
    for p in profiles[1:]:
        out = out.merge(p)
    return out


# --- executor side ---------------------------------------------------------------------------


def _align(batch: pa.RecordBatch, schema: pa.Schema | None) -> pa.RecordBatch:
    """Spark hands timestamps as µs in the session zone and strings as its own types; cast
    back to the source file's Arrow types so conformed values and sampled rows match."""
    if schema is None:
        return batch
    arrays, fields = [], []
    for f, arr in zip(batch.schema, batch.columns, strict=True):
        target = schema.field(f.name).type if f.name in schema.names else f.type
        if arr.type != target:
            try:
                arr = arr.cast(target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                target = arr.type
        arrays.append(arr)
        fields.append(pa.field(f.name, target))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _partition_id() -> int:
    from pyspark import TaskContext

    ctx = TaskContext.get()
    return 0 if ctx is None else int(ctx.partitionId())


class _PartitionProfiler:
    """The ``mapInArrow`` function: profile one partition, yield its partials (one per chunk)."""

    def __init__(
        self,
        plan: ProfilePlan,
        schema: pa.Schema | None,
        what: str,
        bounds: Sequence[int] | None = None,
        offsets: dict[int, int] | None = None,
    ) -> None:
        self.plan, self.schema, self.what = plan, schema, what
        self.bounds, self.offsets = bounds, offsets

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        part = _partition_id()
        aligned = (_align(b, self.schema) for b in batches)
        local_bounds = None
        if self.bounds is not None:
            offset = (self.offsets or {}).get(part, 0)
            local_bounds = [b - offset for b in self.bounds]
        states = build_chunk_profiles(aligned, self.plan, local_bounds, threads=1, what=self.what)
        docs, samples = zip(*(encode_partial(s) for s in states), strict=True)
        yield pa.RecordBatch.from_arrays(
            [pa.array(range(len(states)), pa.int32()), pa.array([part] * len(states), pa.int64()),
             pa.array([s.row_count for s in states], pa.int64()), pa.array(docs, pa.string()),
             pa.array(samples, pa.binary())],
            schema=_PARTIAL_ARROW,
        )  # fmt: skip


def _count_rows(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    n = sum(b.num_rows for b in batches)
    yield pa.RecordBatch.from_arrays(
        [pa.array([_partition_id()], pa.int64()), pa.array([n], pa.int64())], schema=_COUNT_ARROW
    )


def _merge_group(frame: pd.DataFrame) -> pd.DataFrame:
    """One tree level: merge the partials of one ``(chunk, group)`` in partition order."""
    frame = frame.sort_values("part", kind="stable")
    merged = merge_profiles(
        [decode_partial(d, s) for d, s in zip(frame["doc"], frame["sample"], strict=True)]
    )
    doc, sample = encode_partial(merged)
    return pd.DataFrame(
        {"chunk": [int(frame["chunk"].iloc[0])], "part": [int(frame["grp"].iloc[0])],
         "rows": [merged.row_count], "doc": [doc], "sample": [sample]}
    )  # fmt: skip


# --- the session --------------------------------------------------------------------------------


def _package_root() -> str:
    import monitor

    return str(Path(monitor.__file__).resolve().parent.parent)


def spark_session(settings: SparkSettings | None = None) -> SparkSession:
    """A Spark session for ``settings`` (created, or the active one reused).

    ``local[N]`` masters run on 127.0.0.1 only, with the UI off and executors using
    this interpreter and this raiwatch; other masters get ``settings.conf`` as given.
    """
    settings = settings or SparkSettings()
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise EngineUnavailableError(
            "the Spark engine needs PySpark: pip install 'raiwatch[spark]' (PySpark >= 3.5)"
        ) from err
    local = settings.master.startswith("local")
    if local and not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise EngineUnavailableError(
            "the Spark engine needs Java 17 to start a local Spark: install a JDK 17 "
            "(e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )
    conf: dict[str, str] = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # pandas writes nanosecond timestamps, which Spark only reads as epoch-ns longs;
        # the engine casts them back to the file's type (``_align``) and filters on ns.
        "spark.sql.legacy.parquet.nanosAsLong": "true",
    }
    if local:
        root = _package_root()
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        paths = [root, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
        os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        conf |= {
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.pyspark.python": sys.executable,
            "spark.executorEnv.PYTHONPATH": os.environ["PYTHONPATH"],
        }
    builder = SparkSession.builder.master(settings.master).appName(settings.app_name)
    for key, value in (conf | dict(settings.conf)).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as err:  # py4j / PySpark start-up errors carry no common base class
        raise EngineUnavailableError(
            f"cannot start Spark with master {settings.master!r}: {err}. Check Java 17 and the master URL"
        ) from err


# --- the engine -----------------------------------------------------------------------------------


_RAISED = re.compile(r"monitor\.errors\.(\w+): (.*)")


def _unwrapped(err: Exception) -> Exception:
    """The raiwatch error (DataError...) an executor raised, else ``err`` itself."""
    import monitor.errors

    found = _RAISED.findall(str(err))
    if found:
        cls = getattr(monitor.errors, found[-1][0], None)
        if isinstance(cls, type) and issubclass(cls, RaiwatchError):
            return cls(found[-1][1].strip())
    return err


def _looks_like_path(text: str) -> bool:
    return "/" in text or "://" in text or text.endswith((".parquet", ".pq")) or Path(text).exists()


class SparkEngine:
    """Profile a Parquet/Delta path, a table or a Spark DataFrame on Spark.

    Parameters
    ----------
    session
        The Spark session; default: :func:`spark_session` of ``settings``.
    settings
        Master, configuration and the merge tree's ``merge_fan_in``.
    """

    name = "spark"

    def __init__(
        self, session: SparkSession | None = None, *, settings: SparkSettings | None = None
    ) -> None:
        self.settings = settings or SparkSettings()
        self.session = session if session is not None else spark_session(self.settings)

    # sources -------------------------------------------------------------------------------
    def read(
        self,
        source: Any,
        *,
        columns: Sequence[str] | None = None,
        start: Any = None,
        end: Any = None,
        time_column: str | None = None,
    ) -> DataFrame:
        """A DataFrame of ``source`` (projected, and time-filtered when ``start``/``end`` are given)."""
        from pyspark.sql import DataFrame

        if isinstance(source, DataFrame):
            df = source
        elif isinstance(source, SourceSpec):
            if source.table is not None:
                df = self.session.table(source.table)
            elif source.format == "delta" or is_delta_table(str(source.path)):
                df = self._read_delta(str(source.path))
            else:
                df = self._read_parquet(str(source.path))
            time_column = time_column or source.time_column
        elif isinstance(source, pd.DataFrame | pa.Table):
            table = (
                source
                if isinstance(source, pa.Table)
                else pa.Table.from_pandas(source, preserve_index=False)
            )
            df = self.session.createDataFrame(table.to_pandas())
        elif isinstance(source, str | Path):
            text = str(source)
            if _looks_like_path(text):
                if Path(text).suffix.lower() in (".csv", ".jsonl", ".ndjson", ".json"):
                    raise DataError(
                        f"the Spark engine reads Parquet or Delta, not {Path(text).suffix!r} ({text!r}); "
                        "convert the file to Parquet or use --engine local"
                    )
                df = self._read_delta(text) if is_delta_table(text) else self._read_parquet(text)
            else:
                df = self.session.table(text)
        else:
            raise DataError(
                f"the Spark engine cannot read a {type(source).__name__}; give a Parquet/Delta path, "
                "a table name, a `source:` block or a Spark DataFrame"
            )
        if start is not None or end is not None:
            if time_column is None or time_column not in df.columns:
                raise DataError(
                    f"cannot select the window: time column {time_column!r} is not in the source "
                    f"(columns: {sorted(df.columns)}); set source.time_column"
                )
            df = self._in_window(df, self._arrow_schema(source), time_column, start, end)
        if columns is not None:
            df = df.select(*[c for c in dict.fromkeys(columns) if c in df.columns])
        return df

    def _read_parquet(self, path: str) -> DataFrame:
        try:
            return self.session.read.parquet(path)
        except Exception as err:  # AnalysisException; pyspark's error classes vary by version
            if "TIMESTAMP(NANOS" in str(err):
                raise DataError(
                    f"Spark cannot read the nanosecond timestamps in {path!r} with this session "
                    "(spark.sql.legacy.parquet.nanosAsLong is off). Set "
                    "spark.sql.legacy.parquet.nanosAsLong=true (raiwatch's own Spark sessions do; "
                    "the engine then casts them back), or write the file with microsecond "
                    'timestamps (pyarrow: coerce_timestamps="us")'
                ) from err
            raise

    def _read_delta(self, path: str) -> DataFrame:
        """The current snapshot of a Delta table: its Parquet files, partition values added."""
        from functools import reduce

        from pyspark.sql import DataFrame
        from pyspark.sql import functions as F
        from pyspark.sql.pandas.types import from_arrow_schema

        snap = delta_snapshot(path)
        full = from_arrow_schema(snap.schema, prefer_timestamp_ntz=True)
        if not snap.files:
            return self.session.createDataFrame([], full)
        parts = snap.partition_columns
        data = from_arrow_schema(
            pa.schema([f for f in snap.schema if f.name not in parts]), prefer_timestamp_ntz=True
        )
        groups: dict[tuple[Any, ...], list[str]] = {}
        for f in snap.files:
            groups.setdefault(tuple(f.partition_values.get(c) for c in parts), []).append(f.uri)
        frames = []
        for key, uris in groups.items():
            df = self.session.read.schema(data).parquet(*uris)
            for c, value in zip(parts, key, strict=True):
                df = df.withColumn(c, F.lit(value).cast(full[c].dataType))
            frames.append(df.select(*snap.schema.names))
        return reduce(DataFrame.unionByName, frames)

    def _in_window(
        self, df: DataFrame, schema: pa.Schema | None, time_column: str, start: Any, end: Any
    ) -> DataFrame:
        """Rows with ``start <= time_column < end``, compared as integers in the file's unit."""
        from pyspark.sql import functions as F

        spark_type = dict(df.dtypes)[time_column]
        arrow_type = (
            schema.field(time_column).type
            if schema is not None and time_column in schema.names
            else None
        )
        col = F.col(time_column)
        if spark_type == "bigint":  # nanosecond timestamps, read as epoch-ns longs
            if arrow_type is None:
                raise DataError(
                    f"cannot select the window: Spark reads time column {time_column!r} as bigint, "
                    "which is either nanosecond Parquet timestamps or plain integers, and raiwatch "
                    "cannot read this source's Parquet schema to tell; write the timestamps with "
                    'microseconds (pyarrow: coerce_timestamps="us") or give a local path'
                )
            if not pa.types.is_timestamp(arrow_type):
                raise DataError(
                    f"cannot select the window: time column {time_column!r} has type "
                    f"{arrow_type}, not a timestamp; store it as a timestamp or choose another "
                    "time_column"
                )
            unit, value = arrow_type.unit, col
        elif spark_type in ("timestamp", "timestamp_ntz"):
            # naive times are UTC wall-clock times on both engines, whatever the session zone
            unit = "us"
            quoted = time_column.replace("`", "``")
            value = (
                F.expr(
                    f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', `{quoted}`)"
                )
                if spark_type == "timestamp_ntz"
                else F.unix_micros(col)
            )
        else:
            raise DataError(
                f"cannot select the window: time column {time_column!r} has Spark type "
                f"{spark_type}, not a timestamp; store it as a timestamp or choose another time_column"
            )
        if start is not None:
            df = df.where(value >= F.lit(epoch_bound(start, unit)))
        if end is not None:
            df = df.where(value < F.lit(epoch_bound(end, unit)))
        return df

    def _arrow_schema(self, source: Any) -> pa.Schema | None:
        """The source's own Arrow schema (local Parquet or Delta), or None when it cannot be read."""
        if isinstance(source, SourceSpec):
            if source.table is not None:
                return None
            if source.format == "delta":
                return delta_snapshot(str(source.path)).schema
            source = source.path
        if isinstance(source, str | Path) and is_delta_table(str(source)):
            return delta_snapshot(str(source)).schema
        path = source
        if isinstance(path, str | Path) and Path(path).exists():
            return pads.dataset(str(path), format="parquet").schema
        if isinstance(source, pa.Table):
            return source.schema
        if isinstance(source, pd.DataFrame):
            return pa.Schema.from_pandas(source, preserve_index=False)
        return None

    def columns(self, source: Any) -> list[str]:
        return list(self.read(source).columns)

    def describe(self, source: Any) -> dict[str, Any]:
        where = (
            source.model_dump()
            if isinstance(source, SourceSpec)
            else (str(source) if isinstance(source, str | Path) else type(source).__name__)
        )
        return {"kind": "spark", "source": where, "master": self.session.sparkContext.master}

    # profiles --------------------------------------------------------------------------------
    def _merge(self, partials: DataFrame, n_parts: int, n_chunks: int) -> list[DatasetProfile]:
        from pyspark.sql import functions as F

        fan_in = self.settings.merge_fan_in
        width = max(1, n_parts)
        while width > fan_in:
            partials = (
                partials.withColumn("grp", F.floor(F.col("part") / fan_in).cast("long"))
                .groupBy("chunk", "grp")
                .applyInPandas(_merge_group, _PARTIAL_DDL)
            )
            width = math.ceil(width / fan_in)
        try:
            collected = partials.collect()
        except Exception as err:  # an error raised on purpose in an executor comes back wrapped
            raise _unwrapped(err) from err
        rows = sorted(collected, key=lambda r: (r["chunk"], r["part"]))
        out: list[DatasetProfile] = []
        for chunk in range(n_chunks):
            mine = [decode_partial(r["doc"], r["sample"]) for r in rows if r["chunk"] == chunk]
            out.append(merge_profiles(mine))
        return out

    def _check_columns(self, source: Any, df: DataFrame, plan: ProfilePlan, what: str) -> None:
        missing = [c.spec.name for c in plan.columns if c.spec.name not in df.columns]
        if missing:  # the same message as the local engine, naming every column of the source
            raise missing_columns_error(what, missing, self.columns(source))
        # a Parquet path whose schema cannot be read here (remote): a datetime feature Spark
        # reads as bigint may be nanosecond timestamps, which would be profiled as epoch seconds
        remote = (isinstance(source, str | Path) and _looks_like_path(str(source))) or (
            isinstance(source, SourceSpec) and source.path is not None
        )
        if remote and self._arrow_schema(source) is None:
            types = dict(df.dtypes)
            longs = [
                c.spec.name
                for c in plan.columns
                if c.spec.type == "datetime" and types.get(c.spec.name) == "bigint"
            ]
            if longs:
                raise DataError(
                    f"{what}: Spark reads the datetime column(s) {longs} as bigint, which is either "
                    "nanosecond Parquet timestamps or plain integers, and raiwatch cannot read the "
                    f"Parquet schema of {str(getattr(source, 'path', source))!r} to tell; write the "
                    'timestamps with microseconds (pyarrow: coerce_timestamps="us")'
                )

    def _partials(self, df: DataFrame, profiler: _PartitionProfiler) -> DataFrame:
        return df.mapInArrow(profiler, _PARTIAL_DDL)

    def profile(
        self,
        source: Any,
        plan: ProfilePlan,
        *,
        columns: Sequence[str] | None = None,
        what: str = "input",
        start: Any = None,
        end: Any = None,
        time_column: str | None = None,
    ) -> DatasetProfile:
        """The profile of ``source`` (rows with ``start <= time_column < end`` when given)."""
        df = self.read(source, columns=columns, start=start, end=end, time_column=time_column)
        self._check_columns(source, df, plan, what)
        profiler = _PartitionProfiler(plan, self._arrow_schema(source), what)
        n_parts = df.rdd.getNumPartitions()
        if n_parts == 0:  # an empty source read as no partitions at all
            return build_chunk_profiles([], plan, None)[0]
        return self._merge(self._partials(df, profiler), n_parts, 1)[0]

    def chunk_profiles(
        self,
        source: Any,
        plan: ProfilePlan,
        bounds: Sequence[int],
        *,
        columns: Sequence[str] | None = None,
        what: str = "input",
    ) -> list[DatasetProfile]:
        """Profiles of the row ranges ``[bounds[i], bounds[i+1])`` in Spark's read order.

        A first, light pass counts the rows of every partition so each partition knows
        the global position of its first row.
        """
        df = self.read(source, columns=columns)
        self._check_columns(source, df, plan, what)
        n_parts = df.rdd.getNumPartitions()
        n_chunks = len(bounds) - 1
        if n_parts == 0:
            return build_chunk_profiles([], plan, list(bounds))
        counts = df.select(df.columns[0]).mapInArrow(_count_rows, "part long, rows long").collect()
        offsets, pos = {}, 0
        for r in sorted(counts, key=lambda r: r["part"]):
            offsets[int(r["part"])] = pos
            pos += int(r["rows"])
        profiler = _PartitionProfiler(plan, self._arrow_schema(source), what, list(bounds), offsets)
        return self._merge(self._partials(df, profiler), n_parts, n_chunks)

    def labelled_frame(
        self,
        source: Any,
        id_column: str,
        ids: Sequence[str],
        columns: Sequence[str],
        *,
        start: Any = None,
        end: Any = None,
        time_column: str | None = None,
    ) -> pd.DataFrame:
        """The rows of ``source`` whose ``id_column`` is in ``ids``, only ``columns``.

        The join runs on Spark (the ids are broadcast), so what reaches the driver is
        bounded by the number of labels, not by the window.
        """
        from pyspark.sql import functions as F

        df = self.read(source, start=start, end=end, time_column=time_column)
        present = [c for c in dict.fromkeys(columns) if c in df.columns]
        if id_column not in df.columns or not len(ids):
            return pd.DataFrame(columns=present)
        wanted = self.session.createDataFrame(
            pd.DataFrame({"_raiwatch_id": pd.Series(list(ids), dtype=object).astype(str)})
        )
        hit = df.join(
            F.broadcast(wanted),
            F.col(id_column).cast("string") == F.col("_raiwatch_id"),
            "left_semi",
        ).select(*present)
        table = pa.Table.from_pandas(hit.toPandas(), preserve_index=False)
        schema = self._arrow_schema(source)
        aligned = [_align(b, schema) for b in table.to_batches()]
        if not aligned:
            return table.to_pandas()
        return pa.Table.from_batches(aligned).to_pandas()


__all__ = [
    "PARTIAL_FORMAT",
    "PARTIAL_VERSION",
    "SparkEngine",
    "decode_partial",
    "encode_partial",
    "merge_profiles",
    "spark_session",
]
