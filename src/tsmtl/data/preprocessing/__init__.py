"""Preprocessing: pure functions from :class:`~tsmtl.data.types.TimeSeriesData` to new objects.

Nothing here mutates its input, reads files or imports Kedro. Shapes follow the project
convention (aeon's): ``X`` is ``(n_cases, n_channels, n_timepoints)``, NaN-padded after each
case's true length ``lengths[i]``; NaN *inside* ``[0, lengths[i])`` is a missing value (a gap).
Every function that changes values appends a short record to ``meta["preprocessing"]``.

One module per concern (issue #11, "Layout"):

======================  ===================================================================
module                  holds
======================  ===================================================================
:mod:`.splits`          :func:`merge_splits`, :func:`stratified_split`,
                        :func:`holdout_validation_split`, :func:`observed_future_split`
:mod:`.cleaning`        :func:`z_normalise`, :func:`forward_fill`, :func:`forward_fill_frame`,
                        :func:`adf_difference`, :func:`adf_difference_frame`,
                        :func:`adf_difference_dataset`
:mod:`.recipes`         paper-specific: :func:`physionet_last_hours`, :func:`smote_oversample`,
                        :func:`random_missing`
:mod:`.windows`         :func:`sliding_windows`, :func:`forecasting_windows`
:mod:`.lengths`         :func:`resample_to_length`, :func:`pad_to_length`
:mod:`.conventions`     the shared masks, ``meta["preprocessing"]`` records and error labels
======================  ===================================================================

Which paper uses what
---------------------
* ResNet2D MTL (Sec. IV-B): merge each UCR task's TRAIN and TEST (:func:`merge_splits`), then a
  stratified 60 % / 20 % / 20 % train/validation/test split (:func:`stratified_split`).
* ForeClassNet (Sec. 4 and 5): 80 % / 20 % train/test with 10 % of train held out for
  validation (:func:`holdout_validation_split`); SMOTE for ECG5000 (Sec. 5.1,
  :func:`smote_oversample`); the observed series and the future points to forecast
  (:func:`observed_future_split`; ECG5000: the last 5 points).
  The ForeClassNet paper does **not** use ADF differencing; that is T-Rep's (below).
* T-Rep (appendix, anomaly detection): Yahoo series differenced ``d`` times, ``d`` from ADF
  tests, one ``d`` per series (:func:`adf_difference`); Sepsis: forward-fill per patient,
  last 45 hours, ten features (:func:`physionet_last_hours`); the missing-data experiment
  (Sec. 4.4) removes a random fraction of the data (:func:`random_missing`).
* ETT forecasting: :func:`forecasting_windows`.

This package re-exports every public name ``tsmtl/data/preprocessing.py`` had before the
split, so ``from tsmtl.data.preprocessing import stratified_split`` keeps working; code
inside the project imports from the module that defines a name.
"""

from tsmtl.data.preprocessing.cleaning import (
    adf_difference,
    adf_difference_dataset,
    adf_difference_frame,
    forward_fill,
    forward_fill_frame,
    z_normalise,
)
from tsmtl.data.preprocessing.lengths import pad_to_length, resample_to_length
from tsmtl.data.preprocessing.recipes import physionet_last_hours, random_missing, smote_oversample
from tsmtl.data.preprocessing.splits import (
    holdout_validation_split,
    merge_splits,
    observed_future_split,
    stratified_split,
)
from tsmtl.data.preprocessing.windows import forecasting_windows, sliding_windows

__all__ = [
    "merge_splits",
    "stratified_split",
    "holdout_validation_split",
    "z_normalise",
    "forward_fill",
    "forward_fill_frame",
    "physionet_last_hours",
    "adf_difference",
    "adf_difference_frame",
    "adf_difference_dataset",
    "smote_oversample",
    "observed_future_split",
    "random_missing",
    "sliding_windows",
    "forecasting_windows",
    "resample_to_length",
    "pad_to_length",
]
