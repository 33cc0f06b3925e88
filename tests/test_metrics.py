"""Metrics: accuracy, per-task accuracy, average ranks (ResNet2D paper Table I), MSE, MAE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsmtl.evaluation.metrics import accuracy, average_ranks, mae, mse, per_task_accuracy

METHODS = ["1NN-DTW", "ResNet1D", "ResNet2D", "ResNet1D w/ MTL", "ResNet2D w/ MTL"]

# ResNet2D paper, Table I: the accuracies and, in brackets there, the ranks the paper reports.
TABLE_I = {
    "CricketX": ([0.80, 0.75, 0.80, 0.75, 0.95], [2.5, 4.5, 2.5, 4.5, 1.0]),
    "CricketY": ([0.78, 0.78, 0.71, 0.68, 0.76], [1.5, 1.5, 4.0, 5.0, 3.0]),
    "CricketZ": ([0.78, 0.78, 0.77, 0.75, 0.94], [2.5, 2.5, 4.0, 5.0, 1.0]),
    "UWaveGestureLibraryAll": ([0.91, 0.90, 0.98, 0.82, 0.97], [3.0, 4.0, 1.0, 5.0, 2.0]),
    "UWaveGestureLibraryX": ([0.77, 0.83, 0.86, 0.79, 0.85], [5.0, 3.0, 1.0, 4.0, 2.0]),
    "UWaveGestureLibraryY": ([0.64, 0.73, 0.76, 0.69, 0.80], [5.0, 3.0, 2.0, 4.0, 1.0]),
    "UWaveGestureLibraryZ": ([0.70, 0.78, 0.77, 0.75, 0.78], [5.0, 1.5, 3.0, 4.0, 1.5]),
    "AllGestureWiimoteX": ([0.81, 0.79, 0.76, 0.69, 0.74], [1.0, 2.0, 3.0, 5.0, 4.0]),
    "AllGestureWiimoteY": ([0.89, 0.90, 0.77, 0.74, 0.81], [2.0, 1.0, 4.0, 5.0, 3.0]),
    "AllGestureWiimoteZ": ([0.74, 0.70, 0.64, 0.66, 0.68], [1.0, 2.0, 5.0, 4.0, 3.0]),
    "DodgerLoopDay": ([0.53, 0.41, 0.53, 0.41, 0.50], [1.5, 4.5, 1.5, 4.5, 3.0]),
    "DodgerLoopGame": ([0.97, 0.88, 0.97, 0.97, 0.94], [2.0, 5.0, 2.0, 2.0, 4.0]),
    "DodgerLoopWeekend": ([1.00, 1.00, 1.00, 0.97, 1.00], [2.5, 2.5, 2.5, 5.0, 2.5]),
    "SemgHandGenderCh2": ([0.84, 0.84, 0.86, 0.92, 0.99], [4.5, 4.5, 3.0, 2.0, 1.0]),
    "SemgHandMovementCh2": ([0.62, 0.49, 0.65, 0.58, 0.83], [3.0, 5.0, 2.0, 4.0, 1.0]),
    "SemgHandSubjectCh2": ([0.77, 0.74, 0.89, 0.83, 0.98], [4.0, 5.0, 2.0, 3.0, 1.0]),
    "GestureMidAirD1": ([0.59, 0.54, 0.62, 0.50, 0.57], [2.0, 4.0, 1.0, 5.0, 3.0]),
    "GestureMidAirD2": ([0.60, 0.47, 0.56, 0.60, 0.63], [2.5, 5.0, 4.0, 2.5, 1.0]),
    "GestureMidAirD3": ([0.34, 0.22, 0.24, 0.31, 0.35], [2.0, 5.0, 4.0, 3.0, 1.0]),
    "ECG200": ([0.82, 0.93, 0.90, 0.88, 0.93], [5.0, 1.5, 3.0, 4.0, 1.5]),
    "ECG5000": ([0.94, 0.95, 0.95, 0.94, 0.95], [4.5, 2.0, 2.0, 4.5, 2.0]),
    "ECGFiveDays": ([0.99, 1.00, 1.00, 1.00, 1.00], [5.0, 2.5, 2.5, 2.5, 2.5]),
    "NonInvasiveFetalECGThorax1": ([0.80, 0.94, 0.89, 0.90, 0.88], [5.0, 1.0, 3.0, 2.0, 4.0]),
    "NonInvasiveFetalECGThorax2": ([0.87, 0.94, 0.93, 0.92, 0.93], [5.0, 1.0, 2.5, 4.0, 2.5]),
    "TwoLeadECG": ([1.00, 1.00, 1.00, 1.00, 1.00], [3.0, 3.0, 3.0, 3.0, 3.0]),
}
TABLE_I_AVERAGE_RANK = [3.20, 3.06, 2.70, 3.86, 2.18]


def _table(column: int) -> pd.DataFrame:
    return pd.DataFrame({task: values[column] for task, values in TABLE_I.items()}, index=METHODS).T


def test_accuracy_and_per_task_accuracy():
    assert accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    assert accuracy(np.array(["a", "b"]), np.array(["b", "b"])) == 0.5
    scores = per_task_accuracy({"x": ([0, 1], [0, 1]), "y": ([0, 1, 1, 1, 0], [1, 1, 1, 0, 0])})
    assert scores == {"x": 1.0, "y": 0.6}
    with pytest.raises(ValueError, match="shape"):
        accuracy([1, 2], [1])


def test_average_ranks_reproduce_table_i_rows():
    ranks, _ = average_ranks(_table(0).loc[["CricketX", "DodgerLoopGame", "TwoLeadECG"]])
    assert ranks.loc["CricketX"].tolist() == [2.5, 4.5, 2.5, 4.5, 1.0]
    assert ranks.loc["DodgerLoopGame"].tolist() == [2.0, 5.0, 2.0, 2.0, 4.0]  # three-way tie for 1st-3rd
    assert ranks.loc["TwoLeadECG"].tolist() == [3.0] * 5


def test_average_ranks_reproduce_all_of_table_i():
    ranks, average = average_ranks(_table(0))
    pd.testing.assert_frame_equal(ranks, _table(1))
    assert average.round(2).tolist() == TABLE_I_AVERAGE_RANK
    assert average.idxmin() == "ResNet2D w/ MTL"


def test_average_ranks_by_hand_and_lower_is_better():
    table = pd.DataFrame({"A": [0.9, 0.5, 0.7], "B": [0.8, 0.5, 0.9], "C": [0.1, 0.6, 0.9]}, index=["t1", "t2", "t3"])
    ranks, average = average_ranks(table)
    # t1: A=1, B=2, C=3; t2: C=1, A=B=2.5; t3: B=C=1.5, A=3
    assert ranks.loc["t2"].tolist() == [2.5, 2.5, 1.0]
    assert average.tolist() == pytest.approx([(1 + 2.5 + 3) / 3, (2 + 2.5 + 1.5) / 3, (3 + 1 + 1.5) / 3])
    errors_ranks, _ = average_ranks(table, higher_is_better=False)
    assert errors_ranks.loc["t1"].tolist() == [3.0, 2.0, 1.0]


def test_average_ranks_rejects_missing_scores():
    table = pd.DataFrame({"A": [0.9, np.nan], "B": [0.8, 0.7]}, index=["t1", "t2"])
    with pytest.raises(ValueError, match=r"\(t2, A\)"):
        average_ranks(table)


def test_mse_and_mae():
    y_true = np.array([[1.0, 2.0], [3.0, np.nan]])
    y_pred = np.array([[2.0, 2.0], [1.0, 5.0]])
    assert mse(y_true, y_pred, ignore_nan=True) == pytest.approx((1 + 0 + 4) / 3)
    assert mae(y_true, y_pred, ignore_nan=True) == pytest.approx((1 + 0 + 2) / 3)
    assert np.isnan(mse(y_true, y_pred))
    assert mae([0.0, 0.0], [3.0, -1.0]) == 2.0
    with pytest.raises(ValueError, match="shape"):
        mse([1.0], [1.0, 2.0])
