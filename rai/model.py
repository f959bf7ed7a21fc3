"""Load a user's model and give every component the same small interface.

Security note: a model file is loaded with joblib/pickle, which runs code stored in
the file. Loading it is the user's trusted choice: only point raiwatch at model files
you produced or trust. Nothing loaded here is ever written back as a pickle.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from rai.errors import RaiModelError

MLFLOW_SCHEMES = ("runs:/", "models:/", "mlflow:/", "mlflow-artifacts:/")


def load_model(reference: str | Path) -> Any:
    """Load a model from a local joblib/pickle file or an MLflow URI.

    Parameters
    ----------
    reference : str or Path
        A path to a ``.joblib``/``.pkl`` file (trusted: unpickling runs its code) or an
        MLflow model URI such as ``runs:/<id>/model`` (needs ``pip install mlflow``).

    Returns
    -------
    object
        The model, with ``predict`` and, for classifiers, ``predict_proba``.
    """
    text = str(reference)
    if text.startswith(MLFLOW_SCHEMES):
        return _load_mlflow(text)
    path = Path(text)
    if not path.is_file():
        raise RaiModelError(
            f"Model file {text!r} does not exist; give a joblib/pickle file or an MLflow URI "
            f"starting with one of {list(MLFLOW_SCHEMES)}."
        )
    try:
        return joblib.load(path)
    except Exception as exc:
        raise RaiModelError(
            f"Model file {text!r} could not be loaded with joblib/pickle ({exc}); save the model "
            "with joblib.dump(model, path) in an environment with the same library versions."
        ) from exc


def _load_mlflow(uri: str) -> Any:
    if importlib.util.find_spec("mlflow") is None:
        raise RaiModelError(
            f"Model {uri!r} is an MLflow URI but mlflow is not installed; `pip install mlflow`."
        )
    import mlflow  # type: ignore[import-not-found]

    try:
        return mlflow.sklearn.load_model(uri)
    except Exception:
        try:
            return mlflow.pyfunc.load_model(uri)
        except Exception as exc:
            raise RaiModelError(
                f"Model {uri!r} could not be loaded from MLflow ({type(exc).__name__}: {exc}); "
                "check the run id or model name and the tracking URI (MLFLOW_TRACKING_URI)."
            ) from exc


def model_fingerprint(model: Any, reference: str | Path | None = None) -> str:
    """sha256 of the model file when given, else of the model's pickled bytes."""
    if reference is not None and Path(str(reference)).is_file():
        return hashlib.sha256(Path(str(reference)).read_bytes()).hexdigest()
    try:
        return hashlib.sha256(pickle.dumps(model, protocol=4)).hexdigest()
    except Exception:
        return "unhashable:" + type(model).__qualname__


class ModelAdapter:
    """Uniform ``predict``/``predict_proba`` over a user's model.

    Parameters
    ----------
    model : object
        Anything with ``predict`` (and ``predict_proba`` for classifiers), including
        scikit-learn pipelines that encode categoricals themselves.
    task : {"binary", "multiclass", "regression"}
    classes : array-like or None
        Class labels in the column order of ``predict_proba``; read from
        ``model.classes_`` when present.
    positive_label : object or None
        Positive class for binary tasks; defaults to the last class.
    """

    def __init__(
        self,
        model: Any,
        task: str,
        *,
        classes: Any = None,
        positive_label: Any = None,
    ) -> None:
        self.model = model
        self.task = task
        found = getattr(model, "classes_", None)
        self.classes_ = np.asarray(
            found if found is not None else (classes if classes is not None else [])
        )
        if task != "regression" and positive_label is None:
            positive_label = self.classes_[-1]
        if isinstance(positive_label, np.generic):
            positive_label = positive_label.item()
        self.positive_label = positive_label

    @property
    def is_classifier(self) -> bool:
        """True for binary and multiclass tasks."""
        return self.task != "regression"

    @property
    def positive_index(self) -> int:
        """Column of ``predict_proba`` that holds the positive class."""
        matches = np.flatnonzero(self.classes_ == self.positive_label)
        if matches.size == 0:
            raise RaiModelError(
                f"positive_label {self.positive_label!r} is not a model class "
                f"{self.classes_.tolist()}; set positive_label to one of them."
            )
        return int(matches[0])

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Predicted labels (classification) or values (regression)."""
        return np.asarray(self.model.predict(features))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        if not hasattr(self.model, "predict_proba"):
            raise RaiModelError(
                f"{type(self.model).__name__} has no predict_proba; classifiers need it for "
                "ROC AUC, SHAP and counterfactuals."
            )
        return np.asarray(self.model.predict_proba(features))

    def score_output(self, features: pd.DataFrame) -> np.ndarray:
        """The explained output: P(positive) for binary, the prediction for regression."""
        if self.task == "binary":
            return self.predict_proba(features)[:, self.positive_index]
        return self.predict(features).astype(float)
