"""Per-task and joint metrics of multitask learning, checked against hand computations."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from tsmtl.evaluation.metrics import (
    METRICS,
    MetricInfo,
    auprc,
    auroc,
    delta_m,
    f1_macro,
    f1_weighted,
    higher_is_better,
    joint_mean,
    precision_macro,
    recall_macro,
    task_metrics,
    weighted_mean,
)

CLASSIFICATION_METRICS = ["accuracy", "precision", "recall", "f1", "auroc", "auprc"]

# A 3-class example: rows are probabilities (they sum to 1), labels 0, 0, 1, 1, 2, 2.
Y3 = np.array([0, 0, 1, 1, 2, 2])
P3 = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.3, 0.4, 0.3],
        [0.2, 0.6, 0.2],
        [0.5, 0.3, 0.2],
        [0.1, 0.3, 0.6],
        [0.4, 0.2, 0.4],
    ]
)
# One-vs-rest AUROC per class, counting (positive, negative) pairs with the positive scoring
# higher (a tie counts 1/2), out of 2 positives x 4 negatives = 8 pairs:
# class 0: positives .7, .3 vs negatives .2 .5 .1 .4 -> 4 + 2         = 6
# class 1: positives .6, .3 vs negatives .2 .4 .3 .2 -> 4 + (1+0+.5+1) = 6.5
# class 2: positives .6, .4 vs negatives .1 .3 .2 .2 -> 4 + 4          = 8
AUROC3 = (6 / 8 + 6.5 / 8 + 8 / 8) / 3
# Average precision per class, AP = sum_n (R_n - R_{n-1}) P_n over descending thresholds:
# class 0: .7(+) P=1 R=1/2; .5(-), .4(-); .3(+) P=2/4 R=1       -> 1/2*1 + 1/2*1/2 = 3/4
# class 1: .6(+) P=1 R=1/2; .4(-); .3 holds (+) and (-): P=2/4 R=1 -> 1/2*1 + 1/2*1/2 = 3/4
# class 2: .6(+) P=1 R=1/2; .4(+) P=1 R=1                          -> 1
AUPRC3 = (3 / 4 + 3 / 4 + 1) / 3


def _concordant_pairs(y_true, y_score) -> float:
    """AUROC by brute force: fraction of (positive, negative) pairs ordered right, ties 1/2."""
    positives = [s for t, s in zip(y_true, y_score) if t == 1]
    negatives = [s for t, s in zip(y_true, y_score) if t == 0]
    wins = sum(
        1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(positives, negatives)
    )
    return wins / (len(positives) * len(negatives))


# ---------------------------------------------------------------------------------------------
# precision / recall / F1
# ---------------------------------------------------------------------------------------------


def test_macro_precision_recall_f1_by_hand():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 1, 0, 1, 2, 2]
    # class 0: predicted at 0, 2 (both right)  -> P = 2/2; true at 0, 1, 2 -> R = 2/3
    # class 1: predicted at 1, 3 (3 right)     -> P = 1/2; true at 3, 4    -> R = 1/2
    # class 2: predicted at 4, 5 (5 right)     -> P = 1/2; true at 5       -> R = 1/1
    precision = [1, 1 / 2, 1 / 2]
    recall = [2 / 3, 1 / 2, 1]
    f1 = [2 * p * r / (p + r) for p, r in zip(precision, recall)]  # 4/5, 1/2, 2/3
    assert precision_macro(y_true, y_pred) == pytest.approx(np.mean(precision))  # 2/3
    assert recall_macro(y_true, y_pred) == pytest.approx(np.mean(recall))  # 13/18
    assert f1_macro(y_true, y_pred) == pytest.approx(np.mean(f1))
    assert f1_macro(y_true, y_pred) == pytest.approx((4 / 5 + 1 / 2 + 2 / 3) / 3)
    # weighted F1: each class's F1 times its share of y_true (3, 2 and 1 of 6 cases)
    assert f1_weighted(y_true, y_pred) == pytest.approx((3 * 4 / 5 + 2 * 1 / 2 + 1 * 2 / 3) / 6)
    with pytest.raises(ValueError, match="f1_weighted of zero predictions is undefined"):
        f1_weighted([], [])


def test_macro_metrics_count_a_never_predicted_class_as_zero():
    # class 1 is never predicted: its precision is 0 (zero_division=0), class 0 has 1/2
    assert precision_macro([0, 1], [0, 0]) == pytest.approx((1 / 2 + 0) / 2)
    assert recall_macro([0, 1], [0, 0]) == pytest.approx((1 + 0) / 2)
    # class 0: P = 1/2, R = 1 -> F1 = 2/3; class 1: 0
    assert f1_macro([0, 1], [0, 0]) == pytest.approx((2 / 3 + 0) / 2)


def test_macro_metrics_reject_bad_shapes():
    with pytest.raises(ValueError, match="shape|\\(N,\\)"):
        precision_macro([0, 1], [0])
    with pytest.raises(ValueError, match="zero predictions"):
        recall_macro([], [])


# ---------------------------------------------------------------------------------------------
# AUROC / AUPRC
# ---------------------------------------------------------------------------------------------


def test_binary_auroc_counts_concordant_pairs():
    y_true = [0, 0, 1, 1, 0, 1]
    y_score = [0.1, 0.4, 0.35, 0.8, 0.6, 0.6]
    # positives .35, .8, .6 vs negatives .1, .4, .6:
    # .35 beats .1 only -> 1; .8 beats all -> 3; .6 beats .1, .4 and ties .6 -> 2.5
    assert auroc(y_true, y_score) == pytest.approx(6.5 / 9)
    assert _concordant_pairs(y_true, y_score) == pytest.approx(6.5 / 9)


def test_binary_auprc_is_the_step_sum():
    y_true = [1, 0, 1, 1, 0]
    y_score = [0.9, 0.8, 0.7, 0.4, 0.3]
    # descending: .9(+) P=1 R=1/3 | .8(-) P=1/2 R=1/3 | .7(+) P=2/3 R=2/3 | .4(+) P=3/4 R=1 | .3(-)
    # AP = 1/3*1 + 0 + 1/3*2/3 + 1/3*3/4 + 0 = 29/36
    assert auprc(y_true, y_score) == pytest.approx(29 / 36)


def test_multiclass_auroc_and_auprc_are_one_vs_rest_macro():
    assert auroc(Y3, P3) == pytest.approx(AUROC3)
    assert auprc(Y3, P3) == pytest.approx(AUPRC3)
    # the per-class AUROCs by brute force agree with the hand counts
    per_class = [_concordant_pairs(Y3 == k, P3[:, k]) for k in range(3)]
    assert per_class == pytest.approx([6 / 8, 6.5 / 8, 1.0])


def test_multiclass_averages_over_present_classes_only():
    # a 4th class that never occurs in y_true: its column must not enter the average
    scores = np.column_stack([P3, np.zeros(len(P3))])
    assert auroc(Y3, scores) == pytest.approx(AUROC3)
    assert auprc(Y3, scores) == pytest.approx(AUPRC3)
    # two classes of three present: class 0 = .7,.3 vs .2,.5 -> (2 + 1)/4; class 1 = .6,.3 vs
    # .2,.4 -> (2 + 1)/4
    assert auroc(Y3[:4], P3[:4]) == pytest.approx(3 / 4)


def test_auroc_and_auprc_are_nan_when_undefined():
    assert math.isnan(auroc([1, 1, 1], [0.2, 0.5, 0.9]))  # one class only
    assert math.isnan(auroc([0, 0], [0.2, 0.5]))
    assert math.isnan(auprc([0, 0, 0], [0.2, 0.5, 0.9]))  # no positive
    assert auprc([1, 1], [0.2, 0.5]) == 1.0  # all positive: precision is 1 at every threshold
    assert math.isnan(auroc([2, 2], P3[:2]))  # multiclass, one class present
    assert auprc([2, 2], P3[:2]) == 1.0
    assert math.isnan(auroc([], []))
    assert math.isnan(auprc(np.array([], dtype=int), np.zeros((0, 3))))


def test_auroc_and_auprc_reject_bad_labels():
    with pytest.raises(ValueError, match="0 and 1"):
        auroc([0, 2], [0.1, 0.9])
    with pytest.raises(ValueError, match="0..2"):
        auprc([0, 3], P3[:2])
    with pytest.raises(ValueError, match="NaN"):
        auroc([0, 1], [0.1, np.nan])


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


def test_registry_and_higher_is_better():
    assert list(METRICS) == [*CLASSIFICATION_METRICS, "mse", "mae"]
    assert {name for name, info in METRICS.items() if info.needs == "values"} == {"mse", "mae"}
    assert METRICS["auroc"].needs == "scores" and METRICS["f1"].function is f1_macro
    assert all(higher_is_better(name) for name in CLASSIFICATION_METRICS)
    assert not higher_is_better("mse") and not higher_is_better("mae")
    with pytest.raises(ValueError, match="rmse.*accuracy.*mae"):
        higher_is_better("rmse")
    with pytest.raises(dataclasses.FrozenInstanceError):
        METRICS["mse"].higher_is_better = True
    with pytest.raises(ValueError, match="needs"):
        MetricInfo("x", f1_macro, "probabilities", True)


# ---------------------------------------------------------------------------------------------
# task_metrics
# ---------------------------------------------------------------------------------------------


def test_classification_with_probabilities_is_taken_as_is():
    metrics = task_metrics("classification", Y3, P3, CLASSIFICATION_METRICS)
    # argmax of P3 rows: 0, 1, 1, 0, 2, 0 -> right at rows 0, 2, 4
    assert metrics["accuracy"] == pytest.approx(3 / 6)
    # class 0: predicted at 0, 3, 5 (0 right) P=1/3, R=1/2; class 1: at 1, 2 (2 right) P=1/2,
    # R=1/2; class 2: at 4 (right) P=1, R=1/2
    assert metrics["precision"] == pytest.approx((1 / 3 + 1 / 2 + 1) / 3)
    assert metrics["recall"] == pytest.approx(1 / 2)
    assert metrics["auroc"] == pytest.approx(AUROC3)
    assert metrics["auprc"] == pytest.approx(AUPRC3)
    assert list(metrics) == CLASSIFICATION_METRICS


def test_classification_does_not_softmax_probabilities():
    probabilities = np.array([[0.5, 0.5, 0.0], [0.1, 0.3, 0.6], [0.4, 0.0, 0.6]])
    y = [0, 1, 2]
    # class 0: .5 vs .1, .4 -> 2/2; class 1: .3 vs .5, .0 -> 1/2; class 2: .6 vs .0, .6 -> 1.5/2
    expected = (1 + 1 / 2 + 3 / 4) / 3
    assert task_metrics("classification", y, probabilities, ["auroc"])["auroc"] == expected
    # after a softmax, class 2's positive (.4224) would lose to row 1 (.4260) instead of tying
    # with row 2's .6: (1 + 1/2 + 1/2) / 3 = 2/3 -- so a needless softmax would show
    assert auroc(y, _softmax(probabilities)) == pytest.approx(2 / 3)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_classification_logits_and_probabilities_agree():
    logits = np.array([[0.0, 1.0], [5.0, 5.5], [2.0, -1.0], [-3.0, -3.5]])
    y = [1, 0, 0, 1]
    from_logits = task_metrics("classification", y, logits, CLASSIFICATION_METRICS)
    from_probabilities = task_metrics("classification", y, _softmax(logits), CLASSIFICATION_METRICS)
    assert from_logits == pytest.approx(from_probabilities)
    # softmax column 1 = sigmoid(z1 - z0): .731, .622, .047, .378 -> class 1 positives .731,
    # .378 vs negatives .622, .047 -> 3/4 pairs right (class 0 is its mirror image)
    assert from_logits["auroc"] == pytest.approx(3 / 4)
    # the raw logits rank differently -- class 1: 1, -3.5 vs 5.5, -1 -> 1/4; class 0: 5, 2 vs
    # 0, -3 -> 4/4 -- so skipping the softmax would show
    assert auroc(y, logits) == pytest.approx((1 / 4 + 1) / 2)


def test_binary_logit_and_probability_paths_agree():
    y = np.array([0, 1, 1, 0, 1, np.nan])
    logits = np.array([-2.0, 0.0, 1.5, 0.3, -0.4, 7.0])
    probabilities = 1 / (1 + np.exp(-logits))  # .119, .5, .818, .574, .401, .999
    names = CLASSIFICATION_METRICS
    from_logits = task_metrics("binary", y, logits, names, output_is_logit=True)
    from_probabilities = task_metrics("binary", y, probabilities, names)
    assert from_logits == pytest.approx(from_probabilities)
    # prediction = p >= .5: 0, 1, 1, 1, 0 vs labels 0, 1, 1, 0, 1 -> 3/5 right
    assert from_logits["accuracy"] == pytest.approx(3 / 5)
    # positives .5, .818, .401 vs negatives .119, .574 -> 1 + 2 + 1 = 4 of 6 pairs
    assert from_logits["auroc"] == pytest.approx(4 / 6)
    # probabilities outside [0, 1] without the flag are an error, not silently used
    with pytest.raises(ValueError, match="output_is_logit"):
        task_metrics("binary", y, logits, ["accuracy"])


def test_binary_threshold():
    y = [0, 1, 1, 0]
    p = [0.2, 0.6, 0.8, 0.65]
    assert task_metrics("binary", y, p, ["accuracy"])["accuracy"] == pytest.approx(3 / 4)
    # at .7 the .6 and .65 turn negative: 0, 0, 1, 0 -> 3/4 right again but recall of 1 is 1/2
    at_07 = task_metrics("binary", y, p, ["accuracy", "recall"], threshold=0.7)
    assert at_07 == pytest.approx({"accuracy": 3 / 4, "recall": (1 + 1 / 2) / 2})
    at_05 = task_metrics("binary", y, p, ["recall"])
    assert at_05["recall"] == pytest.approx((1 / 2 + 1) / 2)


def test_missing_classification_labels_are_skipped():
    y = np.array([0, -1, 1, np.nan, 2, 1, -5])
    logits = np.array(
        [[2.0, 0.0, 0.0], [9, 0, 0], [0, 1, 0], [0, 0, 9], [0, 3, 1], [1, 0, 0], [0, 0, 1]]
    )
    kept = [0, 2, 4, 5]
    result = task_metrics("classification", y, logits, CLASSIFICATION_METRICS)
    dropped = task_metrics("classification", y[kept], logits[kept], CLASSIFICATION_METRICS)
    assert result == pytest.approx(dropped)
    # kept: labels 0, 1, 2, 1; argmax 0, 1, 1, 0 -> right at 0 and 1
    assert result["accuracy"] == pytest.approx(2 / 4)


def test_missing_binary_labels_are_skipped():
    y = np.array([1.0, np.nan, 0.0, 1.0, np.nan])
    p = np.array([0.9, 0.1, 0.4, 0.3, 0.8])
    result = task_metrics("binary", y, p, CLASSIFICATION_METRICS)
    kept = [0, 2, 3]
    dropped = task_metrics("binary", y[kept], p[kept], CLASSIFICATION_METRICS)
    assert result == pytest.approx(dropped)
    # kept: 1 (.9), 0 (.4), 1 (.3): predictions 1, 0, 0 -> 2/3; AUROC: .9 > .4, .3 < .4 -> 1/2
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["auroc"] == pytest.approx(1 / 2)


def test_missing_regression_targets_are_skipped_element_by_element():
    y = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [0.0, 2.0, np.nan]])
    prediction = np.array([[2.0, 100.0, 1.0], [50.0, 50.0, 50.0], [0.0, 5.0, -7.0]])
    result = task_metrics("regression", y, prediction, ["mse", "mae"])
    # kept errors: 1, -2, 0, 3
    assert result == pytest.approx({"mse": (1 + 4 + 0 + 9) / 4, "mae": (1 + 2 + 0 + 3) / 4})
    one_d = task_metrics("regression", [1.0, np.nan, 4.0], [0.0, 9.0, 6.0], ["mae"])
    assert one_d == pytest.approx({"mae": (1 + 2) / 2})


def test_no_labelled_sample_gives_nan_for_every_metric():
    result = task_metrics("classification", [-1, np.nan], P3[:2], ["accuracy", "auroc"])
    assert list(result) == ["accuracy", "auroc"] and all(map(math.isnan, result.values()))
    result = task_metrics("binary", [np.nan], [0.3], ["f1"])
    assert math.isnan(result["f1"])
    result = task_metrics("regression", np.full((2, 3), np.nan), np.zeros((2, 3)), ["mse", "mae"])
    assert all(map(math.isnan, result.values()))


def test_task_metrics_reject_metrics_that_do_not_fit_and_bad_input():
    with pytest.raises(ValueError, match=r"'classification'.*accuracy.*auprc") as error:
        task_metrics("classification", Y3, P3, ["accuracy", "mse"])
    assert "mse" in str(error.value)
    with pytest.raises(ValueError, match=r"'regression'.*mse, mae"):
        task_metrics("regression", [1.0], [1.0], ["auroc"])
    with pytest.raises(ValueError, match="'binary'"):
        task_metrics("binary", [1], [0.5], ["mae"])
    with pytest.raises(ValueError, match="unknown metric"):
        task_metrics("binary", [1], [0.5], ["rmse"])
    with pytest.raises(ValueError, match="unknown task type"):
        task_metrics("forecasting", [1.0], [1.0], ["mse"])
    with pytest.raises(TypeError, match="sequence"):
        task_metrics("regression", [1.0], [1.0], "mse")
    with pytest.raises(ValueError, match="0..2"):
        task_metrics("classification", [0, 3], P3[:2], ["accuracy"])
    with pytest.raises(ValueError, match="0, 1, or NaN"):
        task_metrics("binary", [0, -1], [0.2, 0.3], ["accuracy"])
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        task_metrics("classification", [0, 1], [0.2, 0.3], ["accuracy"])
    with pytest.raises(ValueError, match="shape"):
        task_metrics("regression", np.zeros((2, 3)), np.zeros((2, 2)), ["mse"])


# ---------------------------------------------------------------------------------------------
# Joint metrics
# ---------------------------------------------------------------------------------------------


def test_joint_mean():
    assert joint_mean({"a": 0.8, "b": 0.4, "c": 0.6}) == pytest.approx((0.8 + 0.4 + 0.6) / 3)
    with pytest.raises(ValueError, match="b, c"):
        joint_mean({"a": 0.8, "b": float("nan"), "c": np.nan})
    with pytest.raises(ValueError, match="at least one"):
        joint_mean({})


def test_weighted_mean_normalises_the_weights():
    scores = {"a": 0.8, "b": 0.4}
    # (2 * .8 + 6 * .4) / (2 + 6) = (1.6 + 2.4) / 8 = .5
    assert weighted_mean(scores, {"a": 2, "b": 6}) == pytest.approx(0.5)
    assert weighted_mean(scores, {"a": 0.25, "b": 0.75}) == pytest.approx(0.5)
    assert weighted_mean(scores, {"a": 1, "b": 1}) == pytest.approx(joint_mean(scores))
    assert weighted_mean(scores, {"a": 1, "b": 0, "z": 5}) == pytest.approx(0.8)  # z: no score


def test_weighted_mean_rejects_bad_weights():
    scores = {"a": 0.8, "b": 0.4}
    with pytest.raises(ValueError, match="no weight.*b"):
        weighted_mean(scores, {"a": 1.0})
    with pytest.raises(ValueError, match="of b negative"):
        weighted_mean(scores, {"a": 1.0, "b": -0.5})
    with pytest.raises(ValueError, match="zero"):
        weighted_mean(scores, {"a": 0.0, "b": 0.0})
    with pytest.raises(ValueError, match="a"):
        weighted_mean({"a": np.nan, "b": 0.4}, {"a": 1.0, "b": 1.0})


def _entries(*pairs):
    return pd.MultiIndex.from_tuples(pairs, names=["task", "metric"])


def test_delta_m_by_hand_two_tasks():
    index = _entries(("gesture", "accuracy"), ("forecast", "mae"))
    method = pd.Series([0.90, 1.5], index=index)
    baseline = pd.Series([0.80, 2.0], index=index)
    lower_is_worse = {("gesture", "accuracy"): True, ("forecast", "mae"): False}
    # accuracy: +(.90 - .80) / .80 = +.125; MAE: -(1.5 - 2.0) / 2.0 = +.25 (lower error = better)
    # Delta_m = 100 / 2 * (.125 + .25) = 18.75
    assert delta_m(method, baseline, lower_is_worse) == pytest.approx(18.75)
    # the same with a bool Series, and with the baseline in another order
    flags = pd.Series([True, False], index=index)
    assert delta_m(method, baseline.iloc[::-1], flags) == pytest.approx(18.75)


def test_delta_m_sign_convention():
    index = _entries(("forecast", "mae"))
    flags = {("forecast", "mae"): False}
    better = delta_m(pd.Series([1.0], index=index), pd.Series([2.0], index=index), flags)
    worse = delta_m(pd.Series([3.0], index=index), pd.Series([2.0], index=index), flags)
    assert better == pytest.approx(50.0)  # MAE halved: +50 %
    assert worse == pytest.approx(-50.0)  # MAE up by half: -50 %
    # the same numbers as an accuracy flip the sign
    as_accuracy = {("forecast", "mae"): True}
    flipped = delta_m(pd.Series([1.0], index=index), pd.Series([2.0], index=index), as_accuracy)
    assert flipped == pytest.approx(-50.0)
    same = pd.Series([0.7, 3.0], index=_entries(("a", "f1"), ("b", "mse")))
    assert delta_m(same, same, {("a", "f1"): True, ("b", "mse"): False}) == 0.0


def test_delta_m_rejects_bad_input_naming_the_entries():
    index = _entries(("a", "accuracy"), ("b", "mae"))
    flags = {("a", "accuracy"): True, ("b", "mae"): False}
    method = pd.Series([0.9, 1.0], index=index)
    with pytest.raises(ValueError, match=r"only in method: \[\('b', 'mae'\)\]"):
        delta_m(method, pd.Series([0.8], index=index[:1]), flags)
    with pytest.raises(ValueError, match=r"NaN.*\('b', 'mae'\)"):
        delta_m(method, pd.Series([0.8, np.nan], index=index), flags)
    with pytest.raises(ValueError, match=r"zero baseline.*\('a', 'accuracy'\)"):
        delta_m(method, pd.Series([0.0, 2.0], index=index), flags)
    with pytest.raises(ValueError, match=r"lacks \('b', 'mae'\)"):
        delta_m(method, pd.Series([0.8, 2.0], index=index), {("a", "accuracy"): True})
    with pytest.raises(ValueError, match="not a bool"):
        not_bools = {("a", "accuracy"): "yes", ("b", "mae"): False}
        delta_m(method, pd.Series([0.8, 2.0], index=index), not_bools)
    with pytest.raises(ValueError, match="at least one"):
        delta_m(pd.Series([], dtype=float), pd.Series([], dtype=float), {})
