"""Model performance on the test data: the figures that performance gates judge."""

from __future__ import annotations

import numpy as np
from sklearn import metrics

from rai.results import ComponentResult, to_jsonable
from rai.validate import RaiInputs


def run_performance(inputs: RaiInputs) -> ComponentResult:
    """Compute test metrics of the real model.

    Classification: accuracy, balanced accuracy, precision, recall, F1 (positive class
    for binary, macro for multiclass), ROC AUC (one-vs-rest for multiclass), log loss.
    Regression: MAE, RMSE, R².
    """
    model, x, y = inputs.model, inputs.x_test, inputs.y_test.to_numpy()
    predicted = model.predict(x)
    if model.is_classifier:
        proba = model.predict_proba(x)
        binary = inputs.config.task == "binary"
        average_kwargs: dict[str, object] = (
            {"pos_label": model.positive_label, "average": "binary"}
            if binary
            else {"average": "macro"}
        )
        values = {
            "accuracy": metrics.accuracy_score(y, predicted),
            "balanced_accuracy": metrics.balanced_accuracy_score(y, predicted),
            "precision": metrics.precision_score(y, predicted, zero_division=0, **average_kwargs),
            "recall": metrics.recall_score(y, predicted, zero_division=0, **average_kwargs),
            "f1": metrics.f1_score(y, predicted, zero_division=0, **average_kwargs),
            "log_loss": metrics.log_loss(y, proba, labels=model.classes_),
        }
        if len(np.unique(y)) == len(model.classes_):
            values["roc_auc"] = (
                metrics.roc_auc_score(y == model.positive_label, proba[:, model.positive_index])
                if binary
                else metrics.roc_auc_score(y, proba, multi_class="ovr", labels=model.classes_)
            )
    else:
        values = {
            "mae": metrics.mean_absolute_error(y, predicted),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y, predicted))),
            "r2": metrics.r2_score(y, predicted),
        }
    summary = {"metrics": to_jsonable(values), "n_test": len(y), "n_train": len(inputs.y_train)}
    return ComponentResult("performance", summary=summary)
