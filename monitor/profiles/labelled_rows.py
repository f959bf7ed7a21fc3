"""Collect the labelled rows of a window while it streams past the profiler.

Labels arrive late and separately, keyed by request id. While a window's batches
are profiled, :class:`LabelledRows` keeps only the rows whose request id has a
label (the columns performance, change detectors and attribution need), so
memory is bounded by the number of labels, not by the window.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from monitor.baseline.model_outputs import label_text
from monitor.ingest.log_rows import LABEL_COLUMN
from monitor.spec.model_version import ModelVersion


class LabelledRows:
    """A batch tap that joins window rows with labels by request id."""

    def __init__(self, mv: ModelVersion, labels: pd.DataFrame, *, keep_features: bool = False) -> None:
        self.mv = mv
        # A missing label value is no label: it must not count as labelled, nor as an error.
        labels = labels[labels[LABEL_COLUMN].notna() & labels["request_id"].notna()]
        ids = labels["request_id"].astype(str)
        self.labels = pd.Series(labels[LABEL_COLUMN].to_numpy(), index=ids.to_numpy())
        self.labels = self.labels[~self.labels.index.duplicated(keep="last")]
        cols = [c for c in (mv.id_column, mv.timestamp_column, mv.prediction, *mv.scores) if c is not None]
        if keep_features:
            cols += [f.name for f in mv.features]
        else:  # the fairness signal groups labelled rows by the sensitive features
            cols += [f for f in mv.sensitive_features if f not in cols]
        self.columns = cols
        self.parts: list[pd.DataFrame] = []
        self.rows_seen = 0

    def __call__(self, batch: pa.RecordBatch | pa.Table | pd.DataFrame) -> None:
        n = len(batch) if isinstance(batch, pd.DataFrame) else batch.num_rows
        self.rows_seen += n
        names = list(batch.columns) if isinstance(batch, pd.DataFrame) else batch.schema.names
        if self.mv.id_column not in names or self.labels.empty:
            return
        present = [c for c in self.columns if c in names]
        frame = batch[present] if isinstance(batch, pd.DataFrame) else batch.select(present).to_pandas()
        ids = frame[self.mv.id_column].astype(str)
        hit = ids.isin(self.labels.index).to_numpy()
        if hit.any():
            part = frame.loc[hit].copy()
            part[LABEL_COLUMN] = self.labels.loc[ids[hit]].to_numpy()
            self.parts.append(part)

    def frame(self) -> pd.DataFrame:
        """Labelled rows in time order (empty when no label has arrived)."""
        if not self.parts:
            return pd.DataFrame(columns=[*self.columns, LABEL_COLUMN])
        out = pd.concat(self.parts, ignore_index=True)
        ts = self.mv.timestamp_column
        if ts in out:
            out = out.sort_values([ts, self.mv.id_column], kind="stable").reset_index(drop=True)
        return out

    @property
    def coverage(self) -> dict[str, Any]:
        n = sum(len(p) for p in self.parts)
        return {"labelled_rows": n, "rows": self.rows_seen, "label_coverage": (n / self.rows_seen) if self.rows_seen else None}


class PredictionTap:
    """A batch tap keeping ``request id -> prediction`` of every row (champion/challenger agreement)."""

    def __init__(self, mv: ModelVersion) -> None:
        self.mv = mv
        self.parts: list[pd.Series] = []

    def __call__(self, batch: pa.RecordBatch | pa.Table | pd.DataFrame) -> None:
        names = list(batch.columns) if isinstance(batch, pd.DataFrame) else batch.schema.names
        idc, pred = self.mv.id_column, self.mv.prediction
        if pred is None or idc not in names or pred not in names:
            return
        frame = batch[[idc, pred]] if isinstance(batch, pd.DataFrame) else batch.select([idc, pred]).to_pandas()
        self.parts.append(pd.Series(frame[pred].to_numpy(), index=frame[idc].astype(str).to_numpy()))

    def series(self) -> pd.Series:
        """Predictions by request id (the last row of a repeated id wins)."""
        if not self.parts:
            return pd.Series(dtype=object)
        out = pd.concat(self.parts)
        return out[~out.index.duplicated(keep="last")].map(label_text)


class Taps:
    """Several batch taps fed from one scan."""

    def __init__(self, *taps: Any) -> None:
        self.taps = [t for t in taps if t is not None]

    def __call__(self, batch: Any) -> None:
        for tap in self.taps:
            tap(batch)
