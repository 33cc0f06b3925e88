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


# ---------------------------------------------------------------------------------------------
# ForeClassNet (Coulson et al.), Tables 1-11. Keys: (column, metric) where column is the input
# the model was trained on ("observed": the paper's asterisked columns, "full": the full
# series), or the test set ("a", "b", "c" of Secs. 4.5-4.6), or for Table 11 the training set
# ("all": the 80,000 series, "subset": the balanced 10,000). NA cells are left out. The paper's
# "F1" of the two-class tables is read as the macro F1 (on balanced classes it equals the
# weighted F1 to two decimals).
FORECLASSNET_METHODS = ("ForeClassNet", "TEASER", "Inception", "MR-Hydra", "HC2")

_BINARY = (("observed", "accuracy"), ("observed", "f1_macro"), ("full", "accuracy"), ("full", "f1_macro"))
_THREE = tuple((inputs, m) for inputs in ("observed", "full") for m in ("accuracy", "f1_macro", "f1_weighted"))
_A = (("a", "accuracy"), ("a", "f1_macro"))
_BAC = tuple((s, m) for s in ("b", "a", "c") for m in ("accuracy", "f1_macro"))
_STOCKS = (("all", "accuracy"), ("all", "f1_macro"), ("subset", "accuracy"), ("subset", "f1_macro"))

_FORECLASSNET = {
    "1": (_BINARY, {"ForeClassNet": (1.00, 1.00, None, None), "TEASER": (0.86, 0.86, None, None), "Inception": (0.98, 0.98, 0.99, 0.99), "MR-Hydra": (0.88, 0.88, 0.91, 0.91), "HC2": (0.94, 0.94, 0.96, 0.96)}),
    "2": (_BINARY, {"ForeClassNet": (1.00, 1.00, None, None), "TEASER": (0.75, 0.75, None, None), "Inception": (0.91, 0.91, 0.97, 0.97), "MR-Hydra": (0.78, 0.78, 0.81, 0.81), "HC2": (0.88, 0.88, 0.89, 0.89)}),
    "3": (_BINARY, {"ForeClassNet": (0.81, 0.81, None, None), "TEASER": (0.64, 0.64, None, None), "Inception": (0.79, 0.79, 0.82, 0.82), "MR-Hydra": (0.68, 0.68, 0.70, 0.70), "HC2": (0.84, 0.84, 0.83, 0.83)}),
    "4": (_THREE, {"ForeClassNet": (0.92, 0.93, 0.92, None, None, None), "TEASER": (0.46, 0.46, 0.46, None, None, None), "Inception": (0.88, 0.88, 0.88, 0.91, 0.91, 0.91), "MR-Hydra": (0.77, 0.77, 0.77, 0.82, 0.81, 0.82), "HC2": (0.91, 0.91, 0.91, 0.93, 0.93, 0.93)}),
    "5": (_A, {"ForeClassNet": (0.49, 0.33), "TEASER": (0.70, 0.70), "Inception": (0.48, 0.35), "MR-Hydra": (0.77, 0.77), "HC2": (0.75, 0.75)}),
    "6": (_BAC, {"ForeClassNet": (0.99, 0.99, 0.99, 0.99, 0.50, 0.35), "TEASER": (0.74, 0.74, 0.71, 0.71, 0.72, 0.72), "Inception": (0.91, 0.91, 0.91, 0.91, 0.61, 0.57), "MR-Hydra": (0.76, 0.76, 0.75, 0.75, 0.70, 0.70), "HC2": (0.86, 0.86, 0.82, 0.82, 0.79, 0.79)}),
    "7": (_A, {"ForeClassNet": (0.48, 0.32), "TEASER": (0.75, 0.75), "Inception": (0.61, 0.56), "MR-Hydra": (0.79, 0.79), "HC2": (0.84, 0.84)}),
    "8": (_BAC, {"ForeClassNet": (0.97, 0.97, 0.95, 0.95, 0.94, 0.94), "TEASER": (0.74, 0.74, 0.76, 0.76, 0.75, 0.75), "Inception": (0.92, 0.91, 0.91, 0.91, 0.92, 0.92), "MR-Hydra": (0.79, 0.79, 0.78, 0.78, 0.78, 0.78), "HC2": (0.86, 0.86, 0.86, 0.86, 0.86, 0.86)}),
    "9": (_THREE, {"ForeClassNet": (0.96, 0.62, 0.95, None, None, None), "TEASER": (0.96, 0.61, 0.95, None, None, None), "Inception": (0.96, 0.64, 0.95, 0.95, 0.63, 0.95), "MR-Hydra": (0.96, 0.64, 0.95, 0.96, 0.72, 0.96), "HC2": (0.96, 0.64, 0.96, 0.96, 0.64, 0.96)}),
    "10": (_THREE, {"ForeClassNet": (0.99, 0.99, 0.99, None, None, None), "TEASER": (0.99, 0.99, 0.99, None, None, None), "Inception": (1.00, 1.00, 1.00, 1.00, 1.00, 1.00), "MR-Hydra": (0.99, 0.99, 0.99, 1.00, 1.00, 1.00), "HC2": (1.00, 1.00, 1.00, 0.99, 0.99, 0.99)}),
    "11": (_STOCKS, {"ForeClassNet": (0.75, 0.75, 0.73, 0.73), "TEASER": (None, None, 0.53, 0.52), "Inception": (0.51, 0.34, 0.51, 0.34), "MR-Hydra": (None, None, 0.55, 0.55), "HC2": (None, None, 0.58, 0.58)}),
}

#: Published official-split (UCR TRAIN/TEST) ECG5000 accuracies, aeon's results files, resample 0.
ECG5000_OFFICIAL_SPLIT = {"HC2": 0.9469, "MR-Hydra": 0.9467, "Inception": 0.9416}


def foreclassnet_table(table: str) -> pd.DataFrame:
    """ForeClassNet's Table ``table`` ("1" ... "11"): methods x (column, metric), NaN where NA."""
    if table not in _FORECLASSNET:
        raise KeyError(f"ForeClassNet has Tables 1-11, not {table!r}")
    columns, rows = _FORECLASSNET[table]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=pd.MultiIndex.from_tuples(columns, names=["column", "metric"]))
    return frame.astype(float).reindex(list(FORECLASSNET_METHODS))
