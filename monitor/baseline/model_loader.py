"""Load the user's real model for attribution drift and RAI analyses.

Two kinds of ``model_uri`` are accepted:

* a local file written with ``joblib.dump`` or ``pickle`` (``.joblib``, ``.pkl``,
  ``.pickle``; a ``file://`` prefix is allowed);
* an MLflow URI (``models:/name/1``, ``runs:/<id>/model``, ``mlflow:<path>`` or a local MLflow
  model directory holding an ``MLmodel`` file), loaded as a pyfunc model when ``mlflow`` is
  installed.

Security: unpickling a file runs code chosen by whoever wrote it. raiwatch loads a model only
from the path or URI that the user wrote in the model version (``model_uri``), as their

trusted choice, exactly as their serving code does; it never loads a model found elsewhere,
and it never stores a pickle in its results.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from monitor.errors import NotFoundError, RaiwatchError

__all__ = [
    "MLFLOW_SCHEMES",
    "PICKLE_SUFFIXES",
    "ModelLoadError",
    "load_model",
]

PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
MLFLOW_SCHEMES = ("models:/", "runs:/", "mlflow:")


class ModelLoadError(RaiwatchError, ValueError):
    """A model URI cannot be loaded (unknown format, missing optional dependency...)."""


def _load_mlflow(uri: str) -> Any:
    try:
        import mlflow.pyfunc
    except ImportError as err:
        raise ModelLoadError(
            f"model_uri {uri!r} is an MLflow model but mlflow is not installed; "
            "pip install mlflow (in the environment that runs raiwatch)"
        ) from err
    return mlflow.pyfunc.load_model(uri.removeprefix("mlflow:"))


def load_model(uri: str) -> Any:
    """Load the model that ``uri`` points to.

    Parameters
    ----------
    uri
        A joblib/pickle file path or an MLflow URI (see the module docstring).

    Returns
    -------
    The fitted model object (an MLflow ``PyFuncModel`` for MLflow URIs).

    Raises
    ------
    NotFoundError
        The file or directory does not exist.
    ModelLoadError
        The format is not supported, the file is not a readable pickle, or mlflow is missing.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise ModelLoadError(f"model_uri must be a non-empty string, got {uri!r}")
    if uri.startswith(MLFLOW_SCHEMES):
        return _load_mlflow(uri)
    path = Path(uri.removeprefix("file://")).expanduser()
    if not path.exists():
        raise NotFoundError(f"model file {str(path)!r} does not exist; check model_uri")
    if path.is_dir():
        if (path / "MLmodel").is_file():
            return _load_mlflow(str(path))
        raise ModelLoadError(
            f"model_uri {str(path)!r} is a directory without an MLmodel file; point it to a "
            f"{'/'.join(PICKLE_SUFFIXES)} file or an MLflow model directory"
        )
    if path.suffix.lower() not in PICKLE_SUFFIXES:
        raise ModelLoadError(
            f"model file {str(path)!r} has suffix {path.suffix!r}; supported: "
            f"{list(PICKLE_SUFFIXES)} (joblib or pickle) or an MLflow URI"
        )
    import joblib

    try:
        return joblib.load(path)
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError, OSError) as err:
        raise ModelLoadError(
            f"model file {str(path)!r} is not a readable joblib/pickle file ({err}); "
            "re-save it with joblib.dump(model, path)"
        ) from err
    except ModuleNotFoundError as err:
        raise ModelLoadError(
            f"model file {str(path)!r} needs module {err.name!r}, which is not installed here; "
            "install the libraries the model was trained with"
        ) from err
