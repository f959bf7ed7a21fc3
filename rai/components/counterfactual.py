"""Counterfactuals (sparse-first search, or DiCE), every one re-checked against the real model.

Rows are searched in a loky process pool when ``counterfactual.n_jobs > 1``, each row
with its own time limit (:mod:`rai.components.counterfactual_search`). Returned
counterfactuals are predicted again by the real model: ``valid`` is stored per
counterfactual, with whether it respects the constraints, its distance to the query (mean over features of |change| / MAD for
numeric features, 0/1 for categorical: lower is closer) and sparsity (features
changed). Diversity is the mean pairwise distance of a row's counterfactuals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from joblib.externals.loky import get_reusable_executor

from rai.components.counterfactual_search import RowOutcome, SearchJob, search_rows
from rai.results import ComponentResult, to_jsonable
from rai.validate import RaiInputs


def run_counterfactual(inputs: RaiInputs) -> ComponentResult:
    """Search, re-check and score counterfactuals for ``counterfactual.rows``."""
    config, settings = inputs.config, inputs.config.counterfactual
    job = _job(inputs)
    queries = [(r, inputs.x_test.iloc[[r]].reset_index(drop=True)) for r in settings.rows]
    if queries and settings.n_jobs > 1:
        workers = min(settings.n_jobs, len(queries))
        chunks = [queries[i::workers] for i in range(workers)]
        executor = get_reusable_executor(max_workers=workers)
        parts = [f.result() for f in [executor.submit(search_rows, job, c) for c in chunks]]
        outcomes = sorted((o for part in parts for o in part), key=lambda o: o.row)
    else:
        outcomes = search_rows(job, queries)
    scale = _mad_scale(inputs)
    counterfactuals = _score(inputs, outcomes, scale)
    found = counterfactuals.groupby("row").size() if len(counterfactuals) else pd.Series()
    valid = counterfactuals.groupby("row")["valid"].sum() if len(counterfactuals) else pd.Series()
    row_rows = [
        {
            "row": outcome.row,
            "status": outcome.status,
            "reason": outcome.reason,
            "found": int(found.get(outcome.row, 0)),
            "valid": int(valid.get(outcome.row, 0)),
            "diversity": _diversity(outcome.counterfactuals, inputs, scale),
        }
        for outcome in outcomes
    ]
    rows = pd.DataFrame(row_rows)
    usable = (
        counterfactuals[counterfactuals["valid"] & counterfactuals["respects_constraints"]]
        if len(counterfactuals)
        else counterfactuals
    )
    importance = {
        f: float(usable[f"changed_{f}"].mean()) if len(usable) else 0.0 for f in inputs.features
    }
    summary = {
        "rows": len(outcomes),
        "requested_per_row": settings.total_cfs,
        "rows_with_counterfactuals": int((rows["status"] == "ok").sum()) if len(rows) else 0,
        "rows_without": rows[rows["status"] != "ok"][["row", "status", "reason"]].to_dict("records")
        if len(rows)
        else [],
        "found": len(counterfactuals),
        # valid = the real model gives the desired outcome AND every constraint holds
        "validity": float(
            (counterfactuals["valid"] & counterfactuals["respects_constraints"]).mean()
        )
        if len(counterfactuals)
        else None,
        "validity_prediction_only": float(counterfactuals["valid"].mean())
        if len(counterfactuals)
        else None,
        "validity_rule": (
            "share of counterfactuals whose re-prediction by the real model is the desired "
            "outcome and that respect every constraint (features_to_vary, permitted_range)"
        ),
        "usable": len(usable),
        "respect_constraints": float(counterfactuals["respects_constraints"].mean())
        if len(counterfactuals)
        else None,
        "mean_distance": float(counterfactuals["distance"].mean())
        if len(counterfactuals)
        else None,
        "mean_features_changed": float(counterfactuals["n_changed"].mean())
        if len(counterfactuals)
        else None,
        "feature_importance": dict(sorted(importance.items(), key=lambda kv: (-kv[1], kv[0]))),
        "method": (
            "sparse-first search (one feature changed, then two, ...; features put back and "
            "numeric changes pulled toward the query while the outcome holds)"
            if settings.method == "sparse"
            else "dice-ml random search"
        )
        + "; validity re-checked with the real model",
        "desired": list(settings.desired_range or ())
        if config.task == "regression"
        else str(settings.desired_class),
    }
    drop = [c for c in counterfactuals.columns if c.startswith("changed_")]
    # The original rows, so a reviewer sees which features each counterfactual changed.
    queries = (
        pd.concat(
            [inputs.x_test.iloc[[o.row]].assign(row=o.row) for o in outcomes], ignore_index=True
        )
        if outcomes
        else pd.DataFrame({"row": pd.Series(dtype=int)})
    )
    if len(queries):
        queries["predicted"] = inputs.model.predict(queries[list(inputs.features)])
    tables = {
        "counterfactuals": counterfactuals.drop(columns=drop),
        "rows": rows,
        "queries": queries,
    }
    return ComponentResult("counterfactual", summary=to_jsonable(summary), tables=tables)


def _job(inputs: RaiInputs) -> SearchJob:
    config, settings = inputs.config, inputs.config.counterfactual
    desired: Any = settings.desired_class
    if config.task == "multiclass":
        desired = int(np.flatnonzero(inputs.model.classes_.astype(str) == str(desired))[0])
    return SearchJob(
        model=inputs.model.model,
        train=inputs.x_train.assign(**{config.target: inputs.y_train.to_numpy()}),
        target=config.target,
        continuous=list(inputs.numeric),
        task=config.task,
        total_cfs=settings.total_cfs,
        desired_class=desired,
        desired_range=settings.desired_range,
        features_to_vary=list(settings.features_to_vary) or "all",
        permitted_range={k: list(v) for k, v in settings.permitted_range.items()},
        seed=config.seed,
        time_limit=settings.time_limit_seconds,
        sample_size=settings.sample_size,
        method=settings.method,
        desired_label=settings.desired_class,
    )


def _mad_scale(inputs: RaiInputs) -> dict[str, float]:
    scale = {}
    for feature in inputs.numeric:
        values = inputs.x_train[feature].astype(float)
        mad = float(np.median(np.abs(values - values.median())))
        scale[feature] = mad if mad > 0 else float(values.std() or 1.0)
    return scale


def _distances(
    a: pd.DataFrame, b: pd.DataFrame, inputs: RaiInputs, scale: dict[str, float]
) -> pd.DataFrame:
    parts = {}
    for feature in inputs.features:
        if feature in scale:
            parts[feature] = (a[feature].astype(float) - b[feature].astype(float)).abs() / scale[
                feature
            ]
        else:
            parts[feature] = (a[feature].astype(str) != b[feature].astype(str)).astype(float)
    return pd.DataFrame(parts)


def _score(inputs: RaiInputs, outcomes: list[RowOutcome], scale: dict[str, float]) -> pd.DataFrame:
    """Every counterfactual re-predicted by the real model (one call) and scored."""
    found = [o for o in outcomes if len(o.counterfactuals)]
    if not found:
        return pd.DataFrame()
    features = list(inputs.features)
    dtypes = inputs.x_test.dtypes.to_dict()
    cfs = pd.concat([o.counterfactuals[features] for o in found], ignore_index=True)
    cfs = cfs.astype(dtypes)
    rows = np.concatenate([np.full(len(o.counterfactuals), o.row) for o in found])
    repeated = inputs.x_test.iloc[rows][features].reset_index(drop=True)
    settings, model = inputs.config.counterfactual, inputs.model
    predicted = model.predict(cfs)
    if inputs.config.task == "regression":
        low, high = settings.desired_range or (-np.inf, np.inf)
        valid = (predicted >= low) & (predicted <= high)
    elif inputs.config.task == "binary":
        valid = predicted != model.predict(repeated)
    else:
        valid = predicted.astype(str) == str(settings.desired_class)
    distance = _distances(cfs, repeated, inputs, scale)
    changed = distance > 1e-9
    respects = np.ones(len(cfs), dtype=bool)
    if settings.features_to_vary:
        frozen = [f for f in inputs.features if f not in settings.features_to_vary]
        respects &= ~changed[frozen].any(axis=1).to_numpy()
    for feature, (low, high) in settings.permitted_range.items():
        values = cfs[feature].astype(float)
        respects &= (
            ~changed[feature] | ((values >= low - 1e-9) & (values <= high + 1e-9))
        ).to_numpy()
    scored = cfs.assign(
        row=rows,
        cf_index=np.concatenate([np.arange(len(o.counterfactuals)) for o in found]),
        predicted=predicted,
        valid=valid,
        respects_constraints=respects,
        distance=distance.mean(axis=1).to_numpy(),
        n_changed=changed.sum(axis=1).to_numpy(),
    )
    changed_columns = pd.DataFrame({f"changed_{f}": changed[f].to_numpy() for f in inputs.features})
    return pd.concat([scored, changed_columns], axis=1)


def _diversity(cfs: pd.DataFrame, inputs: RaiInputs, scale: dict[str, float]) -> float | None:
    if len(cfs) < 2:
        return None
    total = np.zeros((len(cfs), len(cfs)))
    for feature in inputs.features:
        if feature in scale:
            values = cfs[feature].astype(float).to_numpy() / scale[feature]
            total += np.abs(values[:, None] - values[None, :])
        else:
            labels = cfs[feature].astype(str).to_numpy()
            total += labels[:, None] != labels[None, :]
    upper = np.triu_indices(len(cfs), k=1)
    return float(total[upper].mean() / len(inputs.features))
