"""The project's one metrics module: per-task and joint metrics of multitask learning.

Per-task metrics (one task's labels or targets against one task's predictions):

- classification: :func:`accuracy`, :func:`per_task_accuracy`, :func:`precision_macro`,
  :func:`recall_macro`, :func:`f1_macro`, :func:`f1_weighted`, :func:`auroc`, :func:`auprc`;
- regression and forecasting: :func:`mse`, :func:`mae`;
- :data:`METRICS`, the registry of those metrics by name (:class:`MetricInfo`: the function, what
  it needs -- labels, scores or values -- and whether higher is better), with
  :func:`higher_is_better`;
- :func:`task_metrics`, which turns one task head's raw output (multiclass logits or
  probabilities, a binary probability or logit, regression predictions) into the metrics named,
  skipping samples whose label is missing (partial labels).

Joint metrics (one number over all the tasks of a multitask model):

- :func:`joint_mean` and :func:`weighted_mean` of per-task scores;
- :func:`delta_m`, the average relative change over a single-task baseline in percent
  (Maninis et al., "Attentive Single-Tasking of Multiple Tasks", CVPR 2019);
- :func:`average_ranks`, the joint rank metric: methods ranked on every task and the ranks
  averaged.

Average ranks follow the ResNet2D paper's Table I (Sec. IV-B): on every task (row) the methods
(columns) are ranked 1 (best) to ``n_methods``; tied methods share the mean of the ranks they
span (two methods tied for 1st and 2nd both get 1.5), and a method's average rank is the mean
of its ranks over the tasks -- smaller is better.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit, softmax
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize


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


# ---------------------------------------------------------------------------------------------
# Per-task classification metrics beyond accuracy
# ---------------------------------------------------------------------------------------------


def _labels_and_predictions(y_true, y_pred, name: str) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"{name}: y_true {y_true.shape} and y_pred {y_pred.shape} must both be (N,)"
        )
    if y_true.size == 0:
        raise ValueError(f"{name} of zero predictions is undefined")
    return y_true, y_pred


def precision_macro(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-averaged precision (``sklearn.metrics.precision_score``, ``average="macro"``).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (N,), N >= 1
        Class labels.

    Returns
    -------
    float
        Unweighted mean of the per-class precisions over the classes that occur in ``y_true`` or
        ``y_pred`` (sklearn's default label set); a class that is never predicted has precision
        0 (``zero_division=0``).
    """
    y_true, y_pred = _labels_and_predictions(y_true, y_pred, "precision_macro")
    return float(precision_score(y_true, y_pred, average="macro", zero_division=0))


def recall_macro(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-averaged recall (``sklearn.metrics.recall_score``, ``average="macro"``).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (N,), N >= 1
        Class labels.

    Returns
    -------
    float
        Unweighted mean of the per-class recalls over the classes that occur in ``y_true`` or
        ``y_pred``; a class predicted but absent from ``y_true`` has recall 0
        (``zero_division=0``).
    """
    y_true, y_pred = _labels_and_predictions(y_true, y_pred, "recall_macro")
    return float(recall_score(y_true, y_pred, average="macro", zero_division=0))


def f1_macro(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro-averaged F1 score (``sklearn.metrics.f1_score``, ``average="macro"``).

    Parameters
    ----------
    y_true, y_pred : array-like, shape (N,), N >= 1
        Class labels.

    Returns
    -------
    float
        Unweighted mean of the per-class F1 scores (harmonic mean of that class's precision and
        recall; 0 where both are 0, ``zero_division=0``) over the classes in ``y_true`` or
        ``y_pred``.
    """
    y_true, y_pred = _labels_and_predictions(y_true, y_pred, "f1_macro")
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def f1_weighted(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Support-weighted F1 score (``sklearn.metrics.f1_score``, ``average="weighted"``).

    The per-class F1 scores (``zero_division=0``) averaged with each class's share of
    ``y_true`` as its weight: ForeClassNet's Tables 4, 9 and 10 report it beside macro F1.

    Parameters
    ----------
    y_true, y_pred : array-like, shape (N,), N >= 1
        Class labels.
    """
    y_true, y_pred = _labels_and_predictions(y_true, y_pred, "f1_weighted")
    return float(f1_score(y_true, y_pred, average="weighted", zero_division=0))


def _labels_and_scores(y_true, y_score, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate (N,) labels against (N,) binary or (N, K) multiclass scores; labels as int."""
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.ndim != 1 or y_score.ndim not in (1, 2) or len(y_score) != len(y_true):
        raise ValueError(
            f"{name}: y_true must be (N,) and y_score (N,) or (N, K); got {y_true.shape} and "
            f"{y_score.shape}"
        )
    if not np.isfinite(y_score).all():
        raise ValueError(f"{name}: y_score holds NaN or inf")
    if y_true.size and y_true.dtype.kind not in "biuf":
        raise ValueError(f"{name}: y_true must hold numbers (class indices), got {y_true.dtype}")
    if y_score.ndim == 1:
        if not np.isin(y_true, (0, 1)).all():
            raise ValueError(f"{name}: binary y_true must hold only 0 and 1")
    else:
        n_classes = y_score.shape[1]
        if n_classes < 2:
            raise ValueError(f"{name}: multiclass y_score needs K >= 2 columns, got {n_classes}")
        if not np.isin(y_true, np.arange(n_classes)).all():
            raise ValueError(f"{name}: y_true must hold class indices 0..{n_classes - 1}")
    return y_true.astype(np.int64), y_score


def _one_vs_rest(y_true: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """One-hot (N, K) labels and the indices of the classes present in ``y_true``."""
    onehot = label_binarize(y_true, classes=np.arange(n_classes))
    if n_classes == 2:  # label_binarize gives a single (positive-class) column for two classes
        onehot = np.column_stack([1 - onehot[:, 0], onehot[:, 0]])
    return onehot, np.flatnonzero(onehot.any(axis=0))


def auroc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the ROC curve (``sklearn.metrics.roc_auc_score``).

    Parameters
    ----------
    y_true : array-like, shape (N,)
        Binary: labels in {0, 1}. Multiclass: class indices ``0..K-1``.
    y_score : array-like, shape (N,) or (N, K)
        Binary: a score or probability of the positive class (1), higher = more positive.
        Multiclass: a score or probability per class.

    Returns
    -------
    float
        Binary: the probability that a random positive scores above a random negative (ties
        count one half). Multiclass: the one-vs-rest AUROC of every class, macro-averaged over
        the classes PRESENT in ``y_true`` only -- a class without a positive sample has no
        one-vs-rest AUROC, and classes absent from a (test or partially labelled) split are
        common in small time-series data sets.
        NaN when undefined: ``y_true`` holds fewer than two classes (including N = 0).
    """
    y_true, y_score = _labels_and_scores(y_true, y_score, "auroc")
    if y_score.ndim == 1:
        if np.unique(y_true).size < 2:
            return math.nan
        return float(roc_auc_score(y_true, y_score))
    if y_true.size == 0:
        return math.nan
    onehot, present = _one_vs_rest(y_true, y_score.shape[1])
    if present.size < 2:
        return math.nan
    # The one-hot (multilabel-indicator) form averages the per-class binary AUROCs over the
    # columns given, which is one-vs-rest macro; sklearn's multi_class="ovr" would insist that
    # every one of the K classes occurs in y_true and that rows sum to 1.
    return float(roc_auc_score(onehot[:, present], y_score[:, present], average="macro"))


def auprc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision (``average_precision_score``).

    Average precision is the step sum ``AP = sum_n (R_n - R_{n-1}) P_n`` over the thresholds
    (the distinct scores, descending), with P_n and R_n the precision and recall at threshold n.

    Parameters
    ----------
    y_true : array-like, shape (N,)
        Binary: labels in {0, 1}. Multiclass: class indices ``0..K-1``.
    y_score : array-like, shape (N,) or (N, K)
        Binary: a score or probability of the positive class (1). Multiclass: one per class.

    Returns
    -------
    float
        Binary: the average precision of class 1. Multiclass: the one-vs-rest average
        precision of every class (``label_binarize``), macro-averaged over the classes PRESENT
        in ``y_true`` (a class without positives has no defined AP).
        NaN when no positive exists (binary: no 1 in ``y_true``; either: N = 0).
    """
    y_true, y_score = _labels_and_scores(y_true, y_score, "auprc")
    if y_score.ndim == 1:
        if not (y_true == 1).any():
            return math.nan
        return float(average_precision_score(y_true, y_score))
    if y_true.size == 0:
        return math.nan
    onehot, present = _one_vs_rest(y_true, y_score.shape[1])
    if present.size == 1:  # a single column would be read as binary (N, 1) input
        column = present[0]
        return float(average_precision_score(onehot[:, column], y_score[:, column]))
    return float(average_precision_score(onehot[:, present], y_score[:, present], average="macro"))


# ---------------------------------------------------------------------------------------------
# Registry and metrics of one task head
# ---------------------------------------------------------------------------------------------

Needs = Literal["labels", "scores", "values"]


@dataclass(frozen=True)
class MetricInfo:
    """A metric of the registry :data:`METRICS`.

    Attributes
    ----------
    name : str
        The key in :data:`METRICS`.
    function : callable ``(y_true, y) -> float``
        The metric.
    needs : {"labels", "scores", "values"}
        What ``y`` is: predicted class labels, class scores/probabilities (classification), or
        predicted values (regression).
    higher_is_better : bool
        True for scores such as accuracy, False for errors such as MSE.
    """

    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    needs: Needs
    higher_is_better: bool

    def __post_init__(self) -> None:
        if self.needs not in ("labels", "scores", "values"):
            raise ValueError(f"needs must be 'labels', 'scores' or 'values', got {self.needs!r}")


METRICS: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo("accuracy", accuracy, "labels", True),
        MetricInfo("precision", precision_macro, "labels", True),
        MetricInfo("recall", recall_macro, "labels", True),
        MetricInfo("f1", f1_macro, "labels", True),
        MetricInfo("auroc", auroc, "scores", True),
        MetricInfo("auprc", auprc, "scores", True),
        MetricInfo("mse", mse, "values", False),
        MetricInfo("mae", mae, "values", False),
    )
}

# What each task type can feed a metric: its metrics are those whose ``needs`` is listed here.
_TASK_NEEDS: dict[str, tuple[str, ...]] = {
    "classification": ("labels", "scores"),
    "binary": ("labels", "scores"),
    "regression": ("values",),
}


def higher_is_better(name: str) -> bool:
    """Whether a higher value of the registered metric ``name`` is better.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`METRICS`; the message lists the known names.
    """
    try:
        return METRICS[name].higher_is_better
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; known metrics: {', '.join(METRICS)}") from None


def _float_labels(y_true, name: str) -> np.ndarray:
    y_true = np.asarray(y_true)
    if y_true.ndim != 1:
        raise ValueError(f"{name} labels must be (N,), got {y_true.shape}")
    if y_true.size and y_true.dtype.kind not in "biuf":
        raise ValueError(f"{name} labels must be numbers, got dtype {y_true.dtype}")
    return y_true.astype(np.float64)


def _classification(y_true, output) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = _float_labels(y_true, "classification")
    output = np.asarray(output, dtype=np.float64)
    if output.ndim != 2 or output.shape[1] < 2 or len(output) != len(y):
        raise ValueError(
            f"classification output must be (N, K) with K >= 2 for {len(y)} labels, got "
            f"{output.shape}"
        )
    if not np.isfinite(output).all():
        raise ValueError("classification output holds NaN or inf")
    # Decided on the whole output, so that it does not depend on which labels are missing.
    is_probability = ((output >= 0) & (output <= 1)).all() and np.allclose(output.sum(axis=1), 1)
    probabilities = output if is_probability else softmax(output, axis=1)
    labelled = ~np.isnan(y) & (y >= 0)
    # The label is the argmax of the raw output: the same as of the probabilities in exact
    # arithmetic, but rounding in the softmax can never make two classes tie.
    y, probabilities, predicted = y[labelled], probabilities[labelled], output[labelled].argmax(axis=1)
    n_classes = output.shape[1]
    if not np.isin(y, np.arange(n_classes)).all():
        raise ValueError(
            f"classification labels must be class indices 0..{n_classes - 1}, or < 0 / NaN for "
            "a missing label"
        )
    return y.astype(np.int64), predicted, probabilities


def _binary(y_true, output, output_is_logit: bool, threshold: float):
    y = _float_labels(y_true, "binary")
    output = np.asarray(output, dtype=np.float64)
    if output.shape != y.shape:
        raise ValueError(
            f"binary output must be (N,) like the labels {y.shape}, got {output.shape}"
        )
    if not np.isfinite(output).all():
        raise ValueError("binary output holds NaN or inf")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a probability in [0, 1], got {threshold}")
    if output_is_logit:
        probabilities = expit(output)
    elif ((output < 0) | (output > 1)).any():
        raise ValueError(
            "binary output must be probabilities in [0, 1]; pass output_is_logit=True for logits"
        )
    else:
        probabilities = output
    labelled = ~np.isnan(y)
    y, probabilities = y[labelled], probabilities[labelled]
    if not np.isin(y, (0, 1)).all():
        raise ValueError("binary labels must be 0, 1, or NaN for a missing label")
    return y.astype(np.int64), (probabilities >= threshold).astype(np.int64), probabilities


def _regression(y_true, output) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.float64)
    output = np.asarray(output, dtype=np.float64)
    if y.ndim not in (1, 2) or output.shape != y.shape:
        raise ValueError(
            f"regression y_true and output must share a shape (N,) or (N, H), got {y.shape} and "
            f"{output.shape}"
        )
    if not np.isfinite(output).all():
        raise ValueError("regression output holds NaN or inf")
    if np.isinf(y).any():
        raise ValueError("regression targets hold inf (a missing target is NaN)")
    labelled = ~np.isnan(y)  # element by element: a (N, H) target may lack some steps
    return y[labelled], output[labelled]


def task_metrics(
    task_type: str,
    y_true: np.ndarray,
    output: np.ndarray,
    metrics: Sequence[str],
    *,
    output_is_logit: bool = False,
    threshold: float = 0.5,
) -> dict[str, float]:
    """The metrics named in ``metrics`` of one task head's output, skipping missing labels.

    Parameters
    ----------
    task_type : {"classification", "binary", "regression"}
    y_true : array-like
        ``"classification"``: shape (N,), class indices ``0..K-1``; a label < 0 or NaN is
        missing. ``"binary"``: shape (N,), 0 or 1; NaN is missing. ``"regression"``: shape (N,)
        or (N, H), like ``output``; every NaN element is missing (element by element).
    output : array-like
        ``"classification"``: shape (N, K), logits or probabilities. Rows that all lie in
        [0, 1] and sum to 1 are taken as probabilities, anything else as logits and turned into
        probabilities with a softmax; the predicted label is the argmax, the scores for
        ``auroc``/``auprc`` are the probabilities. ``"binary"``: shape (N,), the probability
        of class 1 (or its logit, see ``output_is_logit``); the predicted label is
        ``probability >= threshold``. ``"regression"``: shape (N,) or (N, H), predictions.
    metrics : sequence of str
        Names in :data:`METRICS`: accuracy, precision, recall, f1, auroc, auprc for the two
        classification types; mse, mae for regression.
    output_is_logit : bool
        Binary only (ignored otherwise): apply a sigmoid to ``output`` first.
    threshold : float in [0, 1]
        Binary only (ignored otherwise): probability at and above which class 1 is predicted.

    Returns
    -------
    dict
        ``{metric: value}`` in the order of ``metrics``. Samples (regression: elements) whose
        label is missing are left out, never imputed. When no labelled sample remains every
        metric is NaN. ``auroc``/``auprc`` can also be NaN on their own (see :func:`auroc`,
        :func:`auprc`).

    Raises
    ------
    ValueError
        For an unknown task type or metric; a metric that does not fit ``task_type`` (the
        message names the task type and its allowed metrics); shapes that do not match; output
        holding NaN or inf; labels that are neither valid nor missing; binary probabilities
        outside [0, 1] without ``output_is_logit``.
    """
    if task_type not in _TASK_NEEDS:
        raise ValueError(f"unknown task type {task_type!r}; known: {', '.join(_TASK_NEEDS)}")
    if isinstance(metrics, str):
        raise TypeError(f"metrics must be a sequence of names, got the string {metrics!r}")
    names = list(metrics)
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; known metrics: {', '.join(METRICS)}")
    allowed = [name for name, info in METRICS.items() if info.needs in _TASK_NEEDS[task_type]]
    unfit = [name for name in names if name not in allowed]
    if unfit:
        raise ValueError(
            f"metric(s) {unfit} do not fit a {task_type!r} task; allowed for {task_type!r}: "
            f"{', '.join(allowed)}"
        )

    if task_type == "regression":
        labels, values = _regression(y_true, output)
        given = {"values": values}
    elif task_type == "classification":
        labels, predicted, scores = _classification(y_true, output)
        given = {"labels": predicted, "scores": scores}
    else:
        labels, predicted, scores = _binary(y_true, output, output_is_logit, threshold)
        given = {"labels": predicted, "scores": scores}
    if labels.size == 0:
        return {name: math.nan for name in names}
    return {
        name: float(METRICS[name].function(labels, given[METRICS[name].needs])) for name in names
    }


# ---------------------------------------------------------------------------------------------
# Joint metrics over tasks
# ---------------------------------------------------------------------------------------------


def _entries(entries, limit: int = 10) -> str:
    entries = list(entries)
    shown = ", ".join(str(entry) for entry in entries[:limit])
    return shown + (f" (and {len(entries) - limit} more)" if len(entries) > limit else "")


def _task_scores(scores: Mapping[str, float], name: str) -> dict[str, float]:
    values = {task: float(score) for task, score in scores.items()}
    if not values:
        raise ValueError(f"{name} needs the score of at least one task")
    bad = [task for task, value in values.items() if not math.isfinite(value)]
    if bad:
        raise ValueError(f"{name}: the score of task(s) {_entries(bad)} is NaN or inf")
    return values


def joint_mean(scores: Mapping[str, float]) -> float:
    """Unweighted mean of per-task scores, ``{task: score}``.

    Raises
    ------
    ValueError
        If ``scores`` is empty or a score is NaN (or inf); the message names the tasks.
    """
    return float(np.mean(list(_task_scores(scores, "joint_mean").values())))


def weighted_mean(scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted mean of per-task scores: ``sum_t w_t * score_t / sum_t w_t``.

    Parameters
    ----------
    scores : mapping task -> float
        Per-task scores; NaN is an error (naming the tasks), as in :func:`joint_mean`.
    weights : mapping task -> float
        A finite weight >= 0 for every task in ``scores``; weights of other tasks are ignored.
        The weights used are normalised to sum to 1.

    Raises
    ------
    ValueError
        If a task of ``scores`` has no weight, a weight is negative or not finite, or all the
        weights are zero.
    """
    values = _task_scores(scores, "weighted_mean")
    missing = [task for task in values if task not in weights]
    if missing:
        raise ValueError(f"weighted_mean: no weight for task(s) {_entries(missing)}")
    used = {task: float(weights[task]) for task in values}
    bad = [task for task, weight in used.items() if not math.isfinite(weight) or weight < 0]
    if bad:
        raise ValueError(f"weighted_mean: weight(s) of {_entries(bad)} negative or not finite")
    if sum(used.values()) == 0:
        raise ValueError("weighted_mean: all the weights are zero")
    return float(np.average(list(values.values()), weights=list(used.values())))


def delta_m(
    method: pd.Series,
    baseline: pd.Series,
    higher_is_better: pd.Series | Mapping,
) -> float:
    """Average relative change of a method over a baseline in percent, Delta_m.

    Following Maninis, Radosavovic and Kokkinos, "Attentive Single-Tasking of Multiple Tasks",
    CVPR 2019 (the usual joint metric of multitask learning against single-task baselines)::

        Delta_m = 100 / n * sum_i (-1)^{l_i} * (M_method,i - M_base,i) / M_base,i

    over the n entries i (e.g. (task, metric) pairs), where l_i = 1 when LOWER is better for
    entry i (an error such as MAE) and 0 otherwise, so that every improvement counts positive:
    Delta_m > 0 means the method is better than the baseline on average. The change is relative
    to the baseline value as it is (a negative baseline flips the sign of its term).

    Parameters
    ----------
    method, baseline : Series, same index (any order)
        The metric values of the method and of the baseline, indexed by entry, e.g. a
        MultiIndex (task, metric).
    higher_is_better : Series or mapping, entry -> bool
        For every entry of the index, whether higher is better (see :func:`higher_is_better`
        for registered metric names); other keys are ignored.

    Returns
    -------
    float
        Delta_m in percent.

    Raises
    ------
    ValueError
        If the index is empty or has duplicates, the two indexes differ, a value is NaN (or
        inf), a baseline value is zero, or an entry has no bool in ``higher_is_better``; the
        message names the entries.
    """
    if not isinstance(method, pd.Series) or not isinstance(baseline, pd.Series):
        raise TypeError("delta_m: method and baseline must be pandas Series")
    if method.empty:
        raise ValueError("delta_m needs at least one entry")
    for name, series in (("method", method), ("baseline", baseline)):
        duplicated = series.index[series.index.duplicated()].unique()
        if len(duplicated):
            raise ValueError(f"delta_m: duplicate entries in {name}: {_entries(duplicated)}")
    only_method = method.index.difference(baseline.index, sort=False)
    only_baseline = baseline.index.difference(method.index, sort=False)
    if len(only_method) or len(only_baseline):
        raise ValueError(
            "delta_m: method and baseline index differ; only in method: "
            f"[{_entries(only_method)}], only in baseline: [{_entries(only_baseline)}]"
        )
    entries = method.index
    values = method.astype(np.float64).to_numpy()
    base = baseline.reindex(entries).astype(np.float64).to_numpy()
    not_finite = ~np.isfinite(values) | ~np.isfinite(base)
    if not_finite.any():
        raise ValueError(f"delta_m: NaN or inf at {_entries(entries[not_finite])}")
    zero = base == 0
    if zero.any():
        raise ValueError(
            f"delta_m: zero baseline (relative change undefined) at {_entries(entries[zero])}"
        )
    missing = [entry for entry in entries if entry not in higher_is_better]
    if missing:
        raise ValueError(f"delta_m: higher_is_better lacks {_entries(missing)}")
    flags = [higher_is_better[entry] for entry in entries]
    not_bool = [
        entry for entry, flag in zip(entries, flags) if not isinstance(flag, (bool, np.bool_))
    ]
    if not_bool:
        raise ValueError(f"delta_m: higher_is_better is not a bool for {_entries(not_bool)}")
    signs = np.where(np.asarray(flags, dtype=bool), 1.0, -1.0)
    return float(100.0 * np.mean(signs * (values - base) / base))
