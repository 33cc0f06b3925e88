"""T-Rep's classification experiments as library functions (Fraikin et al., "T-Rep: Representation
Learning for Time Series using Time-Embeddings", ICLR 2024).

* **Classification** (Sec. 4.1 "Time Series Classification", App. "Classification" procedure, App.
  "UEA Classification Full Results"): a self-supervised encoder is fitted on the TRAIN split
  (no labels), the TRAIN and TEST series are encoded, and an RBF-kernel SVM with
  ``C in {10^-4, ..., 10^4}`` picked by 5-fold cross-validation (T-Loss's protocol) classifies
  the representations. Two ways to turn per-step representations ``(N, T, F)`` into one vector:

  - **TimeDim** (T-Rep, App. "Classification"): max-pool with kernel = stride
    ``k = floor(T / W)`` (``W = 10``) and flatten to ``(N, floor(T / k) * F)``
    (:func:`timedim_features`);
  - **instance** (TS2Vec, T-Loss): the max over all steps, ``(N, F)``
    (``TRep.encode(window="full_series")``).

  :func:`classification_experiment` runs T-Rep (TimeDim), TS2Vec (instance) and a supervised
  ResNet1D (the project's single-task fit, :func:`tsmtl.training.fit.fit_task_group`) on each
  dataset's official TRAIN/TEST split, over seeds.
* **Robustness to missing data** (Sec. 4.4, Fig. 4): the same two protocols on
  ArticularyWordRecognition with a fraction of the time steps removed in TRAIN and TEST
  (:func:`missing_data_experiment`), and the latent heatmap of Fig. 4a
  (:func:`latent_heatmap`, :func:`heatmap_figure`).

Published numbers are the constants below, each with the place in the paper it comes from.

Shapes: the readers give ``TimeSeriesData.X`` as ``(n, C, T)``; the encoders take ``(N, T, C)``
float32 with NaN for missing steps and padding (:func:`encoder_inputs` converts).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tsmtl.data.feeding import FeedingOptions, feed_task_splits
from tsmtl.data.preprocessing.cleaning import z_normalise
from tsmtl.data.preprocessing.recipes import random_missing
from tsmtl.data.tasks import split_task
from tsmtl.data.types import TimeSeriesData
from tsmtl.evaluation.metrics import accuracy
from tsmtl.evaluation.svm import fit_svm
from tsmtl.training.fit import MethodConfig, TrainingConfig, fit_task_group
from tsmtl.training.trep import TRep, fit_representation

log = logging.getLogger(__name__)

# -- published numbers ----------------------------------------------------------------------------
TREP, TS2VEC, TS2VEC_TIMEDIM, SUPERVISED = "T-Rep", "TS2Vec", "TS2Vec (TimeDim)", "ResNet1D (supervised)"

#: T-Rep paper, App. "UEA Classification Full Results" (Table ``table:full_uea_results``): test
#: accuracy, mean of 10 runs, on the UEA archive's official split; columns T-Rep (TimeDim),
#: TS2Vec (instance-level, the T-Rep authors' rerun with batch 16) and TS2Vec (TimeDim).
#: Names as in that table ("InsectWingbeat" is the archive's InsectWingbeat).
PUBLISHED_UEA_ACCURACY: dict[str, tuple[float, float, float]] = {
    "ArticularyWordRecognition": (0.968, 0.974, 0.969),
    "AtrialFibrillation": (0.354, 0.287, 0.313),
    "BasicMotions": (1.0, 1.0, 1.0),
    "CharacterTrajectories": (0.989, 0.988, 0.988),
    "Cricket": (0.958, 0.953, 0.938),
    "DuckDuckGeese": (0.457, 0.434, 0.368),
    "ERing": (0.943, 0.899, 0.936),
    "EigenWorms": (0.884, 0.916, 0.88),
    "Epilepsy": (0.97, 0.963, 0.962),
    "EthanolConcentration": (0.333, 0.303, 0.298),
    "FaceDetection": (0.581, 0.541, 0.577),
    "FingerMovements": (0.495, 0.495, 0.493),
    "HandMovementDirection": (0.536, 0.418, 0.527),
    "Handwriting": (0.414, 0.463, 0.424),
    "Heartbeat": (0.725, 0.734, 0.724),
    "InsectWingbeat": (0.328, 0.323, 0.327),
    "JapaneseVowels": (0.962, 0.97, 0.961),
    "LSST": (0.526, 0.558, 0.546),
    "Libras": (0.829, 0.859, 0.833),
    "MotorImagery": (0.495, 0.5, 0.497),
    "NATOPS": (0.804, 0.897, 0.824),
    "PEMS-SF": (0.8, 0.772, 0.794),
    "PenDigits": (0.971, 0.977, 0.975),
    "PhonemeSpectra": (0.232, 0.243, 0.228),
    "RacketSports": (0.883, 0.893, 0.865),
    "SelfRegulationSCP1": (0.819, 0.79, 0.819),
    "SelfRegulationSCP2": (0.591, 0.554, 0.563),
    "SpokenArabicDigits": (0.994, 0.992, 0.993),
    "StandWalkJump": (0.441, 0.407, 0.3),
    "UWaveGestureLibrary": (0.885, 0.875, 0.89),
}
#: The same table's "Avg. Accuracy" row over the 30 sets (also Table ``table:uea_summary_res``
#: of Sec. 4.1 for T-Rep and TS2Vec). TS2Vec's own paper reports 0.712 on 29 sets.
PUBLISHED_UEA_AVERAGE = {TREP: 0.706, TS2VEC: 0.699, TS2VEC_TIMEDIM: 0.693}
TS2VEC_OWN_PAPER_UEA_AVERAGE = 0.712

#: T-Rep paper, Sec. 4.4 (text; Fig. 4b is an image): ArticularyWordRecognition accuracy against
#: the fraction of time steps removed. T-Rep "starting at 98 %", "dropping by only 1.3 %" at 75 %
#: (read as 98 - 1.3 points), 86.5 % at 90 %; TS2Vec 82.7 % at 90 % ("2 % less accuracy on
#: average" than T-Rep elsewhere, no other point is given). Error bars: std over 6 runs.
PUBLISHED_MISSING_DATA: dict[str, dict[float, float]] = {
    TREP: {0.0: 0.98, 0.75: 0.967, 0.9: 0.865},
    TS2VEC: {0.9: 0.827},
}
PUBLISHED_MISSING_DATA_RUNS = 6

# -- data -----------------------------------------------------------------------------------------
@dataclass
class EncoderSplit:
    """A dataset's TRAIN and TEST as the encoders take them.

    ``X_train`` ``(N_train, T, C)`` and ``X_test`` ``(N_test, T, C)`` float32, scaled per
    channel with the training split's mean and std over observed values (TS2Vec's UEA loader:
    a ``StandardScaler`` fitted on TRAIN), NaN for missing values and for the padding of
    shorter series; both splits padded to the same ``T``. Labels as the reader gave them.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_steps(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_channels(self) -> int:
        return int(self.X_train.shape[2])


def _steps_last(X: np.ndarray, width: int) -> np.ndarray:
    """``(n, C, T)`` -> ``(n, width, C)`` float32, NaN-padded after ``T``."""
    out = np.full((X.shape[0], width, X.shape[1]), np.nan, dtype=np.float32)
    out[:, : X.shape[2]] = X.transpose(0, 2, 1)
    return out


def encoder_inputs(parts: Mapping[str, TimeSeriesData]) -> EncoderSplit:
    """:class:`EncoderSplit` of ``{"train", "test"}`` (the official split of a UEA/aeon reader).

    Scaling: :func:`~tsmtl.data.preprocessing.z_normalise` with ``per_case=False`` on TRAIN, its
    statistics applied to TEST (no test information reaches the encoder).
    """
    if "train" not in parts or "test" not in parts:
        raise ValueError(f"need the official 'train' and 'test' splits, got {sorted(parts)}")
    train, test = parts["train"], parts["test"]
    if train.y is None or test.y is None:
        raise ValueError(f"{train.name}: classification needs labelled TRAIN and TEST")
    if train.n_channels != test.n_channels:
        raise ValueError(f"{train.name}: TRAIN has {train.n_channels} channels, TEST {test.n_channels}")
    scaled_train = z_normalise(train, per_case=False)
    scaled_test = z_normalise(test, per_case=False, statistics=scaled_train.meta["z_normalise"])
    width = max(train.n_timepoints, test.n_timepoints)
    return EncoderSplit(
        name=train.name,
        X_train=_steps_last(scaled_train.X, width),
        y_train=np.asarray(train.y),
        X_test=_steps_last(scaled_test.X, width),
        y_test=np.asarray(test.y),
    )


# -- representations ------------------------------------------------------------------------------
PROTOCOLS = ("timedim", "instance")
PROTOCOL_DESCRIPTIONS = {
    "timedim": "TimeDim: per-step representations max-pooled with kernel = stride = floor(T/W), flattened",
    "instance": "instance-level: max over all steps",
}


def timedim_features(steps: np.ndarray, n_windows: int = 10) -> np.ndarray:
    """T-Rep's TimeDim vectors: ``(N, T, F)`` -> ``(N, floor(T / k) * F)`` with ``k = max(floor(T / W), 1)``.

    App. "Classification": a max-pool of kernel ``k`` and stride ``k`` over time (the last
    ``T mod k`` steps, which fill no whole window, are dropped, as ``torch``'s ``max_pool1d``
    does), then the windows are flattened window by window: features ``[w * F, (w + 1) * F)``
    belong to window ``w``. (The authors' code pools with kernel ``k``, stride ``k // 2`` and
    padding ``k // 2`` instead, about twice as many overlapping windows.)

    >>> z = np.arange(2 * 5 * 1, dtype=float).reshape(2, 5, 1)
    >>> timedim_features(z, n_windows=2)           # k = 2: windows [0, 1], [2, 3]; step 4 dropped
    array([[1., 3.],
           [6., 8.]])
    """
    steps = np.asarray(steps)
    if steps.ndim != 3:
        raise ValueError(f"timedim_features expects (N, T, F) representations, got shape {steps.shape}")
    if int(n_windows) < 1:
        raise ValueError(f"n_windows must be >= 1, got {n_windows}")
    n, t, f = steps.shape
    kernel = max(t // int(n_windows), 1)
    windows = t // kernel
    pooled = steps[:, : windows * kernel].reshape(n, windows, kernel, f).max(axis=2)
    return pooled.reshape(n, windows * f)


def representation_features(model: TRep, X: np.ndarray, protocol: str, n_windows: int = 10, batch_size: int = 256) -> np.ndarray:
    """``X`` ``(N, T, C)`` -> the SVM's input ``(N, D)`` under ``protocol`` ("timedim" or "instance")."""
    if protocol == "timedim":
        return timedim_features(model.encode(X, batch_size=batch_size), n_windows)
    if protocol == "instance":
        return model.encode(X, window="full_series", batch_size=batch_size)
    raise ValueError(f"unknown protocol {protocol!r}; use one of {PROTOCOLS}")


@dataclass(frozen=True)
class EncoderMethod:
    """A self-supervised row of the tables: a name, the estimator (``trep``/``ts2vec``), its
    YAML settings (:class:`~tsmtl.training.trep.TRepConfig` fields) and the protocol."""

    name: str
    kind: str
    params: Mapping[str, Any]
    protocol: str


def encoder_methods(options: Mapping[str, Any]) -> list[EncoderMethod]:
    """T-Rep (TimeDim) and TS2Vec (instance) from ``options["trep"]`` / ``options["ts2vec"]``,
    the protocols overridable with ``options["protocols"] = {"trep": ..., "ts2vec": ...}``;
    ``options["methods"]`` (default all) selects among ``trep``, ``ts2vec``, ``resnet1d``."""
    protocols = {"trep": "timedim", "ts2vec": "instance", **dict(options.get("protocols") or {})}
    selected = list(options.get("methods") or ("trep", "ts2vec", "resnet1d"))
    unknown = sorted(set(selected) - {"trep", "ts2vec", "resnet1d"})
    if unknown:
        raise ValueError(f"unknown methods {unknown}; use trep, ts2vec, resnet1d")
    out = []
    for kind, name in (("trep", TREP), ("ts2vec", TS2VEC)):
        if kind in selected:
            if protocols[kind] not in PROTOCOLS:
                raise ValueError(f"{kind}: unknown protocol {protocols[kind]!r}; use one of {PROTOCOLS}")
            out.append(EncoderMethod(name, kind, dict(options.get(kind) or {}), protocols[kind]))
    return out


def evaluate_encoder(
    method: EncoderMethod,
    split: EncoderSplit,
    *,
    seed: int,
    device: str = "auto",
    svm: Mapping[str, Any] | None = None,
    n_windows: int = 10,
    encode_batch_size: int = 256,
) -> tuple[dict[str, Any], TRep]:
    """Fit ``method`` on ``split.X_train`` (no labels), encode both splits, SVM, test accuracy.

    Returns
    -------
    row : dict
        ``accuracy``, ``svm_C``, ``svm_searched``, ``cv_accuracy``, ``feature_dims``,
        ``iterations``, ``fit_seconds``, ``evaluate_seconds``.
    model : TRep
        The fitted encoder.
    """
    started = time.perf_counter()
    model = fit_representation(split.X_train, method.kind, method.params, seed=seed, device=device)
    fitted = time.perf_counter()
    train_features = representation_features(model, split.X_train, method.protocol, n_windows, encode_batch_size)
    test_features = representation_features(model, split.X_test, method.protocol, n_windows, encode_batch_size)
    classifier = fit_svm(train_features, split.y_train, **dict(svm or {}))
    predictions = classifier.estimator.predict(test_features)
    row = {
        "accuracy": accuracy(split.y_test, predictions),
        "svm_C": classifier.C,
        "svm_searched": classifier.searched,
        "cv_accuracy": classifier.cv_score,
        "feature_dims": int(train_features.shape[1]),
        "iterations": int(model.n_iterations_),
        "fit_seconds": fitted - started,
        "evaluate_seconds": time.perf_counter() - fitted,
    }
    return row, model


# -- the supervised reference ---------------------------------------------------------------------
def fit_supervised(parts: Mapping[str, TimeSeriesData], options: Mapping[str, Any], *, seed: int, device: str = "auto", checkpoint_dir: str | None = None, resume: bool = False) -> dict[str, Any]:
    """A ResNet1D trained with labels on the same official split: the project's single-task fit.

    ``options``: ``backbone_params`` (ResNet1D widths, kernel sizes), ``training``
    (:class:`~tsmtl.training.fit.TrainingConfig`), ``val_fraction`` (a stratified part of TRAIN,
    seeded by ``seed``, picks the best epoch; default 0.2), ``feeding``
    (:class:`~tsmtl.data.feeding.FeedingOptions`, default per-series z-normalisation, gaps
    interpolated, native lengths). TEST is the archive's TEST, untouched.
    """
    splits = split_task(dict(parts), "official", seed=seed, val_fraction=float(options.get("val_fraction", 0.2)))
    name = parts["train"].name or "task"
    fed = feed_task_splits({name: splits}, FeedingOptions.from_params(options.get("feeding")))
    method = MethodConfig.from_params({"backbone": "resnet1d", "backbone_params": dict(options.get("backbone_params") or {})})
    training = TrainingConfig.from_params(options.get("training"))
    started = time.perf_counter()
    fit = fit_task_group(fed, method, training, device=device, seed=seed, checkpoint_dir=checkpoint_dir, resume=resume)
    return {
        "accuracy": fit.score("test", "accuracy", name),
        "val_accuracy": fit.score("val", "accuracy", name),
        "best_epoch": fit.best_epoch,
        "iterations": int(training.epochs),
        "fit_seconds": time.perf_counter() - started,
        "evaluate_seconds": 0.0,
        "n_train_used": fed[name]["train"].n_cases,
    }


# -- the classification experiment ----------------------------------------------------------------
RESULT_COLUMNS = [
    "dataset", "source", "method", "protocol", "seed", "accuracy", "svm_C", "svm_searched", "cv_accuracy",
    "val_accuracy", "best_epoch", "feature_dims", "iterations", "n_train", "n_test", "n_steps", "n_channels",
    "n_classes", "fit_seconds", "evaluate_seconds",
]  # fmt: skip


def gather_datasets(
    uea: Mapping[str, Any],
    uea_names: Sequence[str],
    embedded: Sequence[str] = ("BasicMotions", "JapaneseVowels"),
    selected: Sequence[str] | None = None,
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """The datasets of the classification table and a table of what was found.

    Parameters
    ----------
    uea : mapping name -> {"train", "test"}
        The UEA folder (the ``uea_archive`` catalog entry, read lazily).
    uea_names : names present in it (:func:`tsmtl.data.uea.available_uea_datasets`).
    embedded : aeon's embedded sets to add (:func:`tsmtl.data.aeon_datasets.load_embedded_classification`);
        a set present in the UEA folder too is read from there.
    selected : optional restriction (the ``datasets:`` parameter); names found nowhere are
        reported with ``present`` False and skipped.

    Returns
    -------
    datasets : ``{name: {"parts": {"train", "test"}, "source": "uea" | "aeon"}}``, UEA first
    availability : DataFrame, one row per name: ``present`` and :func:`describe_dataset`'s columns

    Raises
    ------
    FileNotFoundError
        Nothing to run.
    """
    from tsmtl.data.aeon_datasets import EMBEDDED_CLASSIFICATION, load_embedded_classification

    candidates = {name: "uea" for name in uea_names}
    for name in embedded:
        if name not in EMBEDDED_CLASSIFICATION:
            raise ValueError(f"{name!r} is not shipped with aeon; embedded sets: {', '.join(EMBEDDED_CLASSIFICATION)}")
        candidates.setdefault(name, "aeon")
    names = list(candidates) if not selected else list(dict.fromkeys(selected))
    datasets, rows = {}, []
    for name in names:
        source = candidates.get(name)
        if source is None:
            log.warning("dataset %s is neither in the UEA folder nor among the embedded sets %s: skipped", name, list(embedded))
            rows.append({"dataset": name, "source": "", "present": False})
            continue
        parts = uea[name] if source == "uea" else load_embedded_classification(name)
        if "test" not in parts:
            log.warning("dataset %s has no TEST file: skipped (the official split needs both)", name)
            rows.append({"dataset": name, "source": source, "present": False})
            continue
        datasets[name] = {"parts": {"train": parts["train"], "test": parts["test"]}, "source": source}
        rows.append({**describe_dataset(name, parts, source), "present": True})
    if not datasets:
        raise FileNotFoundError(f"none of {names} could be read (UEA folder: {getattr(uea, 'root', uea_names)}; embedded: {list(embedded)})")
    columns = ["dataset", "source", "present", "n_train", "n_test", "n_channels", "n_steps", "n_classes", "equal_length"]
    return datasets, pd.DataFrame(rows).reindex(columns=columns)


def describe_dataset(name: str, parts: Mapping[str, TimeSeriesData], source: str) -> dict[str, Any]:
    """One row of the availability table: sizes, channels, longest length, classes, equal lengths."""
    train, test = parts["train"], parts["test"]
    return {
        "dataset": name,
        "source": source,
        "n_train": train.n_cases,
        "n_test": test.n_cases,
        "n_channels": train.n_channels,
        "n_steps": max(train.n_timepoints, test.n_timepoints),
        "n_classes": int(len(np.unique(train.y))),
        "equal_length": bool(train.equal_length and test.equal_length and train.n_timepoints == test.n_timepoints),
    }


def classification_experiment(
    datasets: Mapping[str, Mapping[str, Any]],
    options: Mapping[str, Any],
    device: str = "auto",
) -> tuple[pd.DataFrame, dict[str, dict[str, TRep]]]:
    """Every method on every dataset and seed (T-Rep paper Sec. 4.1, on the official split).

    Parameters
    ----------
    datasets : mapping name -> {"parts": {"train", "test"} TimeSeriesData, "source": str}
    options : mapping
        ``seeds``; ``methods`` (subset of trep, ts2vec, resnet1d); ``trep`` / ``ts2vec``
        (TRepConfig fields); ``protocols``; ``timedim_windows`` (W, 10); ``svm``
        (:func:`fit_svm` keywords); ``supervised`` (:func:`fit_supervised` options, with
        ``seeds`` to run fewer than the encoders); ``encode_batch_size``; ``checkpoint_dir``
        and ``resume`` for the supervised fits.

    Returns
    -------
    results : DataFrame with :data:`RESULT_COLUMNS`, one row per (dataset, method, seed)
    encoders : ``{dataset: {method name: TRep}}`` fitted with the first seed
    """
    seeds = [int(s) for s in options.get("seeds", [0])]
    methods = encoder_methods(options)
    run_supervised = "resnet1d" in list(options.get("methods") or ("trep", "ts2vec", "resnet1d"))
    supervised = dict(options.get("supervised") or {})
    supervised_seeds = [int(s) for s in supervised.pop("seeds", seeds)]
    svm = dict(options.get("svm") or {})
    n_windows = int(options.get("timedim_windows", 10))
    encode_batch_size = int(options.get("encode_batch_size", 256))
    rows: list[dict[str, Any]] = []
    encoders: dict[str, dict[str, TRep]] = {}
    for name, entry in datasets.items():
        parts, source = entry["parts"], entry.get("source", "")
        described = describe_dataset(name, parts, source)
        split = encoder_inputs(parts)
        for method in methods:
            for seed in seeds:
                row, model = evaluate_encoder(method, split, seed=seed, device=device, svm=svm, n_windows=n_windows, encode_batch_size=encode_batch_size)
                rows.append({**described, "method": method.name, "protocol": method.protocol, "seed": seed, **row})
                log.info("%s %s seed %d: accuracy %.3f (C=%g, %.0fs)", name, method.name, seed, row["accuracy"], row["svm_C"], row["fit_seconds"])
                if seed == seeds[0]:
                    encoders.setdefault(name, {})[method.name] = model
        if run_supervised:
            for seed in supervised_seeds:
                checkpoint = options.get("checkpoint_dir")
                row = fit_supervised(parts, supervised, seed=seed, device=device, checkpoint_dir=None if checkpoint is None else f"{checkpoint}/{name}", resume=bool(options.get("resume", False)))
                row.pop("n_train_used")
                rows.append({**described, "method": SUPERVISED, "protocol": "supervised", "seed": seed, **row})
                log.info("%s %s seed %d: accuracy %.3f", name, SUPERVISED, seed, row["accuracy"])
    return pd.DataFrame(rows).reindex(columns=RESULT_COLUMNS), encoders


def published_accuracy(dataset: str, method: str) -> float:
    """The paper's number for (dataset, method), NaN when it has none."""
    columns = {TREP: 0, TS2VEC: 1, TS2VEC_TIMEDIM: 2}
    if dataset not in PUBLISHED_UEA_ACCURACY or method not in columns:
        return float("nan")
    return PUBLISHED_UEA_ACCURACY[dataset][columns[method]]


SUMMARY_COLUMNS = ["dataset", "method", "protocol", "mean", "std", "n_seeds", "published"]


def summarise_accuracy(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof 1; NaN for one seed) and count of test accuracy per (dataset, method),
    beside :func:`published_accuracy`; rows in the order the results came."""
    if results.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    grouped = results.groupby(["dataset", "method", "protocol"], sort=False)["accuracy"]
    summary = grouped.agg(mean="mean", std="std", n_seeds="count").reset_index()
    summary["published"] = [published_accuracy(d, m) for d, m in zip(summary["dataset"], summary["method"], strict=True)]
    return summary[SUMMARY_COLUMNS]


def _cell(mean: float, std: float, published: float = float("nan"), digits: int = 3) -> str:
    if pd.isna(mean):
        return "—"
    text = f"{mean:.{digits}f}" if pd.isna(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"
    return text + ("" if pd.isna(published) else f" [{published:.{digits}f}]")


METHOD_ORDER = (TREP, TS2VEC, SUPERVISED)
PROTOCOL_LABELS = {"timedim": "TimeDim", "instance": "instance"}


def _method_label(method: str, protocol: str) -> str:
    """Column title: the method and, for the encoders, its protocol (``T-Rep (TimeDim)``)."""
    return f"{method} ({PROTOCOL_LABELS[protocol]})" if protocol in PROTOCOL_LABELS else method


def classification_markdown(summary: pd.DataFrame, availability: pd.DataFrame | None = None, header_lines: Sequence[str] = ()) -> str:
    """The accuracy table: datasets x methods, ``mean ± std [published]``, and an average row.

    The average row is over the datasets where every shown method has a result; its brackets
    hold the paper's numbers averaged over the same datasets (where the paper has them all).
    """
    lines = [*header_lines, ""] if header_lines else []
    if summary.empty:
        return "\n".join([*lines, "No results.", ""])
    methods = [m for m in METHOD_ORDER if m in set(summary["method"])]
    methods += [m for m in dict.fromkeys(summary["method"]) if m not in methods]
    protocol = {m: summary.loc[summary["method"] == m, "protocol"].iloc[0] for m in methods}
    head = ["Dataset", "train / test", *[_method_label(m, protocol[m]) for m in methods]]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    index = {(r["dataset"], r["method"]): r for _, r in summary.iterrows()}
    sizes = {} if availability is None else {r["dataset"]: f"{r['n_train']} / {r['n_test']}" for _, r in availability.iterrows()}
    datasets = list(dict.fromkeys(summary["dataset"]))
    for dataset in datasets:
        cells = []
        for method in methods:
            row = index.get((dataset, method))
            cells.append("—" if row is None else _cell(row["mean"], row["std"], row["published"]))
        lines.append(f"| {dataset} | {sizes.get(dataset, '')} | " + " | ".join(cells) + " |")
    complete = [d for d in datasets if all((d, m) in index for m in methods)]
    if complete:
        cells = []
        for method in methods:
            means = [index[(d, method)]["mean"] for d in complete]
            published = [index[(d, method)]["published"] for d in complete]
            paper = float(np.mean(published)) if not any(pd.isna(p) for p in published) else float("nan")
            cells.append(_cell(float(np.mean(means)), float("nan"), paper))
        lines.append(f"| **Average ({len(complete)} sets)** | | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# -- robustness to missing data (Sec. 4.4) --------------------------------------------------------
MISSING_COLUMNS = [
    "dataset", "rate", "method", "protocol", "seed", "accuracy", "svm_C", "svm_searched", "cv_accuracy",
    "removed_train", "removed_test", "feature_dims", "iterations", "fit_seconds", "evaluate_seconds",
]  # fmt: skip


def missing_data_experiment(
    parts: Mapping[str, TimeSeriesData],
    options: Mapping[str, Any],
    device: str = "auto",
) -> pd.DataFrame:
    """Accuracy against the fraction of time steps removed (T-Rep Sec. 4.4, Fig. 4b).

    For every ``rate`` in ``options["rates"]`` and seed: :func:`~tsmtl.data.preprocessing.random_missing`
    (``unit`` "timestep" as T-Rep's ``data_dropout``: ``int(N * rate)`` of the ``N`` steps of a
    split set to NaN in every channel) on TRAIN and on TEST, each with the seed
    ``missing_seed + seed`` (a new draw per run), then every :func:`encoder_methods` method as in
    :func:`classification_experiment` (fitted on the incomplete TRAIN, the SVM on its
    representations). ``removed_*`` are the fractions of steps actually removed.
    """
    seeds = [int(s) for s in options.get("seeds", [0])]
    rates = [float(r) for r in options.get("rates", [0.0])]
    unit = options.get("unit", "timestep")
    methods = encoder_methods({**options, "methods": [m for m in (options.get("methods") or ("trep", "ts2vec")) if m != "resnet1d"]})
    svm = dict(options.get("svm") or {})
    n_windows = int(options.get("timedim_windows", 10))
    missing_seed = int(options.get("missing_seed", 0))
    name = parts["train"].name
    rows = []
    for rate in rates:
        for seed in seeds:
            degraded = {split: random_missing(parts[split], rate, seed=missing_seed + seed, unit=unit) for split in ("train", "test")}
            removed = {split: data.meta["missing"]["removed"] / max(data.meta["missing"]["candidates"], 1) for split, data in degraded.items()}
            split = encoder_inputs(degraded)
            for method in methods:
                row, _ = evaluate_encoder(method, split, seed=seed, device=device, svm=svm, n_windows=n_windows, encode_batch_size=int(options.get("encode_batch_size", 256)))
                rows.append({"dataset": name, "rate": rate, "method": method.name, "protocol": method.protocol, "seed": seed, "removed_train": removed["train"], "removed_test": removed["test"], **row})
                log.info("%s %.0f%% missing, %s seed %d: accuracy %.3f", name, 100 * rate, method.name, seed, row["accuracy"])
    return pd.DataFrame(rows).reindex(columns=MISSING_COLUMNS)


MISSING_SUMMARY_COLUMNS = ["dataset", "rate", "method", "protocol", "mean", "std", "n_seeds", "published"]


def summarise_missing(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, std, count per (rate, method), with :data:`PUBLISHED_MISSING_DATA` where it has the rate."""
    if results.empty:
        return pd.DataFrame(columns=MISSING_SUMMARY_COLUMNS)
    grouped = results.groupby(["dataset", "rate", "method", "protocol"], sort=False)["accuracy"]
    summary = grouped.agg(mean="mean", std="std", n_seeds="count").reset_index()
    summary["published"] = [
        next((v for r, v in PUBLISHED_MISSING_DATA.get(m, {}).items() if np.isclose(r, rate)), np.nan)
        for rate, m in zip(summary["rate"], summary["method"], strict=True)
    ]
    return summary.sort_values(["rate"], kind="stable")[MISSING_SUMMARY_COLUMNS].reset_index(drop=True)


def missing_markdown(summary: pd.DataFrame, header_lines: Sequence[str] = ()) -> str:
    """Rates x methods, ``mean ± std [published]`` (accuracy on the incomplete TEST)."""
    lines = [*header_lines, ""] if header_lines else []
    if summary.empty:
        return "\n".join([*lines, "No results.", ""])
    methods = [m for m in METHOD_ORDER if m in set(summary["method"])]
    head = ["% steps missing", *[_method_label(m, summary.loc[summary["method"] == m, "protocol"].iloc[0]) for m in methods]]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    index = {(r["rate"], r["method"]): r for _, r in summary.iterrows()}
    for rate in dict.fromkeys(summary["rate"]):
        cells = [_cell(index[(rate, m)]["mean"], index[(rate, m)]["std"], index[(rate, m)]["published"]) if (rate, m) in index else "—" for m in methods]
        lines.append(f"| {100 * rate:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def missing_curve_figure(summary: pd.DataFrame, title: str = "") -> Figure:
    """Fig. 4b: accuracy (mean ± std over seeds) against % of steps missing, one line per method;
    the paper's points as open markers of the same colour."""
    fig = Figure(figsize=(5.5, 3.6))
    ax = fig.add_subplot()
    colours = {TREP: "#2ca02c", TS2VEC: "#ff7f0e"}
    for method in [m for m in METHOD_ORDER if m in set(summary["method"])]:
        part = summary[summary["method"] == method].sort_values("rate")
        colour = colours.get(method)
        ax.errorbar(100 * part["rate"], part["mean"], yerr=part["std"].fillna(0.0), marker="o", capsize=3, color=colour, label=f"{method} (this run)")
        published = PUBLISHED_MISSING_DATA.get(method, {})
        if published:
            ax.scatter([100 * r for r in published], list(published.values()), marker="s", facecolors="none", edgecolors=colour or "k", s=45, label=f"{method} (paper)")
    ax.set_xlabel("% of time steps missing (train and test)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(top=1.01)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "Accuracy against missing data", fontsize=10)
    fig.tight_layout()
    return fig


# -- the latent heatmap (Fig. 4a) -----------------------------------------------------------------
def longest_gap(values: np.ndarray) -> tuple[int, int]:
    """``(start, length)`` of the longest run of all-NaN steps of one series ``(T, C)`` inside its
    observed span (trailing padding is not a gap); ``(0, 0)`` when there is none."""
    missing = np.isnan(np.asarray(values, dtype=float)).all(axis=-1)
    observed = np.flatnonzero(~missing)
    if observed.size == 0:
        return 0, 0
    best, start = (0, 0), None
    for t in range(int(observed[0]), int(observed[-1]) + 1):
        if missing[t] and start is None:
            start = t
        elif not missing[t] and start is not None:
            if t - start > best[1]:
                best = (start, t - start)
            start = None
    return best


def heatmap_series(X: np.ndarray, gap_length: int = 25, segment_start: int | None = None) -> tuple[int, np.ndarray, tuple[int, int], bool]:
    """The series of Fig. 4a from ``X`` ``(N, T, C)``: ``(index, series (T, C), (start, length), masked_here)``.

    The first series whose longest gap is ``gap_length`` steps (the paper's DodgerLoopGame
    series has a segment of 25 missing steps); else the series with the longest gap; and when
    no series has a gap, series 0 with ``gap_length`` steps set to NaN from ``segment_start``
    (default: centred) -- ``masked_here`` says so.
    """
    X = np.asarray(X, dtype=np.float32)
    gaps = [longest_gap(series) for series in X]
    exact = [i for i, (_, length) in enumerate(gaps) if length == gap_length]
    if exact:
        return exact[0], X[exact[0]].copy(), gaps[exact[0]], False
    longest = int(np.argmax([length for _, length in gaps]))
    if gaps[longest][1] > 0:
        return longest, X[longest].copy(), gaps[longest], False
    series = X[0].copy()
    length = min(int(gap_length), series.shape[0] - 2)
    start = (series.shape[0] - length) // 2 if segment_start is None else int(segment_start)
    series[start : start + length] = np.nan
    return 0, series, (start, length), True


def latent_heatmap(model: TRep, series: np.ndarray, n_dims: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """Per-step representation of one series ``(T, C)`` (NaN = missing) restricted to its ``n_dims``
    dimensions of highest variance over time: ``(heat (n_dims, T), dims (n_dims,))``, the dims
    in decreasing variance (T-Rep Sec. 4.3/4.4: "only the 15 most varying dimensions")."""
    steps = model.encode(np.asarray(series, dtype=np.float32)[None])[0]  # (T, F)
    variance = steps.var(axis=0)
    dims = np.argsort(-variance, kind="stable")[: int(n_dims)]
    return steps[:, dims].T, dims


def heatmap_encoders(parts: Mapping[str, TimeSeriesData], options: Mapping[str, Any], device: str = "auto") -> dict[str, Any]:
    """T-Rep and TS2Vec fitted on one dataset's TRAIN (``options["trep"]``/``["ts2vec"]``, seed
    ``options["heatmap"]["seed"]``) and the series of Fig. 4a picked by :func:`heatmap_series`
    from ``options["heatmap"]["split"]`` (default TRAIN).

    Returns ``{"dataset", "split", "index", "series" (T, C) scaled as the encoders saw it,
    "gap" (start, length), "masked_here", "encoders" {method name: TRep}}``.
    """
    settings = dict(options.get("heatmap") or {})
    split = encoder_inputs(parts)
    which = settings.get("split", "train")
    if which not in ("train", "test"):
        raise ValueError(f"heatmap split must be 'train' or 'test', got {which!r}")
    pool = split.X_train if which == "train" else split.X_test
    index, series, gap, masked = heatmap_series(pool, int(settings.get("gap_length", 25)), settings.get("segment_start"))
    methods = encoder_methods({**options, "methods": ["trep", "ts2vec"]})
    seed = int(settings.get("seed", 0))
    models = {m.name: fit_representation(split.X_train, m.kind, m.params, seed=seed, device=device) for m in methods}
    return {"dataset": split.name, "split": which, "index": index, "series": series, "gap": gap, "masked_here": masked, "encoders": models}


def heatmap_figure(series: np.ndarray, gap: tuple[int, int], heats: Mapping[str, np.ndarray], title: str = "") -> Figure:
    """Fig. 4a: the input (top) and each model's heatmap (bottom), the missing segment marked."""
    names = list(heats)
    n = max(len(names), 1)
    fig = Figure(figsize=(4.4 * n, 4.6))
    axes = fig.subplots(2, n, squeeze=False, gridspec_kw={"height_ratios": [1, 2], "wspace": 0.55})
    start, length = gap
    steps = np.arange(series.shape[0])
    for column, name in enumerate(names):
        top, bottom = axes[0, column], axes[1, column]
        top.plot(steps, series, lw=0.9)
        top.set_xlim(-0.5, series.shape[0] - 0.5)
        top.tick_params(labelbottom=False)
        if length:
            top.axvspan(start - 0.5, start + length - 0.5, color="0.85", label="missing")
            top.legend(fontsize=7, loc="upper right")
        top.set_title(name, fontsize=10)
        image = bottom.imshow(heats[name], aspect="auto", interpolation="nearest", cmap="viridis")
        if length:
            for edge in (start - 0.5, start + length - 0.5):
                bottom.axvline(edge, color="white", lw=1, ls="--")
        bottom.set_xlabel("time step")
        bottom.set_ylabel("dimension, by variance rank")
        bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
        # the colour bar in an inset beside the heatmap takes no width from it: the series above
        # and its heatmap keep the same time axis
        fig.colorbar(image, cax=bottom.inset_axes((1.02, 0.0, 0.03, 1.0)))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


__all__ = [
    "EncoderMethod",
    "EncoderSplit",
    "MISSING_COLUMNS",
    "PUBLISHED_MISSING_DATA",
    "PUBLISHED_MISSING_DATA_RUNS",
    "PUBLISHED_UEA_ACCURACY",
    "PUBLISHED_UEA_AVERAGE",
    "PROTOCOLS",
    "PROTOCOL_DESCRIPTIONS",
    "RESULT_COLUMNS",
    "SUPERVISED",
    "TREP",
    "TS2VEC",
    "TS2VEC_OWN_PAPER_UEA_AVERAGE",
    "TS2VEC_TIMEDIM",
    "classification_experiment",
    "classification_markdown",
    "describe_dataset",
    "encoder_inputs",
    "encoder_methods",
    "evaluate_encoder",
    "fit_supervised",
    "gather_datasets",
    "heatmap_encoders",
    "heatmap_figure",
    "heatmap_series",
    "latent_heatmap",
    "longest_gap",
    "missing_curve_figure",
    "missing_data_experiment",
    "missing_markdown",
    "published_accuracy",
    "representation_features",
    "summarise_accuracy",
    "summarise_missing",
    "timedim_features",
]
