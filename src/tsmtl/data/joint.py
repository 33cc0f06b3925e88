"""Joint-prediction multitask data: one input window per case, several targets (tasks) per case.

"Joint prediction" here is hard-parameter-sharing multitask learning in its plainest form
(Caruana, "Multitask learning", Machine Learning 28, 1997): every task sees the *same* input
and has its own output. Two real settings are prepared:

* **PhysioNet/CinC 2019 sepsis, hourly** (Reyna et al., Crit Care Med 48(2):210-217, 2020):
  one case per ICU hour ``t``, input = the last ``window`` hours up to ``t``, tasks = the
  challenge's hourly ``SepsisLabel`` at ``t`` (already 1 from 6 h before onset; about 2 % of
  hours positive) and the next hour's raw vital signs (regression with partial labels: a value
  that was not measured is a missing label, not a zero). Patient-level splits
  (:func:`split_by_group`) keep every hour of a stay in one split, as the challenge's own
  evaluation does (whole patients are held out).
* **ETTh1 multitask forecasting** (Zhou et al., Informer, AAAI 2021): Informer's 12/4/4-month
  borders and train-only ``StandardScaler`` (:func:`tsmtl.data.ett.split_ett`), one case per
  ``lookback``-hour window of all 7 columns, one task per (target column, horizon).

Shape convention (the project's, see :mod:`tsmtl.data.types`): ``X`` is ``(n_cases,
n_channels, n_timepoints)``; ``NaN`` after a case's true length ``lengths[i]`` is padding,
``NaN`` inside it is a gap (a missing value). Targets are ``(n_cases,)`` or ``(n_cases,
horizon)`` float64 with ``NaN`` where a case lacks that label.

Nothing here reads files or imports Kedro.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from tsmtl.data.ett import ETT_COLUMNS, ETTSplits
from tsmtl.data.preprocessing.cleaning import forward_fill_frame

__all__ = [
    "JointTaskData",
    "HOURLY_VITALS",
    "HOURLY_LABS",
    "HOURLY_STATIC",
    "HOURLY_FEATURES",
    "NEXT_HOUR_VARIABLES",
    "NEXT_HOUR_TASKS",
    "ETT_JOINT_TARGETS",
    "physionet_hourly_windows",
    "split_by_group",
    "standardise_joint",
    "unscale_target",
    "ett_joint_windows",
    "describe_joint",
]

# --------------------------------------------------------------------------- PhysioNet constants
HOURLY_VITALS: tuple[str, ...] = ("HR", "O2Sat", "Temp", "SBP", "MAP", "DBP", "Resp")
"""Seven of the eight vital signs. ``EtCO2`` is left out: in training set A it is never
measured (0 of 790,215 hours, 0 of 20,336 patients), so it would be an all-NaN channel."""

HOURLY_LABS: tuple[str, ...] = (
    "Lactate", "WBC", "Creatinine", "Platelets", "Bilirubin_total", "BUN", "Glucose", "pH",
)  # fmt: skip
"""Eight laboratory values, chosen for sepsis relevance and coverage in set A.

Lactate: Sepsis-3's septic-shock criterion (measured in 38 % of patients). WBC: a SIRS
criterion (97 %). Creatinine, Platelets, Bilirubin_total: the renal, coagulation and liver
components of the SOFA score (98 %, 97 %, 28 %; ``Bilirubin_total`` rather than T-Rep's
``Bilirubin_direct``, which only 2.9 % of patients ever have). BUN (renal, 98 %), Glucose
(98 %) and pH (acidosis, 65 %) complete the usual early-warning panel. The other labs are
either rarely measured (TroponinI 2.4 %, Fibrinogen 13 %) or close to one of these
(Hct/Hgb, HCO3/BaseExcess/PaCO2 with pH)."""

HOURLY_STATIC: tuple[str, ...] = ("Age", "Gender", "HospAdmTime", "ICULOS")
"""Demographics and time: age, sex, hours between hospital and ICU admission, ICU hour.
``Unit1``/``Unit2`` (ICU type) are left out: unknown for 49 % of the hours."""

HOURLY_FEATURES: tuple[str, ...] = HOURLY_VITALS + HOURLY_LABS + HOURLY_STATIC
"""Default input channels of :func:`physionet_hourly_windows` (19, in this order)."""

NEXT_HOUR_VARIABLES: tuple[str, ...] = ("HR", "MAP", "Resp", "Temp")
"""Vital signs whose next-hour raw value is a regression task (``"<var>_next"``)."""

NEXT_HOUR_TASKS: tuple[str, ...] = tuple(f"{var}_next" for var in NEXT_HOUR_VARIABLES)
"""Default ``regression_tasks`` of :func:`standardise_joint`."""

ETT_JOINT_TARGETS: tuple[str, ...] = ("OT", "HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL")
"""Default target columns of :func:`ett_joint_windows`: the oil temperature, then the six loads."""

_SPLITS = ("train", "val", "test")


# --------------------------------------------------------------------------- the type
@dataclass(eq=False)
class JointTaskData:
    """Same-input, several-output data: one input window per case, one target per task.

    Attributes
    ----------
    X : np.ndarray, float32, shape (n_cases, n_channels, n_timepoints)
        Inputs; NaN after each case's true length is padding, NaN inside it a gap.
    lengths : np.ndarray, int64, shape (n_cases,)
        True length of every case, in ``[0, n_timepoints]``.
    targets : dict of str to np.ndarray
        Task name -> float64 ``(n_cases,)`` or ``(n_cases, horizon)``; NaN = the case lacks
        that label (partial labels). Every task has a label slot for every case.
    groups : np.ndarray, shape (n_cases,), optional
        The group of every case (e.g. the patient id of every hourly window), for
        group-level splits (:func:`split_by_group`).
    channels : tuple of str
        Channel names (empty, or one per channel).
    name : str
        Dataset name; every error message starts with it.
    meta : dict
        Provenance and settings. Two keys have a fixed meaning: ``meta["case_info"]``, a dict
        of per-case arrays (first dimension ``n_cases``; e.g. ``"hour"``) that
        :meth:`subset` keeps aligned, and ``meta["target_scaling"]``, task -> ``(mean, std)``
        such that ``original = stored * std + mean`` (see :func:`unscale_target`).

    Notes
    -----
    ``X`` is coerced to float32, ``lengths`` to int64 and each target to float64 (no copy when
    they already have those dtypes). Padding is not checked value by value (that would be a
    pass over the whole array); the builders here always write NaN there.
    """

    X: np.ndarray
    lengths: np.ndarray
    targets: dict[str, np.ndarray]
    groups: np.ndarray | None = None
    channels: tuple[str, ...] = ()
    name: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        label = self.name or "<unnamed dataset>"
        self.X = np.asarray(self.X, dtype=np.float32)
        if self.X.ndim != 3:
            raise ValueError(
                f"{label}: X must be 3-D (n_cases, n_channels, n_timepoints), "
                f"got shape {self.X.shape}"
            )
        n, n_channels, width = self.X.shape
        self.lengths = np.asarray(self.lengths)
        if self.lengths.dtype.kind not in "iu" and not (
            self.lengths.dtype.kind == "f" and np.all(self.lengths == np.round(self.lengths))
        ):
            raise ValueError(f"{label}: lengths must be integers, got dtype {self.lengths.dtype}")
        self.lengths = self.lengths.astype(np.int64, copy=False)
        if self.lengths.shape != (n,):
            raise ValueError(f"{label}: lengths must have shape ({n},), got {self.lengths.shape}")
        if n and (self.lengths.min() < 0 or self.lengths.max() > width):
            bad = int(np.flatnonzero((self.lengths < 0) | (self.lengths > width))[0])
            raise ValueError(
                f"{label}: lengths must lie in [0, {width}], "
                f"case {bad} has {int(self.lengths[bad])}"
            )
        if not isinstance(self.targets, Mapping):
            raise ValueError(
                f"{label}: targets must be a dict task -> array, got {type(self.targets)}"
            )
        targets: dict[str, np.ndarray] = {}
        for task, values in self.targets.items():
            if not isinstance(task, str) or not task:
                raise ValueError(f"{label}: task names must be non-empty strings, got {task!r}")
            array = np.asarray(values, dtype=np.float64)
            if array.ndim not in (1, 2) or array.shape[0] != n:
                raise ValueError(
                    f"{label}: target {task!r} must have shape ({n},) or ({n}, horizon), "
                    f"got {array.shape}"
                )
            if array.ndim == 2 and array.shape[1] < 1:
                raise ValueError(f"{label}: target {task!r} has horizon 0")
            targets[task] = array
        self.targets = targets
        if self.groups is not None:
            self.groups = np.asarray(self.groups)
            if self.groups.shape != (n,):
                raise ValueError(f"{label}: groups must have shape ({n},), got {self.groups.shape}")
        self.channels = tuple(str(c) for c in self.channels)
        if self.channels and len(self.channels) != n_channels:
            raise ValueError(
                f"{label}: {len(self.channels)} channel names for {n_channels} channels"
            )
        if len(set(self.channels)) != len(self.channels):
            raise ValueError(f"{label}: channel names must be distinct, got {self.channels}")
        self.meta = dict(self.meta)
        info = self.meta.get("case_info")
        if info is not None:
            if not isinstance(info, Mapping):
                raise ValueError(f"{label}: meta['case_info'] must be a dict of per-case arrays")
            info = {key: np.asarray(value) for key, value in info.items()}
            for key, value in info.items():
                if value.ndim < 1 or value.shape[0] != n:
                    raise ValueError(
                        f"{label}: meta['case_info'][{key!r}] must have {n} rows, got {value.shape}"
                    )
            self.meta["case_info"] = info

    # ------------------------------------------------------------------ properties
    @property
    def n_cases(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_timepoints(self) -> int:
        return int(self.X.shape[2])

    @property
    def tasks(self) -> tuple[str, ...]:
        """Task names, in the order of ``targets``."""
        return tuple(self.targets)

    # ------------------------------------------------------------------ methods
    def subset(self, index: np.ndarray | Sequence[int], **meta: Any) -> JointTaskData:
        """Cases ``index`` (int array or boolean mask of length ``n_cases``) as a new object.

        ``X``, ``lengths``, every target, ``groups`` and every array in ``meta["case_info"]``
        are indexed alike (copies). Unlike :meth:`TimeSeriesData.subset` the time axis is *not*
        cut to the longest selected case: all splits of one dataset keep the same
        ``n_timepoints`` (the model's window). ``meta`` keywords are added to the copy; an
        inherited ``meta["source_index"]`` (set by :func:`split_by_group`) is indexed too, so
        it keeps pointing into the data that was split.
        """
        index = np.asarray(index)
        if index.dtype == bool:
            if index.shape != (self.n_cases,):
                raise ValueError(
                    f"{self.name}: a boolean index must have shape ({self.n_cases},), "
                    f"got {index.shape}"
                )
            index = np.flatnonzero(index)
        elif index.size == 0:
            index = index.astype(np.int64)
        elif index.dtype.kind not in "iu":
            raise ValueError(
                f"{self.name}: index must be integers or a boolean mask, got {index.dtype}"
            )
        new_meta = {**self.meta, **meta}
        if "case_info" in self.meta and "case_info" not in meta:
            new_meta["case_info"] = {k: v[index].copy() for k, v in self.meta["case_info"].items()}
        if "source_index" in self.meta and "source_index" not in meta:
            new_meta["source_index"] = np.asarray(self.meta["source_index"])[index]
        return JointTaskData(
            X=self.X[index],
            lengths=self.lengths[index],
            targets={task: values[index] for task, values in self.targets.items()},
            groups=None if self.groups is None else self.groups[index],
            channels=self.channels,
            name=self.name,
            meta=new_meta,
        )

    def label_coverage(self) -> dict[str, float]:
        """Task -> fraction of cases that have the label.

        For a ``(n_cases,)`` target: the fraction of non-NaN entries. For a ``(n_cases,
        horizon)`` target: the fraction of cases with *every* element present (the cases a
        full-horizon loss can use without masking). NaN when there are no cases.
        """
        coverage = {}
        for task, values in self.targets.items():
            if values.shape[0] == 0:
                coverage[task] = float("nan")
                continue
            present = ~np.isnan(values)
            if values.ndim == 2:
                present = present.all(axis=1)
            coverage[task] = float(present.mean())
        return coverage

    def __repr__(self) -> str:
        groups = "none" if self.groups is None else str(len(pd.unique(self.groups)))
        return (
            f"JointTaskData(name={self.name!r}, n_cases={self.n_cases}, "
            f"n_channels={self.n_channels}, "
            f"n_timepoints={self.n_timepoints}, tasks={list(self.tasks)}, groups={groups})"
        )


# --------------------------------------------------------------------------- helpers
def _label(data: JointTaskData) -> str:
    return data.name or "<unnamed dataset>"


def _check_positive_int(value: Any, what: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{label}: {what} must be an integer >= 1, got {value!r}")
    return int(value)


def _is_binary(values: np.ndarray) -> bool:
    """True when the non-NaN values exist and are all 0 or 1."""
    finite = values[~np.isnan(values)]
    return bool(finite.size) and bool(np.isin(finite, (0.0, 1.0)).all())


def _with_step(meta: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``meta`` with ``step`` appended to ``meta["preprocessing"]``."""
    previous = meta.get("preprocessing")
    steps = [] if previous is None else list(previous) if isinstance(previous, list) else [previous]
    return {**meta, "preprocessing": [*steps, step]}


# --------------------------------------------------------------------------- PhysioNet 2019
def physionet_hourly_windows(
    frame: pd.DataFrame,
    window: int = 12,
    features: Sequence[str] = HOURLY_FEATURES,
    sepsis_label: str | None = "SepsisLabel",
    next_hour: Sequence[str] = NEXT_HOUR_VARIABLES,
    stride: int = 1,
    *,
    by: str = "patient_id",
    name: str = "PhysioNet2019",
) -> JointTaskData:
    """One case per ICU hour: the last ``window`` hours as input, the hour's labels as targets.

    Protocol: the PhysioNet/CinC Challenge 2019 asks for a prediction at every ICU hour ``t``
    from the data up to ``t`` (Reyna et al. 2020); the hourly ``SepsisLabel`` is already 1 from
    6 h before onset (``t_sepsis - 6``) to the end of the stay. The ``window`` hours and the
    per-patient forward fill follow common practice for this challenge (T-Rep's Sepsis
    preprocessing also forward-fills per patient,
    :func:`tsmtl.data.preprocessing.physionet_last_hours`).

    * Feature columns are forward-filled in time within each patient
      (:func:`tsmtl.data.preprocessing.forward_fill_frame`), never across patients; values
      before a feature's first measurement stay NaN (gaps, to be imputed later, e.g. by
      :func:`standardise_joint`).
    * Case for hour ``t`` (``t = 0, stride, 2*stride, ...`` of each stay): input = hours
      ``max(0, t - window + 1) .. t``, left-aligned at time index 0; ``lengths = min(t + 1,
      window)``; the rest of the window is NaN padding.
    * Targets: ``"sepsis"`` = the label at hour ``t`` (0/1); ``"<var>_next"`` for each var in
      ``next_hour`` = the *raw* (not forward-filled) value of ``var`` at hour ``t + 1``: NaN
      when it was not measured, and at the stay's last hour.

    Parameters
    ----------
    frame : pd.DataFrame
        Long frame as from :func:`tsmtl.data.physionet.load_physionet`: ``by`` plus the
        PhysioNet columns, each patient's rows in time order. Patients need not be contiguous
        (rows are grouped by patient, keeping their order; patients in order of first
        appearance, i.e. sorted by id for ``load_physionet``).
    window : int
        Input hours per case (>= 1).
    features : sequence of str
        Input channels, in order; default :data:`HOURLY_FEATURES` (19).
    sepsis_label : str or None
        Hourly 0/1 label column for the ``"sepsis"`` task; None: no such task.
    next_hour : sequence of str
        Columns whose next-hour raw value is a task ``"<var>_next"``; default
        :data:`NEXT_HOUR_VARIABLES` (HR, MAP, Resp, Temp).
    stride : int
        Keep every ``stride``-th hour of each stay, starting with its first hour.
    by : str
        Patient id column.
    name : str
        Dataset name (``data.name``, used in error messages).

    Returns
    -------
    JointTaskData
        ``X`` float32 (n_cases, len(features), window) with ``n_cases = sum over stays of
        ceil(n_hours / stride)`` (790,215 for set A at stride 1); ``groups`` = patient id of
        every case; ``channels = features``; ``meta["case_info"]``: ``"hour"`` (t, 0-based
        hour within the stay) and ``"row"`` (position of hour ``t`` in ``frame``).

    Raises
    ------
    ValueError
        ``window``/``stride`` < 1, no or duplicated features, missing columns, an empty frame,
        missing patient ids, or a label that is not 0/1; the message starts with ``name``.
    """
    window = _check_positive_int(window, "window", name)
    stride = _check_positive_int(stride, "stride", name)
    features = tuple(features)
    next_hour = tuple(next_hour)
    if not features:
        raise ValueError(f"{name}: features must name at least one column")
    for what, columns in (("features", features), ("next_hour", next_hour)):
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise ValueError(f"{name}: duplicated {what} {duplicated}")
    if by in features:
        raise ValueError(f"{name}: the patient column {by!r} cannot be a feature")
    needed = [by, *features, *([sepsis_label] if sepsis_label is not None else []), *next_hour]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: frame lacks columns {missing}")
    if frame.empty:
        raise ValueError(f"{name}: the frame has no rows")
    codes, ids = pd.factorize(frame[by], sort=False)
    if (codes < 0).any():
        raise ValueError(f"{name}: {int((codes < 0).sum())} rows have no {by!r}")

    # Rows of one patient contiguous, in time order (stable), patients by first appearance.
    position = np.arange(len(frame))
    if (np.diff(codes) < 0).any():
        position = np.argsort(codes, kind="stable")
        frame = frame.iloc[position]
        codes = codes[position]
    n_rows = len(frame)
    counts = np.bincount(codes, minlength=len(ids))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    hour = np.arange(n_rows) - starts[codes]
    last_hour = hour == counts[codes] - 1

    filled = forward_fill_frame(frame[[by, *features]], by=by, columns=features)

    case_rows = np.flatnonzero(hour % stride == 0)
    n_cases = len(case_rows)
    case_lengths = np.minimum(hour[case_rows] + 1, window)
    offsets = np.arange(window)
    inside = offsets[None, :] < case_lengths[:, None]  # (n_cases, window)
    source = case_rows[:, None] - (case_lengths[:, None] - 1) + offsets[None, :]
    source = np.where(inside, source, n_rows)  # padding reads the NaN appended at row n_rows
    X = np.empty((n_cases, len(features), window), dtype=np.float32)
    column = np.empty(n_rows + 1, dtype=np.float32)
    column[n_rows] = np.nan
    for channel, feature in enumerate(features):
        column[:n_rows] = filled[feature].to_numpy(dtype=np.float64)
        X[:, channel, :] = column[source]

    targets: dict[str, np.ndarray] = {}
    if sepsis_label is not None:
        labels = frame[sepsis_label].to_numpy(dtype=np.float64)
        bad = ~np.isnan(labels) & ~np.isin(labels, (0.0, 1.0))
        if bad.any():
            raise ValueError(
                f"{name}: {sepsis_label!r} must be 0/1, "
                f"found {sorted(set(labels[bad].tolist()))[:5]}"
            )
        targets["sepsis"] = labels[case_rows]
    for var in next_hour:
        raw = frame[var].to_numpy(dtype=np.float64)
        following = np.full(n_rows, np.nan)
        following[:-1] = raw[1:]
        following[last_hour] = np.nan  # the next row belongs to another patient (or none)
        targets[f"{var}_next"] = following[case_rows]

    meta = {
        "source": "PhysioNet/CinC Challenge 2019 (Reyna et al. 2020)",
        "window": window,
        "stride": stride,
        "features": features,
        "sepsis_label": sepsis_label,
        "next_hour": next_hour,
        "n_patients": int(len(ids)),
        "case_info": {"hour": hour[case_rows].astype(np.int64), "row": position[case_rows]},
        "preprocessing": [
            {"step": "forward_fill", "by": by, "leading": "NaN (gap)"},
            {"step": "physionet_hourly_windows", "window": window, "stride": stride},
        ],
    }
    return JointTaskData(
        X=X,
        lengths=case_lengths,
        targets=targets,
        groups=np.asarray(ids, dtype=object)[codes[case_rows]],
        channels=features,
        name=name,
        meta=meta,
    )


# --------------------------------------------------------------------------- group split
def split_by_group(
    data: JointTaskData,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    seed: int = 0,
    stratify: str | None = "sepsis",
) -> dict[str, JointTaskData]:
    """Group-level (e.g. patient-level) train/val/test split, stratified on "ever positive".

    Every group goes to exactly one split with all its cases, so no patient's hours are in
    two splits. Arithmetic on the ``G`` distinct groups (as in
    :func:`tsmtl.data.preprocessing.stratified_split`): val and test get
    ``floor(fraction * G + 0.5)`` groups each, train the rest; test is cut first, then val
    from the remainder, each with :func:`sklearn.model_selection.train_test_split`
    (``random_state=seed``; ``stratify`` = whether the group has any case whose ``stratify``
    target is 1). Groups are sorted before splitting, so the result depends only on the set
    of groups, their labels and ``seed``.

    Parameters
    ----------
    data : JointTaskData
        With ``groups``.
    fractions : (train, val, test)
        Three positive fractions summing to 1.
    seed : int
        Random state of both cuts.
    stratify : str or None
        A 0/1 task to stratify on (e.g. ``"sepsis"``: septic patients are spread over the
        splits in proportion); None: a plain random group split.

    Returns
    -------
    dict
        ``{"train", "val", "test"}``, each keeping the cases in their original order, with
        ``meta``: ``split``, ``split_seed``, ``split_fractions``, ``split_stratify``,
        ``n_groups`` and ``source_index`` (int64 indices into ``data``).

    Raises
    ------
    ValueError
        No groups, missing group ids, bad fractions, a split that would get no group, an
        unknown or non-0/1 ``stratify`` task, or too few positive (or negative) groups to
        put one in every split. The message starts with the dataset name.
    """
    from sklearn.model_selection import train_test_split

    label = _label(data)
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3:
        raise ValueError(f"{label}: fractions must be (train, val, test), got {fractions}")
    if min(fractions) <= 0 or not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise ValueError(f"{label}: fractions must be positive and sum to 1, got {fractions}")
    if data.groups is None:
        raise ValueError(
            f"{label}: split_by_group needs groups (e.g. patient ids), but groups is None"
        )
    if data.n_cases == 0:
        raise ValueError(f"{label}: no cases to split")
    codes, _ = pd.factorize(data.groups, sort=True)
    if (codes < 0).any():
        raise ValueError(f"{label}: {int((codes < 0).sum())} cases have a missing group id")
    n_groups = int(codes.max()) + 1
    sizes = {
        "val": math.floor(fractions[1] * n_groups + 0.5),
        "test": math.floor(fractions[2] * n_groups + 0.5),
    }
    sizes["train"] = n_groups - sizes["val"] - sizes["test"]
    empty = [part for part in _SPLITS if sizes[part] < 1]
    if empty:
        raise ValueError(
            f"{label}: {n_groups} groups are too few for fractions {fractions}: "
            f"{', '.join(empty)} would get no group"
        )

    strata = None
    if stratify is not None:
        if stratify not in data.targets:
            raise ValueError(
                f"{label}: no task {stratify!r} to stratify on (tasks: {list(data.tasks)})"
            )
        values = data.targets[stratify]
        if not _is_binary(values):
            raise ValueError(f"{label}: stratify task {stratify!r} must be 0/1 (NaN allowed)")
        positive = values == 1
        if positive.ndim == 2:
            positive = positive.any(axis=1)
        strata = (np.bincount(codes, weights=positive, minlength=n_groups) > 0).astype(np.int64)
        counts = np.bincount(strata, minlength=2)
        if counts.min() < 3:
            raise ValueError(
                f"{label}: {int(counts[1])} groups with a positive {stratify!r} and "
                f"{int(counts[0])} without; each needs at least 3 to appear in train, val and test"
            )

    every = np.arange(n_groups)
    rest, test = train_test_split(
        every, test_size=sizes["test"], random_state=seed, shuffle=True, stratify=strata
    )
    train, val = train_test_split(
        rest,
        test_size=sizes["val"],
        random_state=seed,
        shuffle=True,
        stratify=None if strata is None else strata[rest],
    )
    part_of_group = np.empty(n_groups, dtype=np.int64)
    for k, chosen in enumerate((train, val, test)):
        part_of_group[chosen] = k
    if strata is not None:
        for k, chosen in enumerate((train, val, test)):
            if len(np.unique(strata[chosen])) < 2:
                raise ValueError(
                    f"{label}: the {_SPLITS[k]} split got groups of one {stratify!r} class only; "
                    f"too few positive groups ({int(strata.sum())}) for fractions {fractions}"
                )
    case_part = part_of_group[codes]
    out = {}
    for k, part in enumerate(_SPLITS):
        index = np.flatnonzero(case_part == k)
        out[part] = data.subset(
            index,
            split=part,
            split_seed=seed,
            split_fractions=fractions,
            split_stratify=stratify,
            n_groups=int(sizes[part]),
            source_index=index,
        )
    return out


# --------------------------------------------------------------------------- standardisation
def _compose(outer: tuple[float, float] | None, inner: tuple[float, float]) -> tuple[float, float]:
    """Scaling of ``z2`` when ``original = z1 * s1 + m1`` (outer) and ``z1 = z2 * s2 + m2``."""
    if outer is None:
        return inner
    m1, s1 = outer
    m2, s2 = inner
    return (float(m1 + m2 * s1), float(s1 * s2))


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    """Population mean/std (float64 sums) of non-NaN values; no value -> (0, 1); std 0 -> 1."""
    if values.size == 0:
        return 0.0, 1.0
    mean = float(values.sum(dtype=np.float64) / values.size)
    centred = np.subtract(values, mean, dtype=np.float64)
    std = math.sqrt(float(np.square(centred, out=centred).sum()) / values.size)
    return mean, (std if std > 0 and math.isfinite(std) else 1.0)


def _case_blocks(n_cases: int, size: int = 32768) -> list[slice]:
    """Consecutive case ranges: whole-array ufuncs on (block, C, T) instead of strided channels."""
    return [slice(i, min(i + size, n_cases)) for i in range(0, n_cases, size)]


def _padding(lengths: np.ndarray, width: int) -> np.ndarray:
    """Boolean (n, 1, width): True at time indices at or after each case's length."""
    return (np.arange(width)[None, :] >= lengths[:, None])[:, None, :]


def _channel_statistics(data: JointTaskData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel mean, population std and count of observed values (within length, non-NaN).

    Two passes (mean, then centred squares) with float64 sums. No observed value: mean 0,
    std 1; std 0: 1.
    """
    n_channels = data.n_channels
    total = np.zeros(n_channels)
    count = np.zeros(n_channels, dtype=np.int64)
    blocks = _case_blocks(data.n_cases)
    for block in blocks:
        values = data.X[block]
        observed = ~np.isnan(values) & ~_padding(data.lengths[block], data.n_timepoints)
        total += np.where(observed, values, 0).sum(axis=(0, 2), dtype=np.float64)
        count += observed.sum(axis=(0, 2))
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    squares = np.zeros(n_channels)
    for block in blocks:
        values = data.X[block]
        observed = ~np.isnan(values) & ~_padding(data.lengths[block], data.n_timepoints)
        centred = np.where(observed, values - mean[None, :, None], 0.0)
        squares += np.square(centred).sum(axis=(0, 2))
    std = np.sqrt(squares / np.maximum(count, 1))
    std = np.where((count > 0) & (std > 0) & np.isfinite(std), std, 1.0)
    return mean, std, count


def standardise_joint(
    splits: Mapping[str, JointTaskData],
    regression_tasks: Sequence[str] = NEXT_HOUR_TASKS,
    impute: float = 0.0,
) -> dict[str, JointTaskData]:
    """Per-channel z-scoring fitted on the training split only; gaps imputed; targets z-scored.

    The train-only fit is the rule every protocol here follows (Informer's ETT scaler, T-Rep,
    TS2Vec): no statistic of validation/test data reaches the model.

    * Inputs: per channel, the mean and population std (ddof 0) of the TRAIN split's observed
      values (within ``lengths``, non-NaN) are applied to every split. Because hourly windows
      overlap, an hour's value counts once per window it appears in, i.e. the statistics are
      those of the inputs as the model sees them. After scaling, gaps (NaN inside a case's
      length) become ``impute`` (0 = the training mean; NaN keeps them); padding stays NaN.
    * Targets in ``regression_tasks``: z-scored with the mean/std of the TRAIN split's non-NaN
      values of that task (all horizon elements pooled); NaN labels stay NaN. Other tasks
      (e.g. ``"sepsis"``) are unchanged.
    * A std of 0 (or no observed value: mean 0, std 1) is replaced by 1.

    Parameters
    ----------
    splits : mapping of str to JointTaskData
        Must contain ``"train"``; all splits with the same channels and tasks.
    regression_tasks : sequence of str
        Tasks to z-score; default :data:`NEXT_HOUR_TASKS`. Pass ``()`` for none (e.g. for
        :func:`ett_joint_windows`, whose targets are already scaled).
    impute : float
        Value for gaps after scaling.

    Returns
    -------
    dict
        Same keys, new objects. ``meta["input_scaling"] = {"mean": (C,), "std": (C,),
        "impute": impute}`` and ``meta["target_scaling"][task] = (mean, std)`` map the stored
        values back to the original units (``x * std + mean``); when the data were already
        scaled (e.g. by :func:`ett_joint_windows`) the recorded statistics are the composition,
        so they still map to the original units.

    Raises
    ------
    ValueError
        No ``"train"`` split, splits that disagree on channels or tasks, an unknown
        regression task.
    """
    if "train" not in splits:
        raise ValueError(f"standardise_joint needs a 'train' split, got {list(splits)}")
    train = splits["train"]
    label = _label(train)
    for part, data in splits.items():
        if data.n_channels != train.n_channels or data.channels != train.channels:
            raise ValueError(
                f"{label}: split {part!r} has channels {data.channels or data.n_channels}, "
                f"train has {train.channels or train.n_channels}"
            )
        if set(data.tasks) != set(train.tasks):
            raise ValueError(
                f"{label}: split {part!r} has tasks {list(data.tasks)}, "
                f"train has {list(train.tasks)}"
            )
    regression_tasks = tuple(regression_tasks)
    unknown = [t for t in regression_tasks if t not in train.targets]
    if unknown:
        raise ValueError(
            f"{label}: regression tasks {unknown} not in the data (tasks: {list(train.tasks)})"
        )

    mean, std, count = _channel_statistics(train)
    target_stats = {}
    for task in regression_tasks:
        values = train.targets[task]
        target_stats[task] = _mean_std(values[~np.isnan(values)])

    previous_input = train.meta.get("input_scaling")
    if previous_input is not None:  # already scaled: record the composition
        input_mean = np.asarray(previous_input["mean"]) + mean * np.asarray(previous_input["std"])
        input_std = np.asarray(previous_input["std"]) * std
    else:
        input_mean, input_std = mean.copy(), std.copy()

    # float32 arithmetic on float64 statistics (about 7 significant digits)
    shift = mean.astype(np.float32)[None, :, None]
    scale = std.astype(np.float32)[None, :, None]
    out = {}
    for part, data in splits.items():
        X = np.empty_like(data.X)
        for block in _case_blocks(data.n_cases):
            values = data.X[block]
            scaled = (values - shift) / scale
            np.copyto(scaled, np.float32(impute), where=np.isnan(values))  # gaps and padding ...
            pad = _padding(data.lengths[block], data.n_timepoints)
            np.copyto(scaled, np.float32(np.nan), where=pad)  # ... padding back to NaN
            X[block] = scaled
        targets = dict(data.targets)
        scaling = dict(data.meta.get("target_scaling", {}))
        for task, (m, s) in target_stats.items():
            targets[task] = (data.targets[task] - m) / s
            scaling[task] = _compose(scaling.get(task), (m, s))
        meta = {
            **data.meta,
            "input_scaling": {
                "mean": input_mean.copy(),
                "std": input_std.copy(),
                "impute": float(impute),
                "fitted_on": "train",
                "n_observed": count.copy(),
            },
            "target_scaling": scaling,
        }
        meta = _with_step(
            meta,
            {
                "step": "standardise_joint",
                "impute": float(impute),
                "regression_tasks": list(target_stats),
            },
        )
        out[part] = JointTaskData(
            X=X,
            lengths=data.lengths,
            targets=targets,
            groups=data.groups,
            channels=data.channels,
            name=data.name,
            meta=meta,
        )
    return out


def unscale_target(data: JointTaskData, task: str, values: np.ndarray) -> np.ndarray:
    """Map stored (scaled) values of ``task``, e.g. predictions, back to the original units.

    ``values * std + mean`` with ``data.meta["target_scaling"][task]``; a float64 copy of
    ``values`` for a task that was never scaled (e.g. ``"sepsis"``).
    """
    if task not in data.targets:
        raise ValueError(f"{_label(data)}: no task {task!r} (tasks: {list(data.tasks)})")
    values = np.array(values, dtype=np.float64)
    scaling = data.meta.get("target_scaling", {}).get(task)
    if scaling is None:
        return values
    mean, std = scaling
    return values * std + mean


# --------------------------------------------------------------------------- ETT
def ett_joint_windows(
    splits: ETTSplits,
    lookback: int = 96,
    targets: Sequence[str] = ETT_JOINT_TARGETS,
    horizons: Sequence[int] = (24,),
    stride: int = 1,
    *,
    name: str = "ETTh1",
) -> dict[str, JointTaskData]:
    """ETT multitask forecasting windows: ``lookback`` rows of all 7 columns -> many futures.

    Protocol: Informer's (Zhou et al., AAAI 2021) 12/4/4-month borders with the scaler fitted
    on train (:func:`tsmtl.data.ett.split_ett`), and its window arithmetic
    (``Dataset_ETT_hour.__len__ = len - seq_len - pred_len + 1``) with ``pred_len =
    max(horizons)``: every task is defined on the same cases, so the longest horizon sets how
    many windows a split has. Tasks: for each target column ``c`` and horizon ``h``, task
    ``f"{c}@{h}"`` = the next ``h`` scaled values of ``c`` (OT vs the six loads, short vs long
    horizons: tasks of unequal difficulty).

    A window's targets never leave its split: val/test inputs may reach back into the previous
    split (the ``lookback`` rows ``split_ett`` prepends), their targets start at the split's
    own first row. Window ``k`` of a split starts at split row ``offset + k * stride``, with
    ``offset = 0`` for train and ``split_ett_lookback - lookback`` for val/test.

    Parameters
    ----------
    splits : ETTSplits
        From ``split_ett(frame, "ETTh1", lookback=L)`` with ``L >= lookback``.
    lookback : int
        Input rows per case.
    targets : sequence of str
        ETT columns to forecast; default :data:`ETT_JOINT_TARGETS` (OT first).
    horizons : sequence of int
        Forecast horizons, each >= 1.
    stride : int
        Distance in rows between consecutive windows.
    name : str
        Dataset name for ``data.name`` and error messages.

    Returns
    -------
    dict
        ``{"train", "val", "test"}`` of JointTaskData: ``X`` float32 (N, 7, lookback) in
        :data:`tsmtl.data.ett.ETT_COLUMNS` order, ``lengths = lookback``, targets float64
        (N, h), ``groups`` None. ETTh1, lookback 96, horizon 24: N = 8521 / 2857 / 2857.
        ``meta["case_info"]["start_row"]``: file row of each window's first input row;
        ``meta["target_scaling"][task]`` = the scaler's (mean, scale) of the task's column and
        ``meta["input_scaling"]`` the scaler's per-column mean/scale (original units).

    Raises
    ------
    ValueError
        Bad ``lookback``/``horizons``/``stride``, unknown or duplicated target columns,
        ``splits`` made with a smaller lookback, or a split too short for one window.
    """
    lookback = _check_positive_int(lookback, "lookback", name)
    stride = _check_positive_int(stride, "stride", name)
    horizons = tuple(horizons)
    if not horizons:
        raise ValueError(f"{name}: horizons must hold at least one horizon")
    horizons = tuple(_check_positive_int(h, "every horizon", name) for h in horizons)
    if len(set(horizons)) != len(horizons):
        raise ValueError(f"{name}: duplicated horizons {horizons}")
    targets = tuple(targets)
    unknown = [c for c in targets if c not in ETT_COLUMNS]
    if unknown or not targets:
        raise ValueError(
            f"{name}: target columns must be among {list(ETT_COLUMNS)}, got {list(targets)}"
        )
    if len(set(targets)) != len(targets):
        raise ValueError(f"{name}: duplicated target columns {list(targets)}")
    borders = splits.borders.as_dict()
    context = borders["train"][1] - borders["val"][0]
    if borders["val"][1] - borders["test"][0] != context:
        raise ValueError(
            f"{name}: val and test borders disagree on the prepended lookback: {borders}"
        )
    if lookback > context:
        raise ValueError(
            f"{name}: the splits prepend {context} rows of history to val/test, fewer than "
            f"lookback={lookback}; use split_ett(frame, name, lookback={lookback})"
        )
    longest = max(horizons)
    mean = np.asarray(splits.scaler.mean_, dtype=np.float64)
    scale = np.asarray(splits.scaler.scale_, dtype=np.float64)
    column = {c: i for i, c in enumerate(ETT_COLUMNS)}

    out = {}
    for part in _SPLITS:
        values = splits.scaled(part)  # (n_rows, 7), float64
        offset = 0 if part == "train" else context - lookback
        n_windows = (len(values) - offset - lookback - longest) // stride + 1
        if n_windows < 1:
            raise ValueError(
                f"{name}: the {part} split ({len(values)} rows) is too short for one window of "
                f"lookback {lookback} + horizon {longest}"
            )
        starts = offset + stride * np.arange(n_windows)
        inputs = sliding_window_view(
            values, lookback, axis=0
        )  # (n_rows - lookback + 1, 7, lookback)
        X = inputs[starts].astype(np.float32)
        task_targets = {}
        scaling = {}
        for c in targets:
            series = values[:, column[c]]
            for h in horizons:
                task = f"{c}@{h}"
                task_targets[task] = sliding_window_view(series, h)[starts + lookback].copy()
                scaling[task] = (float(mean[column[c]]), float(scale[column[c]]))
        meta = {
            "source": "ETT (Zhou et al., Informer, AAAI 2021)",
            "protocol": "Informer 12/4/4-month borders, StandardScaler fitted on train",
            "split": part,
            "lookback": lookback,
            "horizons": horizons,
            "stride": stride,
            "target_columns": targets,
            "borders": borders[part],
            "case_info": {"start_row": borders[part][0] + starts},
            "input_scaling": {"mean": mean.copy(), "std": scale.copy(), "fitted_on": "train"},
            "target_scaling": scaling,
        }
        out[part] = JointTaskData(
            X=X,
            lengths=np.full(n_windows, lookback, dtype=np.int64),
            targets=task_targets,
            groups=None,
            channels=ETT_COLUMNS,
            name=name,
            meta=meta,
        )
    return out


# --------------------------------------------------------------------------- summary
def describe_joint(splits: Mapping[str, JointTaskData] | JointTaskData) -> pd.DataFrame:
    """One row per (split, task): sizes, label coverage and target statistics.

    Columns: ``split``, ``task``, ``kind`` ("binary" when every present label is 0 or 1,
    else "regression"), ``horizon`` (1 for a ``(n_cases,)`` target), ``n_cases``,
    ``n_groups`` (distinct groups, NaN without groups), ``coverage``
    (:meth:`JointTaskData.label_coverage`), ``positive_rate`` (binary: mean of the present
    labels), ``mean`` and ``std`` (regression: over the present values, population std).
    A single JointTaskData is described as split ``"all"``.
    """
    if isinstance(splits, JointTaskData):
        splits = {"all": splits}
    rows = []
    for part, data in splits.items():
        coverage = data.label_coverage()
        n_groups = float("nan") if data.groups is None else int(len(pd.unique(data.groups)))
        for task, values in data.targets.items():
            present = values[~np.isnan(values)]
            binary = _is_binary(values)
            rows.append(
                {
                    "split": part,
                    "task": task,
                    "kind": "binary" if binary else "regression",
                    "horizon": 1 if values.ndim == 1 else int(values.shape[1]),
                    "n_cases": data.n_cases,
                    "n_groups": n_groups,
                    "coverage": coverage[task],
                    "positive_rate": float(present.mean()) if binary else float("nan"),
                    "mean": float("nan") if binary or not present.size else float(present.mean()),
                    "std": float("nan") if binary or not present.size else float(present.std()),
                }
            )
    columns = ["split", "task", "kind", "horizon", "n_cases", "n_groups", "coverage",
               "positive_rate", "mean", "std"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
