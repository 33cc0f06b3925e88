"""Published numbers the reports are printed beside.

``RESNET2D_TABLE_I``: test accuracy of the five methods on the 25 UCR tasks,
ResNet2D multitask TSC paper, Table I (60/20/20 split of TRAIN+TEST).
"""

from __future__ import annotations

import pandas as pd

METHODS = ("1NN-DTW", "ResNet1D", "ResNet2D", "ResNet1D w/ MTL", "ResNet2D w/ MTL")

# (group, task, 1NN-DTW, ResNet1D, ResNet2D, ResNet1D w/ MTL, ResNet2D w/ MTL)
_TABLE_I = [
    ("Cricket", "CricketX", 0.80, 0.75, 0.80, 0.75, 0.95),
    ("Cricket", "CricketY", 0.78, 0.78, 0.71, 0.68, 0.76),
    ("Cricket", "CricketZ", 0.78, 0.78, 0.77, 0.75, 0.94),
    ("UWaveGestureLibrary", "UWaveGestureLibraryAll", 0.91, 0.90, 0.98, 0.82, 0.97),
    ("UWaveGestureLibrary", "UWaveGestureLibraryX", 0.77, 0.83, 0.86, 0.79, 0.85),
    ("UWaveGestureLibrary", "UWaveGestureLibraryY", 0.64, 0.73, 0.76, 0.69, 0.80),
    ("UWaveGestureLibrary", "UWaveGestureLibraryZ", 0.70, 0.78, 0.77, 0.75, 0.78),
    ("AllGestureWiimote", "AllGestureWiimoteX", 0.81, 0.79, 0.76, 0.69, 0.74),
    ("AllGestureWiimote", "AllGestureWiimoteY", 0.89, 0.90, 0.77, 0.74, 0.81),
    ("AllGestureWiimote", "AllGestureWiimoteZ", 0.74, 0.70, 0.64, 0.66, 0.68),
    ("DodgerLoop", "DodgerLoopDay", 0.53, 0.41, 0.53, 0.41, 0.50),
    ("DodgerLoop", "DodgerLoopGame", 0.97, 0.88, 0.97, 0.97, 0.94),
    ("DodgerLoop", "DodgerLoopWeekend", 1.00, 1.00, 1.00, 0.97, 1.00),
    ("SemgHand", "SemgHandGenderCh2", 0.84, 0.84, 0.86, 0.92, 0.99),
    ("SemgHand", "SemgHandMovementCh2", 0.62, 0.49, 0.65, 0.58, 0.83),
    ("SemgHand", "SemgHandSubjectCh2", 0.77, 0.74, 0.89, 0.83, 0.98),
    ("GestureMidAir", "GestureMidAirD1", 0.59, 0.54, 0.62, 0.50, 0.57),
    ("GestureMidAir", "GestureMidAirD2", 0.60, 0.47, 0.56, 0.60, 0.63),
    ("GestureMidAir", "GestureMidAirD3", 0.34, 0.22, 0.24, 0.31, 0.35),
    ("ECG", "ECG200", 0.82, 0.93, 0.90, 0.88, 0.93),
    ("ECG", "ECG5000", 0.94, 0.95, 0.95, 0.94, 0.95),
    ("ECG", "ECGFiveDays", 0.99, 1.00, 1.00, 1.00, 1.00),
    ("ECG", "NonInvasiveFetalECGThorax1", 0.80, 0.94, 0.89, 0.90, 0.88),
    ("ECG", "NonInvasiveFetalECGThorax2", 0.87, 0.94, 0.93, 0.92, 0.93),
    ("ECG", "TwoLeadECG", 1.00, 1.00, 1.00, 1.00, 1.00),
]

# The paper's printed average ranks (last row of Table I).
RESNET2D_TABLE_I_AVERAGE_RANKS = {
    "1NN-DTW": 3.20,
    "ResNet1D": 3.06,
    "ResNet2D": 2.70,
    "ResNet1D w/ MTL": 3.86,
    "ResNet2D w/ MTL": 2.18,
}


def resnet2d_table_i() -> pd.DataFrame:
    """Table I as a frame indexed by (group, task) with one column per method."""
    frame = pd.DataFrame(_TABLE_I, columns=["group", "task", *METHODS])
    return frame.set_index(["group", "task"])
