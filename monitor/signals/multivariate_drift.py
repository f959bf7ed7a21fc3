"""Multivariate drift: changes in the joint distribution that per-feature tests miss.

Two detectors, both fitted on the baseline's reservoir sample and calibrated on its own
variability, so they catch a change in how features relate (a flipped correlation) even when
every marginal distribution is unchanged:

* :class:`DomainClassifierDrift`: how well gradient boosting tells window rows from baseline
  rows, as cross-validated ROC AUC (0.5: indistinguishable). The threshold comes from pairs
  of disjoint halves of the baseline scored the same way (mean + 3 std of those AUCs).
* :class:`PCAReconstructionDrift`: standardise, keep the principal components explaining 65 %
  of the variance, and measure the mean Euclidean reconstruction error of a window. The
  threshold is mean ± 3 std of the error of baseline chunks, each left out of the fit that
  scores it.

Numeric and boolean columns are used as numbers (missing values: the baseline median);
the domain classifier also reads categorical columns as categories.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from threadpoolctl import threadpool_limits

from monitor.errors import DataError, NotFittedError
from monitor.signals.results import SignalResult

__all__ = [
    "DomainClassifierDrift",
    "PCAReconstructionDrift",
    "multivariate_signal_results",
]

FloatArray = NDArray[np.float64]


def _check_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} lacks columns {missing}; available: {list(frame.columns)}")


class DomainClassifierDrift:
    """Cross-validated ROC AUC of a classifier separating window rows from baseline rows.

    Parameters
    ----------
    sample_size
        Rows drawn from each side (window and baseline) per comparison.
    n_calibration
        Pairs of disjoint baseline halves scored to calibrate the threshold.
    n_splits, seed
        Cross-validation folds; the seed of every sampling and fit.
    """

    def __init__(self, *, sample_size: int = 2000, n_calibration: int = 5, n_splits: int = 5,
                 seed: int = 0) -> None:  # fmt: skip
        self.sample_size, self.n_calibration = sample_size, n_calibration
        self.n_splits, self.seed = n_splits, seed

    def _encode(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame[self.numeric_ + self.categorical_].copy()
        for c in self.numeric_:
            out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
        for c in self.categorical_:
            out[c] = pd.Categorical(out[c].astype("string"), categories=self.categories_[c])
        return out

    def _auc(self, a: pd.DataFrame, b: pd.DataFrame, seed: int) -> float:
        x = pd.concat([a, b], ignore_index=True)
        y = np.r_[np.zeros(len(a)), np.ones(len(b))]
        model = HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15, random_state=seed,
                                               categorical_features="from_dtype")  # fmt: skip
        folds = StratifiedKFold(self.n_splits, shuffle=True, random_state=seed)
        with threadpool_limits(1):  # OpenMP threads thrash when cores are shared; small fits
            proba = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
        return float(roc_auc_score(y, proba))

    def fit(
        self, baseline: pd.DataFrame, *, categorical: tuple[str, ...] = ()
    ) -> DomainClassifierDrift:
        """Keep the baseline sample and calibrate the AUC threshold on its halves."""
        if len(baseline) < 4 * self.n_splits:
            raise DataError(f"the baseline sample has {len(baseline)} rows; the domain classifier "
                            f"needs at least {4 * self.n_splits}")  # fmt: skip
        _check_columns(baseline, list(categorical), "the baseline sample")
        self.categorical_ = list(categorical)
        self.numeric_ = [c for c in baseline.columns if c not in categorical]
        self.categories_ = {
            c: sorted(baseline[c].dropna().astype(str).value_counts().index[:250])
            for c in categorical
        }
        self.baseline_ = self._encode(baseline).reset_index(drop=True)
        self.size_ = min(self.sample_size, len(baseline) // 2)
        rng = np.random.default_rng(self.seed)
        aucs = []
        for i in range(self.n_calibration):
            idx = rng.permutation(len(self.baseline_))
            a, b = idx[: self.size_], idx[self.size_ : 2 * self.size_]
            aucs.append(self._auc(self.baseline_.iloc[a], self.baseline_.iloc[b], self.seed + i))
        self.null_mean_, self.null_std_ = float(np.mean(aucs)), float(np.std(aucs, ddof=1))
        return self

    def check(self, window: pd.DataFrame) -> SignalResult:
        """Score a window: ``alert`` when its AUC is above the calibrated threshold."""
        if not hasattr(self, "baseline_"):
            raise NotFittedError("this DomainClassifierDrift is not fitted; call fit(baseline)")
        _check_columns(window, self.numeric_ + self.categorical_, "the window")
        n = min(len(window), self.size_)
        if n < 2 * self.n_splits:
            return SignalResult("multivariate_drift", None, "domain_classifier_auc", None, None,
                                "no_data", current_size=len(window),
                                message=f"the window has {len(window)} rows; need {2 * self.n_splits}")  # fmt: skip
        rng = np.random.default_rng(self.seed)
        w = self._encode(window).iloc[rng.choice(len(window), n, replace=False)]
        b = self.baseline_.iloc[rng.choice(len(self.baseline_), n, replace=False)]
        auc = self._auc(b, w, self.seed)
        # the AUC's spread under no drift grows as 1/sqrt(rows) below the calibration size
        threshold = self.null_mean_ + 3 * self.null_std_ * math.sqrt(self.size_ / n)
        return SignalResult(
            "multivariate_drift", None, "domain_classifier_auc", auc, threshold,
            "alert" if auc > threshold else "ok", reference_size=len(self.baseline_),
            current_size=len(window), message=f"domain classifier ROC AUC {auc:.3f} "
            f"(threshold {threshold:.3f}; 0.5 = window looks like the baseline)",
            details={"null_mean": self.null_mean_, "null_std": self.null_std_, "rows_each": n},
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The calibration as JSON; the baseline sample is stored by the baseline itself."""
        keys = ("sample_size", "n_calibration", "n_splits", "seed", "categorical_", "numeric_",
                "categories_", "size_", "null_mean_", "null_std_")  # fmt: skip
        return {k: getattr(self, k) for k in keys}

    @classmethod
    def from_dict(cls, data: dict[str, Any], baseline: pd.DataFrame) -> DomainClassifierDrift:
        """Rebuild from :meth:`to_dict` and the baseline sample it was fitted on."""
        obj = cls(sample_size=data["sample_size"], n_calibration=data["n_calibration"],
                  n_splits=data["n_splits"], seed=data["seed"])  # fmt: skip
        for k, v in data.items():
            if k.endswith("_"):
                setattr(obj, k, v)
        _check_columns(baseline, obj.numeric_ + obj.categorical_, "the baseline sample")
        obj.baseline_ = obj._encode(baseline).reset_index(drop=True)
        return obj


class PCAReconstructionDrift:
    """Mean reconstruction error of a window after the baseline's PCA.

    Parameters
    ----------
    variance
        Share of the baseline variance the kept components explain.
    n_chunks
        Baseline chunks used to calibrate the threshold (leave-chunk-out).
    """

    def __init__(self, *, variance: float = 0.65, n_chunks: int = 10, seed: int = 0) -> None:
        self.variance, self.n_chunks, self.seed = variance, n_chunks, seed

    def _matrix(self, frame: pd.DataFrame) -> FloatArray:
        x = frame[self.columns_].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(x), self.median_, x)

    @staticmethod
    def _fit_pca(x: FloatArray, variance: float) -> tuple[FloatArray, FloatArray, FloatArray]:
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        z = (x - mean) / scale
        pca = PCA(n_components=variance, svd_solver="full").fit(z)
        if pca.n_components_ >= z.shape[1]:
            # Keeping every component reconstructs exactly: the error would be rounding
            # noise. Always leave at least one direction out.
            pca = PCA(n_components=z.shape[1] - 1, svd_solver="full").fit(z)
        return mean, scale, pca.components_

    @staticmethod
    def _error(x: FloatArray, mean: FloatArray, scale: FloatArray, comp: FloatArray) -> float:
        z = (x - mean) / scale  # the scaled baseline has mean 0, so PCA needs no centring
        back = z @ comp.T @ comp
        return float(np.linalg.norm(z - back, axis=1).mean())

    def fit(self, baseline: pd.DataFrame) -> PCAReconstructionDrift:
        """Fit scaler and PCA on the baseline; calibrate on leave-one-out chunks."""
        self.columns_ = [c for c in baseline.columns
                         if pd.api.types.is_numeric_dtype(baseline[c]) or pd.api.types.is_bool_dtype(baseline[c])]  # fmt: skip
        if len(self.columns_) < 2 or len(baseline) < 2 * self.n_chunks:
            raise DataError(f"PCA reconstruction needs 2+ numeric columns and {2 * self.n_chunks}+ "
                            f"rows; got {self.columns_} and {len(baseline)} rows")  # fmt: skip
        raw = baseline[self.columns_].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        self.median_ = np.nanmedian(raw, axis=0)
        x = self._matrix(baseline)
        self.mean_, self.scale_, self.components_ = self._fit_pca(x, self.variance)
        chunks = np.array_split(np.random.default_rng(self.seed).permutation(len(x)), self.n_chunks)
        errors = []
        for i, chunk in enumerate(chunks):
            rest = np.concatenate([c for j, c in enumerate(chunks) if j != i])
            errors.append(self._error(x[chunk], *self._fit_pca(x[rest], self.variance)))
        self.chunk_size_ = len(chunks[0])
        self.chunk_mean_, self.chunk_std_ = float(np.mean(errors)), float(np.std(errors, ddof=1))
        return self

    def check(self, window: pd.DataFrame) -> SignalResult:
        """Score a window: ``alert`` when its error is outside mean ± 3 std of the chunks."""
        if not hasattr(self, "components_"):
            raise NotFittedError("this PCAReconstructionDrift is not fitted; call fit(baseline)")
        _check_columns(window, self.columns_, "the window")
        if len(window) == 0:
            return SignalResult("multivariate_drift", None, "pca_reconstruction_error", None, None,
                                "no_data", current_size=0, message="the window is empty")  # fmt: skip
        value = self._error(self._matrix(window), self.mean_, self.scale_, self.components_)
        spread = 3 * self.chunk_std_ * math.sqrt(self.chunk_size_ / len(window))
        low, high = self.chunk_mean_ - spread, self.chunk_mean_ + spread
        return SignalResult(
            "multivariate_drift", None, "pca_reconstruction_error", value, high,
            "alert" if not low <= value <= high else "ok", current_size=len(window),
            message=f"reconstruction error {value:.4g} vs baseline range [{low:.4g}, {high:.4g}]",
            details={"lower_threshold": low, "components": int(self.components_.shape[0])},
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-compatible numbers."""
        keys = ("variance", "n_chunks", "seed", "columns_", "median_", "mean_", "scale_",
                "components_", "chunk_size_", "chunk_mean_", "chunk_std_")  # fmt: skip
        return {k: np.asarray(getattr(self, k)).tolist() if k.endswith("_") and k not in
                ("columns_", "chunk_size_", "chunk_mean_", "chunk_std_") else getattr(self, k)
                for k in keys}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PCAReconstructionDrift:
        """Rebuild a fitted detector from :meth:`to_dict`."""
        obj = cls(variance=data["variance"], n_chunks=data["n_chunks"], seed=data["seed"])
        for k, v in data.items():
            if k.endswith("_"):
                setattr(
                    obj,
                    k,
                    np.asarray(v, dtype=float) if isinstance(v, list) and k != "columns_" else v,
                )
        return obj


def multivariate_signal_results(
    window: pd.DataFrame, detectors: list[DomainClassifierDrift | PCAReconstructionDrift]
) -> list[SignalResult]:
    """One ``multivariate_drift`` result per fitted detector.

    A window without a column the detector was fitted on gives an ``error`` result that names
    the missing columns; other errors propagate.
    """
    results = []
    for det in detectors:
        try:
            results.append(det.check(window))
        except DataError as err:
            metric = (
                "domain_classifier_auc"
                if isinstance(det, DomainClassifierDrift)
                else "pca_reconstruction_error"
            )
            results.append(
                SignalResult(
                    "multivariate_drift",
                    None,
                    metric,
                    None,
                    None,
                    "error",
                    current_size=len(window),
                    message=str(err),
                )
            )
    return results
