"""Run an RAI build: validate, run each component with a progress bar, write the bundle.

Two entry points share one engine:

* :func:`build` reads a ``rai.yaml`` (model file or MLflow URI, data paths, settings);
* :func:`build_from_frames` takes a model object and DataFrames. The scheduler calls it
  on recent labelled production data, e.g.::

      from rai.pipeline import build_from_frames
      bundle = build_from_frames(model, train_df, recent_labelled_df, out_dir=path,
                                 config={"target": "default", "task": "binary",
                                         "sensitive_features": ["sex"], ...})
      failed = [v for v in bundle.gate_verdicts() if not v.passed]
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

import pandas as pd
from rich.progress import Progress

from rai.bundle import SCHEMA_VERSION, InsightsBundle, library_versions
from rai.components import COMPONENTS
from rai.config import RaiConfig, load_yaml
from rai.data import frame_fingerprint, load_frame
from rai.errors import RaiConfigError
from rai.model import load_model, model_fingerprint
from rai.results import ComponentResult, to_jsonable
from rai.scorecard import write_scorecard
from rai.step_cache import StepCache, component_fingerprint, source_fingerprint
from rai.validate import validate_inputs

FILE_KEYS = ("model", "train", "test")


def build(
    config_path: str | Path,
    *,
    out_dir: str | Path | None = None,
    seed: int | None = None,
    progress: bool = True,
    use_cache: bool = True,
) -> InsightsBundle:
    """Build the bundle described by a YAML file.

    Component results are cached under ``.rai_cache`` next to the YAML (see
    :mod:`rai.step_cache`); ``use_cache=False`` recomputes every component.

    The YAML holds ``model`` (a joblib/pickle file — loading it runs its code, so use
    only files you trust — or an MLflow URI), ``train`` and ``test`` (CSV/Parquet paths,
    relative to the YAML), optional ``out`` and every :class:`~rai.config.RaiConfig`
    field. ``out_dir`` and ``seed`` override the file.
    """
    config_path = Path(config_path)
    data = load_yaml(config_path)
    missing = [k for k in FILE_KEYS if k not in data]
    if missing:
        raise RaiConfigError(
            f"Config file {str(config_path)!r} lacks {missing}; give paths to them."
        )
    base = config_path.parent
    model_ref = str(data.pop("model"))
    if "://" not in model_ref and ":/" not in model_ref and not Path(model_ref).is_absolute():
        model_ref = str(base / model_ref)
    paths = {k: _resolve(base, data.pop(k)) for k in ("train", "test")}
    out = out_dir if out_dir is not None else _resolve(base, data.pop("out", "rai_bundle"))
    data.pop("out", None)
    if seed is not None:
        data["seed"] = seed
    config = RaiConfig.from_dict(data)
    model = load_model(model_ref)
    train = load_frame(paths["train"], name="train")
    test = load_frame(paths["test"], name="test")
    return build_from_frames(
        model,
        train,
        test,
        config=config,
        out_dir=out,
        model_reference=model_ref,
        progress=progress,
        cache_dir=base / ".rai_cache" if use_cache else None,
    )


def build_from_frames(
    model: Any,
    train: pd.DataFrame | str | Path,
    test: pd.DataFrame | str | Path,
    *,
    config: RaiConfig | dict[str, Any],
    out_dir: str | Path | None = None,
    model_reference: str | None = None,
    progress: bool = False,
    cache_dir: str | Path | None = None,
) -> InsightsBundle:
    """Validate inputs, run every configured component and (optionally) save the bundle.

    Parameters
    ----------
    model : object
        Fitted model with ``predict`` (and ``predict_proba`` for classifiers).
    train, test : DataFrame, or path to CSV/Parquet
        Data including the target column.
    config : RaiConfig or dict
        Settings; a dict is read with :meth:`RaiConfig.from_dict`.
    out_dir : path or None
        Where to write the bundle and scorecard; ``None`` keeps it in memory.
    model_reference : str or None
        Model file or URI, recorded in the manifest and used for the fingerprint.
    progress : bool
        Show a rich progress bar.
    cache_dir : path or None
        Reuse component results whose fingerprint (model, data, the config fields the
        component reads, library versions, rai source) is unchanged; ``None`` computes all.
        The manifest's ``steps`` says which components were computed and which reused.

    Returns
    -------
    InsightsBundle
        Components that raised are stored with status ``failed`` and their error.
    """
    started = time.perf_counter()
    if isinstance(config, dict):
        config = RaiConfig.from_dict(config)
    train_frame, test_frame = load_frame(train, name="train"), load_frame(test, name="test")
    inputs = validate_inputs(model, train_frame, test_frame, config)
    validated = time.perf_counter()
    model_sha = model_fingerprint(model, model_reference)
    data_sha = {"train": frame_fingerprint(train_frame), "test": frame_fingerprint(test_frame)}
    cache = StepCache(cache_dir) if cache_dir is not None else None
    context = {
        "model": model_sha,
        "data": data_sha,
        "libraries": library_versions(),
        "rai_source": source_fingerprint() if cache is not None else None,
    }
    plain_config = config.to_dict()
    results: dict[str, ComponentResult] = {}
    steps: dict[str, str] = {}
    with Progress(disable=not progress, transient=False) as bar:
        task = bar.add_task("RAI build", total=len(config.components))
        for name in [c for c in COMPONENTS if c in config.components]:
            bar.update(task, description=f"RAI: {name}")
            key = component_fingerprint(name, plain_config, context)
            cached = cache.get(name, key) if cache is not None else None
            if cached is not None:
                results[name], steps[name] = cached, "reused"
            else:
                results[name], steps[name] = _run_component(name, inputs), "computed"
                if cache is not None:
                    cache.put(name, key, results[name])
            bar.advance(task)
    timings: dict[str, Any] = {"validate": round(validated - started, 4)}
    manifest: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "seed": config.seed,
        "config": config.to_dict(),
        "model": {
            "reference": model_reference,
            "type": type(model).__qualname__,
            "sha256": model_sha,
        },
        "data": {
            "train": {"rows": len(train_frame), "sha256": data_sha["train"]},
            "test": {"rows": len(test_frame), "sha256": data_sha["test"]},
        },
        "steps": steps,
        "missing": inputs.missing_report,
        "features": {"all": list(inputs.features), "categorical": list(inputs.categorical)},
        "libraries": library_versions(),
        "timings": timings,
    }
    bundle = InsightsBundle(manifest, results)
    timings["total"] = round(time.perf_counter() - started, 4)
    if out_dir is not None:
        bundle.save(out_dir)
        write_scorecard(bundle, Path(out_dir))
    return bundle


def _run_component(name: str, inputs: Any) -> ComponentResult:
    start = time.perf_counter()
    try:
        result = COMPONENTS[name](inputs)
        result.summary = json.loads(json.dumps(to_jsonable(result.summary)))
    except Exception as exc:  # stored as failed, with its error; the others still run
        last = traceback.extract_tb(exc.__traceback__)[-1]
        result = ComponentResult(
            name,
            "failed",
            error=f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})",
        )
    result.seconds = time.perf_counter() - start
    return result


def _resolve(base: Path, value: Any) -> Path:
    path = Path(str(value))
    return path if path.is_absolute() else base / path
