"""A mergeable, deterministic reservoir sample of rows (bottom-k sampling).

Every row gets a 64-bit key from a seeded hash of its content (or of its
request id). The sample keeps the ``k`` rows with the smallest keys. Because
keys depend only on the row, the sample of ``A ∪ B`` equals the merge of the
samples of ``A`` and ``B`` exactly, in any order and any partitioning::

    >>> import pyarrow as pa
    >>> t = pa.table({"x": [float(i) for i in range(100)]})
    >>> a = Reservoir(k=10, seed=1).update(t.slice(0, 50))
    >>> b = Reservoir(k=10, seed=1).update(t.slice(50))
    >>> whole = Reservoir(k=10, seed=1).update(t)
    >>> a.merge(b).table.equals(whole.table)
    True

Rows that are exact duplicates share a key, so they are sampled together; with
a request-id column (unique per row) this never happens.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

KEY_COLUMN = "_raiwatch_key"
_MULT = np.uint64(0x9E3779B97F4A7C15)


def _mix(h: np.ndarray) -> np.ndarray:
    # splitmix64 finaliser: spreads the combined column hashes over 64 bits.
    h = h.copy()
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def _column_hash(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A deterministic uint64 per value (nulls hash to a constant)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type) or pa.types.is_boolean(col.type):
        if not pa.types.is_float64(col.type):
            col = col.cast(pa.float64())
        arr = col.to_numpy(zero_copy_only=False)  # nulls become NaN
        bits = (arr + 0.0).view(np.uint64)  # + 0.0 maps -0.0 to 0.0
        if col.null_count or np.isnan(arr).any():
            bits[np.isnan(arr)] = np.uint64(0x7FF8000000000000)
        return bits
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col.cast(pa.string()) if not pa.types.is_string(col.type) else col)
    uniques = col.dictionary.to_numpy(zero_copy_only=False).astype(object)
    dict_hash = pd.util.hash_array(uniques) if len(uniques) else np.zeros(1, dtype=np.uint64)
    idx = col.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    out = dict_hash[idx]
    if col.null_count:
        out[col.is_null().to_numpy(zero_copy_only=False)] = np.uint64(0x5BD1E995)
    return out


def row_keys(table: pa.Table | pa.RecordBatch, columns: Sequence[str], seed: int) -> np.ndarray:
    """A deterministic uint64 key per row from the given columns and ``seed``."""
    with np.errstate(over="ignore"):  # the hashes wrap around 2**64 on purpose
        h = np.full(table.num_rows, np.uint64(seed) * _MULT + np.uint64(1), dtype=np.uint64)
        for name in columns:
            h = (h ^ _column_hash(table.column(name))) * _MULT
            h ^= h >> np.uint64(29)
    return _mix(h)


class Reservoir:
    """Bottom-k sample of rows. ``update`` and ``merge`` return ``self`` / a new sample."""

    def __init__(self, k: int, seed: int = 0, key_columns: Sequence[str] | None = None) -> None:
        if k < 0:
            raise ValueError(f"reservoir size k must be >= 0, got {k}")
        self.k = k
        self.seed = seed
        self.key_columns = list(key_columns) if key_columns is not None else None
        self.table: pa.Table | None = None  # includes KEY_COLUMN, sorted by key

    @property
    def num_rows(self) -> int:
        return 0 if self.table is None else self.table.num_rows

    def _threshold(self) -> np.uint64 | None:
        if self.table is None or self.table.num_rows < self.k:
            return None
        return np.uint64(self.table.column(KEY_COLUMN)[-1].as_py())

    def update(self, batch: pa.Table | pa.RecordBatch) -> Reservoir:
        if self.k == 0 or batch.num_rows == 0:
            return self
        names = batch.schema.names
        # The id column is the best key; a batch without it is keyed by its whole row.
        cols = [c for c in (self.key_columns or ()) if c in names] or names
        keys = row_keys(batch, cols, self.seed)
        limit = self._threshold()
        keep = np.flatnonzero(keys <= limit) if limit is not None else np.arange(len(keys))
        if len(keep) == 0:
            return self
        if len(keep) > self.k:
            keep = keep[np.argpartition(keys[keep], self.k - 1)[: self.k]]
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        part = table.take(pa.array(keep)).append_column(KEY_COLUMN, pa.array(keys[keep]))
        self._absorb(part)
        return self

    def _absorb(self, part: pa.Table) -> None:
        if self.table is not None:
            part = pa.concat_tables([self.table, part], promote_options="permissive")
        keys = part.column(KEY_COLUMN).to_numpy()
        order = np.argsort(keys, kind="stable")[: self.k]
        self.table = part.take(pa.array(order))

    def merge(self, other: Reservoir) -> Reservoir:
        """The sample of the union of both inputs (same ``k`` and ``seed`` required)."""
        if (self.k, self.seed) != (other.k, other.seed):
            raise ValueError(
                f"cannot merge reservoirs with different k/seed: {(self.k, self.seed)} "
                f"vs {(other.k, other.seed)}"
            )
        out = Reservoir(self.k, self.seed, self.key_columns)
        out.table = self.table
        if other.table is not None:
            if out.table is None:
                out.table = other.table
            else:
                out._absorb(other.table)
        return out

    def column_values(self, name: str) -> np.ndarray:
        """One sampled column as float64 (non-numeric values as NaN), without a DataFrame."""
        if self.table is None or name not in self.table.column_names:
            return np.array([], dtype=np.float64)
        column = self.table.column(name)
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            return column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        values = pd.to_numeric(column.to_pandas(), errors="coerce")
        return values.to_numpy(dtype=np.float64, na_value=np.nan)

    def to_pandas(self) -> pd.DataFrame:
        if self.table is None:
            return pd.DataFrame()
        return self.table.drop_columns([KEY_COLUMN]).to_pandas()

    def to_parquet_bytes(self) -> bytes:
        buf = io.BytesIO()
        table = self.table if self.table is not None else pa.table({KEY_COLUMN: pa.array([], pa.uint64())})
        pq.write_table(table, buf, compression="zstd")
        return buf.getvalue()

    @classmethod
    def from_parquet_bytes(
        cls, data: bytes, k: int, seed: int, key_columns: Sequence[str] | None = None
    ) -> Reservoir:
        out = cls(k, seed, key_columns)
        table = pq.read_table(io.BytesIO(data))
        out.table = table if table.num_rows else None
        return out
