"""The project's one metrics module: accuracy, per-task accuracy, average ranks, MSE and MAE.

Average ranks follow the ResNet2D paper's Table I (Sec. IV-B): on every task (row) the methods
(columns) are ranked 1 (best) to ``n_methods``; tied methods share the mean of the ranks they
span (two methods tied for 1st and 2nd both get 1.5), and a method's average rank is the mean
of its ranks over the tasks -- smaller is better.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of predictions equal to the labels (``sklearn.metrics.accuracy_score``).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (N,), N >= 1
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    if y_true.size == 0:
        raise ValueError("accuracy of zero predictions is undefined")
    return float(accuracy_score(y_true, y_pred))


def per_task_accuracy(predictions: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """``{task: accuracy(y_true, y_pred)}`` for ``predictions = {task: (y_true, y_pred)}``."""
    return {task: accuracy(y_true, y_pred) for task, (y_true, y_pred) in predictions.items()}


def average_ranks(table: pd.DataFrame, higher_is_better: bool = True) -> tuple[pd.DataFrame, pd.Series]:
    """Rank the methods on every task and average the ranks (Table I of the ResNet2D paper).

    Parameters
    ----------
    table : DataFrame, tasks x methods
        A score per task (row) and method (column), e.g. test accuracy.
    higher_is_better : bool
        True for accuracy (rank 1 = highest score), False for errors (rank 1 = lowest).

    Returns
    -------
    ranks : DataFrame, like ``table``
        Rank of each method on each task; ties get the average of the tied ranks
        (``DataFrame.rank(method="average")``).
    average : Series, indexed by method
        Mean rank over the tasks (smaller is better).

    Raises
    ------
    ValueError
        If the table is empty or a score is missing (NaN): a missing score would silently
        change the number of ranked methods on that task.
    """
    if table.empty:
        raise ValueError("average_ranks needs at least one task and one method")
    missing = table.isna()
    if missing.to_numpy().any():
        cells = [f"({task}, {method})" for task, method in missing[missing].stack().index[:5]]
        raise ValueError(f"missing scores in the rank table: {', '.join(cells)}")
    ranks = table.rank(axis=1, method="average", ascending=not higher_is_better)
    return ranks, ranks.mean(axis=0)


def _errors(y_true: np.ndarray, y_pred: np.ndarray, ignore_nan: bool) -> np.ndarray:
    # Plain numpy rather than sklearn.metrics.mean_squared_error: forecasts are often 3-D
    # (cases, channels, horizon) and targets may hold NaN gaps, which sklearn rejects.
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    errors = y_pred - y_true
    if ignore_nan:
        errors = errors[np.isfinite(y_true)]
    if errors.size == 0:
        raise ValueError("no values to compare")
    return errors


def mse(y_true: np.ndarray, y_pred: np.ndarray, ignore_nan: bool = False) -> float:
    """Mean squared error over all elements (any shape; ``ignore_nan`` skips NaN targets)."""
    return float(np.mean(_errors(y_true, y_pred, ignore_nan) ** 2))


def mae(y_true: np.ndarray, y_pred: np.ndarray, ignore_nan: bool = False) -> float:
    """Mean absolute error over all elements (any shape; ``ignore_nan`` skips NaN targets)."""
    return float(np.mean(np.abs(_errors(y_true, y_pred, ignore_nan))))
