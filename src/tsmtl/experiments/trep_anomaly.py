"""T-Rep's anomaly detection experiments (Fraikin et al., ICLR 2024, Sec. 4.3 "Time Series Anomaly
Detection" and App. "Anomaly Detection"), for T-Rep, TS2Vec and a raw-data baseline.

Two protocols:

**Streaming point anomalies** (App. "Yahoo", which follows TS2Vec's ``eval_anomaly_detection``
and Ren et al. 2019). Per series (:func:`prepare_streaming_series`): difference ``d`` times, ``d``
from ADF tests on the first half (the landed :func:`~tsmtl.data.preprocessing.adf_difference`
with the authors' two tests, ``maxlag=1`` and the AIC lag), split into the first half (train)
and the second half (test), standardise both with the training half's mean and std. The
encoder is fitted on the training halves of all series, NaN-padded to a common length
(:func:`pretraining_array`). Every step ``t`` of the whole series is encoded causally from the
``sliding_padding + 1`` steps ending at ``t`` (``sliding_length=1``), once with ``x_t`` masked
and once unmasked; the anomaly score is ``alpha_t = ||r^u_t - r^m_t||_1``
(:func:`representation_scores`). Then (:func:`detect_series`):

* ``alpha^adj_t = (alpha_t - abar_t) / abar_t``, ``abar_t`` the mean of the ``Z = 21`` scores
  *before* ``t`` (:func:`adjusted_scores`; the appendix's sum runs to ``t``, the authors' code
  shifts the moving mean by one step so that ``t`` is excluded -- the code is followed);
* threshold ``mu + beta * sigma`` of the training half's adjusted scores, the first 22 left out
  (``beta = 4`` in both authors' code; the paper leaves beta unnamed);
* an alarm is dropped when another alarm was raised in the ``delay`` steps before it
  (:func:`suppress_repeated_alarms`);
* point adjustment (:func:`point_adjust`, TS2Vec's ``get_range_proba``): on the series'
  regular time grid (:func:`on_regular_grid`, missing steps count as normal and unflagged), an
  anomalous segment counts as detected -- every point of it flagged -- when an alarm falls on
  one of its first ``delay + 1`` points (offsets ``0 .. delay``); otherwise none of it is;
* F1, precision and recall over the concatenated test halves of all series
  (:func:`streaming_scores`).

The baseline (:func:`raw_scores`) runs the same adjustment, threshold, suppression and
adjustment on the raw (differenced, standardised) values, with ``alpha_t = |x_t - mean of the
Z values before t|``. The paper's own "Baseline" on Yahoo (F1 0.110) is not specified further
than "the same protocol on the raw data".

**Sepsis** (App. "Sepsis"): PhysioNet 2019, forward-filled per patient, the last 45 hours of
the ten paper features (landed :func:`~tsmtl.data.preprocessing.physionet_last_hours`); a
patient-level stratified split (:func:`prepare_sepsis`); the encoder (representation 32) is
fitted on the training patients; every window of 6 consecutive hours is encoded on its own,
``z_{t-6:t} in R^{6 x F}`` flattened (:func:`window_features`), and an RBF SVM with ``C`` in
``10^-4 .. 10^4`` chosen by cross-validation (:func:`tsmtl.evaluation.svm.fit_svm`) predicts the hour's
``SepsisLabel`` at the window's last step. The baseline is the same SVM on the raw windows.
Scores (:func:`sepsis_scores`): the paper's F1 is the *mean over test patients* of the PhysioNet
challenge's per-patient F-measure (the authors' ``sepsis_ad.py``; a patient with no septic hour
and no alarm scores 1), with the per-patient accuracy beside it; the F1, precision and recall
pooled over every test window are reported too.

Published numbers are in :data:`PUBLISHED`; :func:`summarise` puts them beside ours.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split

from tsmtl.data.errors import DataNotFoundError
from tsmtl.data.preprocessing.cleaning import adf_difference, forward_fill, z_normalise
from tsmtl.data.preprocessing.recipes import physionet_last_hours
from tsmtl.data.preprocessing.splits import stratified_split
from tsmtl.data.preprocessing.windows import sliding_windows
from tsmtl.data.types import TimeSeriesData
from tsmtl.evaluation import metrics
from tsmtl.evaluation.svm import C_GRID, fit_svm
from tsmtl.training.trep import TRep, fit_representation

log = logging.getLogger(__name__)

#: Display names of the methods, in table order.
METHOD_LABELS = {"trep": "T-Rep", "ts2vec": "TS2Vec", "baseline": "Baseline (raw)"}
#: One row per (task, dataset, method, seed, metric).
RESULT_COLUMNS = ["task", "dataset", "method", "seed", "metric", "value", "seconds"]
STREAMING_METRICS = ("f1", "precision", "recall", "auprc_points")
SEPSIS_METRICS = ("f1_patient_mean", "accuracy_patient_mean", "f1_windows", "precision_windows", "recall_windows")
SEPSIS_DATASET = "PhysioNet 2019 (set A)"
YAHOO_DATASET = "Yahoo S5"
#: The C grid of the SVM (T-Rep App. "Sepsis": ``{10^k | k in [-4, 4]}``).

#: Published results: (task, dataset, method, metric) -> (value, where in the paper).
#: T-Rep = Fraikin, Bennetot & Allassonniere, "T-Rep: Representation learning for time series
#: using time-embeddings", ICLR 2024; TS2Vec = Yue et al., AAAI 2022.
PUBLISHED: dict[tuple[str, str, str, str], tuple[float, str]] = {
    ("streaming", YAHOO_DATASET, "T-Rep", "f1"): (0.757, "T-Rep Table 'anomaly' (Sec. 4.3) and App. 'Anomaly Detection Full Results'; the text of Sec. 4.3 says 75.5 %"),
    ("streaming", YAHOO_DATASET, "T-Rep", "precision"): (0.796, "T-Rep App. 'Anomaly Detection Full Results'"),
    ("streaming", YAHOO_DATASET, "T-Rep", "recall"): (0.723, "T-Rep App. 'Anomaly Detection Full Results'"),
    ("streaming", YAHOO_DATASET, "TS2Vec", "f1"): (0.733, "T-Rep's rerun of TS2Vec (batch 16), Table 'anomaly' and appendix; TS2Vec's own paper: 0.745"),
    ("streaming", YAHOO_DATASET, "TS2Vec", "precision"): (0.706, "T-Rep's rerun of TS2Vec, App. 'Anomaly Detection Full Results'"),
    ("streaming", YAHOO_DATASET, "TS2Vec", "recall"): (0.762, "T-Rep's rerun of TS2Vec, App. 'Anomaly Detection Full Results'"),
    ("streaming", YAHOO_DATASET, "Baseline (raw)", "f1"): (0.110, "T-Rep Table 'anomaly' (Sec. 4.3), 'Baseline'"),
    ("sepsis", SEPSIS_DATASET, "T-Rep", "f1_patient_mean"): (0.665, "T-Rep App. 'Anomaly Detection Full Results' and Table 'ablation-study'; Table 'anomaly' prints 0.666"),
    ("sepsis", SEPSIS_DATASET, "T-Rep", "accuracy_patient_mean"): (0.790, "T-Rep App. 'Anomaly Detection Full Results'"),
    ("sepsis", SEPSIS_DATASET, "TS2Vec", "f1_patient_mean"): (0.619, "T-Rep Table 'anomaly' and appendix; Table 'ablation-study' prints 0.610"),
    ("sepsis", SEPSIS_DATASET, "TS2Vec", "accuracy_patient_mean"): (0.771, "T-Rep App. 'Anomaly Detection Full Results'"),
    ("sepsis", SEPSIS_DATASET, "Baseline (raw)", "f1_patient_mean"): (0.241, "T-Rep Table 'anomaly' and appendix ('Raw data')"),
    ("sepsis", SEPSIS_DATASET, "Baseline (raw)", "accuracy_patient_mean"): (0.676, "T-Rep App. 'Anomaly Detection Full Results' ('Raw data')"),
}
#: TS2Vec's own Yahoo F1 (Yue et al., AAAI 2022, anomaly-detection table, normal setting).
TS2VEC_OWN_YAHOO_F1 = 0.745


# =================================================================================================
# Streaming anomaly detection (Yahoo protocol)
# =================================================================================================
@dataclass
class StreamingSeries:
    """One differenced, standardised series split in halves.

    ``train`` (T1,), ``test`` (T2,) float64; labels int 0/1 and timestamps int64 of the same
    lengths; ``d`` differences taken; ``mean``/``std`` of the training half before scaling.
    """

    name: str
    train: np.ndarray
    test: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray
    train_timestamps: np.ndarray
    test_timestamps: np.ndarray
    d: int
    mean: float
    std: float

    @property
    def values(self) -> np.ndarray:
        """The whole series (T1 + T2,)."""
        return np.concatenate([self.train, self.test])


def prepare_streaming_series(values: np.ndarray, labels: np.ndarray, timestamps: np.ndarray | None = None, name: str = "series", adf_options: Mapping[str, Any] | None = None) -> StreamingSeries:
    """T-Rep/TS2Vec's Yahoo preprocessing of one series (values (T,), labels (T,) 0/1).

    ``d`` differences (ADF on the first half, :func:`adf_difference` with ``adf_options``,
    default the authors' ``maxlag=(1, None), fit_fraction=0.5``); the first ``d`` labels and
    timestamps are dropped (the difference ``x_t - x_{t-1}`` keeps the label of ``t``); the
    split is at ``T // 2 - d``, as in the authors' ``preprocess_yahoo.py``; both halves are
    standardised with the training half's mean and std (std 0 is taken as 1).
    """
    values = np.asarray(values, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    timestamps = np.arange(len(values), dtype=np.int64) if timestamps is None else np.asarray(timestamps, dtype=np.int64)
    if values.ndim != 1 or labels.shape != values.shape or timestamps.shape != values.shape:
        raise ValueError(f"{name}: values, labels and timestamps must be 1-D of one length, got {values.shape}, {labels.shape}, {timestamps.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(f"{name}: labels must be 0 or 1")
    if len(values) < 8:
        raise ValueError(f"{name}: {len(values)} points are too few to split into halves")
    options = {"maxlag": (1, None), "fit_fraction": 0.5, **dict(adf_options or {})}
    if isinstance(options.get("maxlag"), list):
        options["maxlag"] = tuple(options["maxlag"])
    differenced, d = adf_difference(values, name=name, **options)
    split = len(values) // 2 - d
    train, test = differenced[:split], differenced[split:]
    mean, std = float(train.mean()), float(train.std())
    std = std if std > 0 else 1.0
    return StreamingSeries(
        name=name, train=(train - mean) / std, test=(test - mean) / std,
        train_labels=labels[d:][:split], test_labels=labels[d:][split:],
        train_timestamps=timestamps[d:][:split], test_timestamps=timestamps[d:][split:],
        d=int(d), mean=mean, std=std,
    )  # fmt: skip


def streaming_from_frame(frame: pd.DataFrame, adf_options: Mapping[str, Any] | None = None, name: str | None = None) -> list[StreamingSeries]:
    """Series of a long frame (``value``, ``is_anomaly``, ``timestamp``; Yahoo's also
    ``benchmark``/``series_id``, one series per pair) -> :func:`prepare_streaming_series` each."""
    missing = [c for c in ("value", "is_anomaly") if c not in frame.columns]
    if missing:
        raise ValueError(f"an anomaly frame needs columns value and is_anomaly; missing {missing}")
    keys = [c for c in ("benchmark", "series_id") if c in frame.columns]
    groups = frame.groupby(keys, sort=False) if keys else [((name or frame.attrs.get("name", "series"),), frame)]
    out = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = "/".join(str(k) for k in key)
        stamps = part["timestamp"].to_numpy() if "timestamp" in part.columns else None
        out.append(prepare_streaming_series(part["value"].to_numpy(), part["is_anomaly"].to_numpy(), stamps, name=label, adf_options=adf_options))
    return out


def load_registered_yahoo(root: str, benchmarks: Sequence[str] = ("A1", "A2", "A3", "A4")) -> tuple[pd.DataFrame | None, str]:
    """Yahoo S5 from ``root`` when the user registered it: ``(frame, status)``.

    A missing folder is not an error here (the data is licence-bound): ``(None, "not
    registered: ...")``. A malformed copy still raises (the reader names the file and line).
    """
    from tsmtl.data.yahoo import load_yahoo_benchmark

    try:
        frame = load_yahoo_benchmark(root, benchmarks=tuple(benchmarks))
    except DataNotFoundError as error:
        first = str(error).split(". ")[0]
        return None, f"not registered ({first}); `kedro run --pipelines register_yahoo` installs a licensed copy"
    n_series = frame.groupby(["benchmark", "series_id"]).ngroups
    return frame, f"{n_series} series from {', '.join(benchmarks)}"


def prepare_streaming_datasets(embedded: pd.DataFrame | None, protocol: Mapping[str, Any]) -> dict[str, Any]:
    """The streaming data of every dataset in ``protocol["datasets"]`` (``"embedded"``: the aeon
    series handed in; ``"yahoo"``: Yahoo S5 from ``protocol["yahoo"]["root"]`` when registered).

    Returns ``{"datasets": {name: [StreamingSeries]}, "status": {name: text}}``; an
    unregistered Yahoo copy is a status line, not an error.
    """
    adf = protocol.get("adf")
    wanted = list(protocol.get("datasets", ["embedded", "yahoo"]))
    unknown = set(wanted) - {"embedded", "yahoo"}
    if unknown:
        raise ValueError(f"unknown streaming datasets {sorted(unknown)}; use 'embedded' and/or 'yahoo'")
    datasets: dict[str, list[StreamingSeries]] = {}
    status: dict[str, str] = {}
    if "embedded" in wanted:
        if embedded is None:
            raise ValueError("the embedded anomaly series was not handed in")
        name = str(embedded.attrs.get("name", "embedded"))
        datasets[name] = streaming_from_frame(embedded, adf, name=name)
        status[name] = describe_streaming(datasets[name], f"aeon's embedded series ({embedded.attrs.get('source', 'aeon')})")
    if "yahoo" in wanted:
        settings = dict(protocol.get("yahoo") or {})
        root = settings.get("root")
        if root is None:
            from tsmtl.config import data_dir

            root = data_dir() / "yahoo_s5"
        frame, text = load_registered_yahoo(root, settings.get("benchmarks", ("A1", "A2", "A3", "A4")))
        if frame is not None:
            datasets[YAHOO_DATASET] = streaming_from_frame(frame, adf)
            text = describe_streaming(datasets[YAHOO_DATASET], text)
        status[YAHOO_DATASET] = text
    return {"datasets": datasets, "status": status}


def describe_streaming(series: Sequence[StreamingSeries], source: str) -> str:
    """One line: source, series, train/test points, anomalous test points, differencing orders."""
    n_train = sum(len(s.train) for s in series)
    n_test = sum(len(s.test) for s in series)
    anomalies = sum(int(s.test_labels.sum()) for s in series)
    orders = np.bincount([s.d for s in series])
    d_text = ", ".join(f"d={d}: {n}" for d, n in enumerate(orders) if n)
    return f"{source}; {len(series)} series, {n_train} train / {n_test} test points, {anomalies} anomalous test points; ADF differencing {d_text}"


def pretraining_array(series: Sequence[StreamingSeries]) -> np.ndarray:
    """The training halves, NaN-padded at the end to the longest: (N, T1_max, 1) (TS2Vec's
    ``gen_ano_train_data``)."""
    if not series:
        raise ValueError("no series to train on")
    width = max(len(s.train) for s in series)
    out = np.full((len(series), width, 1), np.nan)
    for i, s in enumerate(series):
        out[i, : len(s.train), 0] = s.train
    return out


def representation_scores(model: TRep, series: Sequence[StreamingSeries], sliding_padding: int = 200, batch_size: int = 256) -> list[np.ndarray]:
    """``alpha_t = ||r^u_t - r^m_t||_1`` for every step of every series (train + test), each (T,).

    ``r^m`` is encoded with the step masked (``mask="mask_last"``), ``r^u`` without; both
    causally from the ``sliding_padding + 1`` steps ending at ``t`` (cut to the receptive
    field, :meth:`TRep.context_padding`, which gives the same representations).
    """
    padding = model.context_padding(sliding_padding)
    scores = []
    for s in series:
        x = s.values[None, :, None]
        masked = model.encode(x, mask="mask_last", causal=True, sliding_length=1, sliding_padding=padding, batch_size=batch_size)[0]
        unmasked = model.encode(x, causal=True, sliding_length=1, sliding_padding=padding, batch_size=batch_size)[0]
        scores.append(np.abs(unmasked - masked).sum(axis=-1).astype(np.float64))
    return scores


def raw_scores(series: Sequence[StreamingSeries], window: int = 21) -> list[np.ndarray]:
    """The baseline's score: ``|x_t - mean(x_{t-window} .. x_{t-1})|`` (NaN for the first ``window`` steps)."""
    out = []
    for s in series:
        x = pd.Series(s.values)
        out.append(np.abs(x - x.rolling(window, min_periods=window).mean().shift(1)).to_numpy())
    return out


def adjusted_scores(scores: np.ndarray, window: int = 21) -> np.ndarray:
    """``(a_t - abar_t) / abar_t`` with ``abar_t`` the mean of the ``window`` scores before ``t``
    (NaN for the first ``window`` steps, or where a mean is NaN; ``x / 0`` follows numpy)."""
    a = pd.Series(np.asarray(scores, dtype=np.float64))
    mean_before = a.rolling(window, min_periods=window).mean().shift(1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a.to_numpy() - mean_before) / mean_before


def suppress_repeated_alarms(alarms: np.ndarray, delay: int) -> np.ndarray:
    """Drop an alarm at ``i >= delay`` when a kept alarm lies in ``[i - delay, i)`` (TS2Vec's rule;
    alarms before ``delay`` are never dropped)."""
    out = np.asarray(alarms).astype(np.int64).copy()
    for i in range(int(delay), len(out)):
        if out[i] and out[i - delay : i].any():
            out[i] = 0
    return out


def point_adjust(predictions: np.ndarray, labels: np.ndarray, delay: int) -> np.ndarray:
    """TS2Vec's ``get_range_proba``: every anomalous segment of ``labels`` becomes all 1 when
    ``predictions`` has an alarm on offsets ``0 .. delay`` of it, else all 0; normal points keep
    their prediction. (A detection up to ``delay`` steps late counts, Ren et al. 2019.)"""
    predictions = np.asarray(predictions).astype(np.int64)
    labels = np.asarray(labels).astype(np.int64)
    if predictions.shape != labels.shape:
        raise ValueError(f"predictions {predictions.shape} and labels {labels.shape} differ in shape")
    out = predictions.copy()
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(labels)]])
    for start, end in zip(starts, ends):
        if len(labels) and labels[start] == 1:
            out[start:end] = int(predictions[start : min(start + delay + 1, end)].any())
    return out


def on_regular_grid(timestamps: np.ndarray, values: np.ndarray) -> np.ndarray:
    """TS2Vec's ``reconstruct_label``: ``values`` placed on the regular grid from the first to the
    last timestamp with the smallest gap as step; missing steps are 0."""
    timestamps = np.asarray(timestamps, dtype=np.int64)
    order = np.argsort(timestamps, kind="stable")
    stamps = timestamps[order]
    gaps = np.diff(stamps)
    step = int(gaps.min()) if gaps.size else 1
    if step <= 0:
        raise ValueError("timestamps must be distinct")
    grid = np.zeros((stamps[-1] - stamps[0]) // step + 1 if stamps.size else 0, dtype=np.int64)
    grid[(stamps - stamps[0]) // step] = np.asarray(values, dtype=np.int64)[order]
    return grid


@dataclass
class Detection:
    """One series' test half: adjusted scores, threshold, alarms before and after point adjustment."""

    name: str
    adjusted: np.ndarray
    threshold: float
    alarms: np.ndarray
    labels: np.ndarray
    timestamps: np.ndarray


def detect_series(series: StreamingSeries, scores: np.ndarray, score_window: int = 21, skip: int = 22, beta: float = 4.0, delay: int = 7) -> Detection:
    """Adjusted scores, the threshold ``mu + beta * sigma`` of the training half's finite
    adjusted scores after the first ``skip``, thresholded and suppressed alarms on the test half.

    With no finite training score the threshold is ``inf`` (no alarm)."""
    n_train = len(series.train)
    if len(scores) != n_train + len(series.test):
        raise ValueError(f"{series.name}: {len(scores)} scores for {n_train + len(series.test)} steps")
    adjusted = adjusted_scores(scores, score_window)
    history = adjusted[:n_train][skip:]
    history = history[np.isfinite(history)]
    threshold = float(history.mean() + beta * history.std()) if history.size else float("inf")
    test = adjusted[n_train:]
    with np.errstate(invalid="ignore"):
        alarms = suppress_repeated_alarms(test > threshold, delay)
    return Detection(series.name, test, threshold, alarms, series.test_labels, series.test_timestamps)


def _finite(scores: np.ndarray) -> np.ndarray:
    """NaN (no history yet) -> the smallest finite score, +inf -> above the largest."""
    finite = scores[np.isfinite(scores)]
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
    return np.nan_to_num(scores, nan=low, posinf=high + 1.0, neginf=low)


def streaming_scores(detections: Sequence[Detection], delay: int = 7) -> dict[str, float]:
    """F1, precision, recall of the point-adjusted alarms of all series together, and (a
    threshold-free diagnostic, not in the paper) the point-wise average precision of the
    adjusted test scores (:func:`tsmtl.evaluation.metrics.auprc`; NaN without anomalies)."""
    labels, predictions = [], []
    for det in detections:
        grid_labels = on_regular_grid(det.timestamps, det.labels)
        grid_alarms = on_regular_grid(det.timestamps, det.alarms)
        labels.append(grid_labels)
        predictions.append(point_adjust(grid_alarms, grid_labels, delay))
    y, p = np.concatenate(labels), np.concatenate(predictions)
    point_labels = np.concatenate([d.labels for d in detections])
    point_scores = np.concatenate([_finite(d.adjusted) for d in detections])
    return {
        "f1": float(f1_score(y, p, zero_division=0)),
        "precision": float(precision_score(y, p, zero_division=0)),
        "recall": float(recall_score(y, p, zero_division=0)),
        "auprc_points": metrics.auprc(point_labels, point_scores),
    }


def evaluate_scores(series: Sequence[StreamingSeries], scores: Sequence[np.ndarray], protocol: Mapping[str, Any], delay: int) -> tuple[dict[str, float], list[Detection]]:
    """:func:`detect_series` on every series, then :func:`streaming_scores`."""
    detections = [
        detect_series(s, a, int(protocol.get("score_window", 21)), int(protocol.get("skip_train_scores", 22)), float(protocol.get("beta", 4.0)), delay)
        for s, a in zip(series, scores, strict=True)
    ]
    return streaming_scores(detections, delay), detections


def _delay_for(protocol: Mapping[str, Any], dataset: str) -> int:
    delay = protocol.get("delay", 7)
    if isinstance(delay, Mapping):
        key = "yahoo" if dataset == YAHOO_DATASET else dataset
        return int(delay.get(key, delay.get("default", 7)))
    return int(delay)


def _rows(task: str, dataset: str, method: str, seed: int, scores: Mapping[str, float], seconds: float) -> list[dict[str, Any]]:
    return [{"task": task, "dataset": dataset, "method": method, "seed": seed, "metric": k, "value": float(v), "seconds": seconds} for k, v in scores.items()]


def _trace(series: Sequence[StreamingSeries], detections: Sequence[Detection], delay: int) -> dict[str, Any]:
    """What the plot needs of the series with the most anomalous test points."""
    index = int(np.argmax([d.labels.sum() for d in detections]))
    det, s = detections[index], series[index]
    return {"name": s.name, "test": s.test, "labels": det.labels, "adjusted": det.adjusted, "threshold": det.threshold,
            "alarms": det.alarms, "adjusted_alarms": point_adjust(det.alarms, det.labels, delay)}  # fmt: skip


def run_streaming(datasets: Mapping[str, Sequence[StreamingSeries]], options: Mapping[str, Any], device: str = "auto") -> tuple[pd.DataFrame, dict[str, TRep], dict[str, dict[str, Any]]]:
    """Every dataset x (baseline once; T-Rep, TS2Vec per seed).

    ``options``: ``seeds``, ``methods``, ``streaming`` (protocol settings and per-method encoder
    settings ``trep``/``ts2vec``: :class:`~tsmtl.training.trep.TRepConfig` fields).
    Returns the long result rows, the fitted encoders ``{"<dataset>/<method>/seed<k>": TRep}``
    and plot traces ``{method label: trace}`` of the first seed on ``plot_series``.
    """
    protocol = options.get("streaming", {})
    seeds = [int(s) for s in options.get("seeds", [0])]
    methods = list(options.get("methods", ["trep", "ts2vec"]))
    padding = int(protocol.get("sliding_padding", 200))
    batch = int(protocol.get("encode_batch_size", 256))
    plot_series = protocol.get("plot_series")
    rows: list[dict[str, Any]] = []
    encoders: dict[str, TRep] = {}
    traces: dict[str, dict[str, Any]] = {}
    for dataset, series in datasets.items():
        delay = _delay_for(protocol, dataset)
        start = time.perf_counter()
        scores, detections = evaluate_scores(series, raw_scores(series, int(protocol.get("score_window", 21))), protocol, delay)
        rows += _rows("streaming", dataset, METHOD_LABELS["baseline"], seeds[0], scores, time.perf_counter() - start)
        if dataset == plot_series:
            traces[METHOD_LABELS["baseline"]] = _trace(series, detections, delay)
        train = pretraining_array(series)
        for seed in seeds:
            for method in methods:
                start = time.perf_counter()
                model = fit_representation(train, method, protocol.get(method), seed=seed, device=device)
                scores, detections = evaluate_scores(series, representation_scores(model, series, padding, batch), protocol, delay)
                seconds = time.perf_counter() - start
                log.info("%s %s seed %d: %s (%.0f s)", dataset, method, seed, scores, seconds)
                rows += _rows("streaming", dataset, METHOD_LABELS[method], seed, scores, seconds)
                encoders[f"{dataset}/{method}/seed{seed}"] = model
                if dataset == plot_series and seed == seeds[0]:
                    traces[METHOD_LABELS[method]] = _trace(series, detections, delay)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS), encoders, traces


# =================================================================================================
# Sepsis (segment anomalies, supervised on top of the representations)
# =================================================================================================
def prepare_sepsis(frame: pd.DataFrame, options: Mapping[str, Any]) -> dict[str, TimeSeriesData]:
    """PhysioNet frame -> ``{"train", "test"}`` patients, standardised, ready for windows.

    :func:`physionet_last_hours` (forward-fill, the last ``hours`` hours, ``features``); an
    optional stratified random subset of ``n_patients`` (seed ``split.seed``); a stratified
    patient-level split (``split.fractions``, default the authors' 75/25); each feature
    z-normalised with the training patients' mean and std (:func:`z_normalise`); what is still
    missing inside a stay (before a feature's first measurement) is set to 0, the training
    mean (:func:`forward_fill` with ``fill_leading=0``). Each part's ``meta["sepsis_label"]``
    holds its hourly labels (n_patients, T), ``meta["patient_id"]`` its ids.
    """
    data = physionet_last_hours(frame, hours=int(options.get("hours", 45)), features=options.get("features"))
    split = dict(options.get("split") or {})
    seed = int(split.get("seed", 0))
    n_patients = options.get("n_patients")
    if n_patients is not None and int(n_patients) < data.n_cases:
        keep, _ = train_test_split(np.arange(data.n_cases), train_size=int(n_patients), random_state=seed, stratify=data.y)
        keep = np.sort(keep)
        data = data.subset(keep, sepsis_label=data.meta["sepsis_label"][keep], patient_id=data.meta["patient_id"][keep], n_hours_kept=data.meta["n_hours_kept"][keep])
    fractions = tuple(float(f) for f in split.get("fractions", (0.75, 0.25)))
    parts = stratified_split(data, fractions=fractions, seed=seed, names=("train", "test"))
    out = {}
    statistics = None
    for name in ("train", "test"):
        part = parts[name]
        index = part.meta["source_index"]
        if statistics is None:
            part = z_normalise(part, per_case=False)
            statistics = part.meta["z_normalise"]
        else:
            part = z_normalise(part, per_case=False, statistics=statistics)
        part = forward_fill(part, fill_leading=0.0)
        meta = {**part.meta, "sepsis_label": data.meta["sepsis_label"][index][:, : part.n_timepoints],
                "patient_id": data.meta["patient_id"][index], "n_hours_kept": data.meta["n_hours_kept"][index], "z_normalise": statistics}  # fmt: skip
        out[name] = replace(part, meta=meta)
    return out


@dataclass
class SepsisWindows:
    """Every window of ``w`` consecutive hours inside a stay: ``X`` (m, w, C), ``y`` (m,) the
    label of the window's last hour, ``patient`` (m,) row of the patient, ``end`` (m,) that hour."""

    X: np.ndarray
    y: np.ndarray
    patient: np.ndarray
    end: np.ndarray


def sepsis_windows(data: TimeSeriesData, window: int = 6) -> SepsisWindows:
    """Windows of ``window`` hours ending at every hour ``window - 1 .. lengths[i] - 1`` of each stay
    (:func:`sliding_windows`); the label is ``meta["sepsis_label"]`` at the last hour (in the
    PhysioNet files a stay's label never falls back to 0, so this equals the window's maximum,
    the authors' choice)."""
    hourly = np.asarray(data.meta["sepsis_label"], dtype=np.float64)
    if data.n_timepoints < window:
        raise ValueError(f"stays of {data.n_timepoints} hours are shorter than the window ({window})")
    views = sliding_windows(data.X, window, axis=-1)  # (n, C, T - w + 1, w)
    ends = np.arange(window - 1, data.n_timepoints)
    inside = ends[None, :] < data.lengths[:, None]
    patient, position = np.nonzero(inside)
    X = views[patient, :, position, :].transpose(0, 2, 1)  # (m, w, C)
    y = hourly[patient, ends[position]]
    if np.isnan(y).any():
        raise ValueError("a window ends on an hour without a SepsisLabel")
    return SepsisWindows(np.ascontiguousarray(X, dtype=np.float32), y.astype(np.int64), patient.astype(np.int64), ends[position].astype(np.int64))


def subsample_windows(labels: np.ndarray, max_windows: int | None, seed: int = 0) -> np.ndarray:
    """Indices of the training windows kept for the SVM: every positive and random negatives up to
    ``max_windows`` in all (all windows when ``max_windows`` is None or not exceeded)."""
    labels = np.asarray(labels)
    if max_windows is None or len(labels) <= int(max_windows):
        return np.arange(len(labels))
    positives = np.flatnonzero(labels == 1)
    negatives = np.flatnonzero(labels != 1)
    n_negatives = max(int(max_windows) - len(positives), 0)
    chosen = np.random.default_rng(seed).choice(negatives, size=min(n_negatives, len(negatives)), replace=False)
    return np.sort(np.concatenate([positives, chosen]))


def window_features(windows: np.ndarray, model: TRep | None = None, pooling: str = "flatten", batch_size: int = 256) -> np.ndarray:
    """Features of windows (m, w, C): raw (``model=None``) or each window encoded on its own,
    (m, w, F); ``pooling="flatten"`` gives (m, w * F) (the paper's ``z in R^{6 x F}``),
    ``"max"`` (m, F) (the authors' code max-pools over the window)."""
    z = windows if model is None else model.encode(windows, batch_size=batch_size)
    if pooling == "flatten":
        return z.reshape(len(z), -1)
    if pooling == "max":
        return z.max(axis=1)
    raise ValueError(f"pooling must be 'flatten' or 'max', got {pooling!r}")


def physionet_patient_scores(labels: np.ndarray, predictions: np.ndarray) -> tuple[float, float]:
    """(accuracy, F-measure) of one patient's hours, the PhysioNet 2019 challenge definitions:
    F = 2TP / (2TP + FP + FN), 1 when there is neither a septic hour nor an alarm."""
    labels = np.asarray(labels).astype(bool)
    predictions = np.asarray(predictions).astype(bool)
    tp = int((labels & predictions).sum())
    fp = int((~labels & predictions).sum())
    fn = int((labels & ~predictions).sum())
    accuracy = float((labels == predictions).mean()) if labels.size else 1.0
    denominator = 2 * tp + fp + fn
    return accuracy, (2 * tp / denominator if denominator else 1.0)


def sepsis_scores(data: TimeSeriesData, windows: SepsisWindows, predictions: np.ndarray) -> dict[str, float]:
    """Per-patient mean F-measure and accuracy over each stay's hours (hours before the first
    window get no alarm, as in the authors' code), and F1/precision/recall pooled over windows."""
    hourly = np.asarray(data.meta["sepsis_label"], dtype=np.float64)
    alarms = np.zeros(hourly.shape, dtype=np.int64)
    alarms[windows.patient, windows.end] = predictions
    per_patient = [physionet_patient_scores(hourly[i, :n], alarms[i, :n]) for i, n in enumerate(data.lengths)]
    accuracy, f_measure = np.mean(per_patient, axis=0)
    return {
        "f1_patient_mean": float(f_measure),
        "accuracy_patient_mean": float(accuracy),
        "f1_windows": float(f1_score(windows.y, predictions, zero_division=0)),
        "precision_windows": float(precision_score(windows.y, predictions, zero_division=0)),
        "recall_windows": float(recall_score(windows.y, predictions, zero_division=0)),
    }


def describe_sepsis(prepared: Mapping[str, TimeSeriesData], window: int = 6) -> str:
    """One line: patients, septic patients, windows and positive windows per part."""
    parts = []
    for name, data in prepared.items():
        windows = sepsis_windows(data, window)
        parts.append(f"{name} {data.n_cases} patients ({int(data.y.sum())} septic), {len(windows.y)} windows of {window} h ({int(windows.y.sum())} positive)")
    return "; ".join(parts)


def _channels_last(data: TimeSeriesData) -> np.ndarray:
    return np.ascontiguousarray(data.X.transpose(0, 2, 1), dtype=np.float32)


def run_sepsis(prepared: Mapping[str, TimeSeriesData], options: Mapping[str, Any], device: str = "auto") -> tuple[pd.DataFrame, dict[str, TRep]]:
    """Baseline, T-Rep and TS2Vec on the Sepsis windows, per seed.

    ``options["sepsis"]``: ``window``, ``window_pooling``, ``max_train_windows`` (all positives
    kept), ``svm`` (``c_grid``, ``cv``, ``scoring``), ``trep`` / ``ts2vec`` encoder settings.
    The seed drives the encoder, the negatives kept and the CV folds.
    """
    settings = options.get("sepsis", {})
    seeds = [int(s) for s in options.get("seeds", [0])]
    methods = list(options.get("methods", ["trep", "ts2vec"]))
    width = int(settings.get("window", 6))
    pooling = settings.get("window_pooling", "flatten")
    svm = dict(settings.get("svm") or {})
    c_grid = [float(c) for c in svm.get("c_grid", C_GRID)]
    train, test = prepared["train"], prepared["test"]
    train_windows, test_windows = sepsis_windows(train, width), sepsis_windows(test, width)
    rows: list[dict[str, Any]] = []
    encoders: dict[str, TRep] = {}
    for seed in seeds:
        kept = subsample_windows(train_windows.y, settings.get("max_train_windows"), seed)
        for method in ["baseline", *methods]:
            start = time.perf_counter()
            model = None
            if method != "baseline":
                model = fit_representation(_channels_last(train), method, settings.get(method), seed=seed, device=device)
                encoders[f"sepsis/{method}/seed{seed}"] = model
            classifier = fit_svm(
                window_features(train_windows.X[kept], model, pooling), train_windows.y[kept], c_grid, int(svm.get("cv", 5)),
                max_samples=None, scoring=svm.get("scoring", "f1"), shuffle_seed=seed,
            )  # fmt: skip
            predictions = classifier.estimator.predict(window_features(test_windows.X, model, pooling)).astype(np.int64)
            scores = {**sepsis_scores(test, test_windows, predictions), "svm_C": classifier.C, "n_train_windows": float(len(kept))}
            seconds = time.perf_counter() - start
            log.info("sepsis %s seed %d: %s (%.0f s)", method, seed, scores, seconds)
            rows += _rows("sepsis", SEPSIS_DATASET, METHOD_LABELS[method], seed, scores, seconds)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS), encoders


# =================================================================================================
# Tables
# =================================================================================================
def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and number of seeds per (task, dataset, method, metric), with the published value
    and where it comes from (:data:`PUBLISHED`)."""
    grouped = results.groupby(["task", "dataset", "method", "metric"], sort=False)
    summary = grouped["value"].agg(mean="mean", std="std", n_seeds="count").reset_index()
    summary["seconds_mean"] = grouped["seconds"].mean().to_numpy()
    published = [PUBLISHED.get((r.task, r.dataset, r.method, r.metric)) for r in summary.itertuples()]
    summary["paper"] = [p[0] if p else np.nan for p in published]
    summary["paper_source"] = [p[1] if p else "" for p in published]
    return summary


def _cell(summary: pd.DataFrame, task: str, dataset: str, method: str, metric: str, digits: int = 3) -> str:
    row = summary[(summary["task"] == task) & (summary["dataset"] == dataset) & (summary["method"] == method) & (summary["metric"] == metric)]
    if row.empty:
        return "—"
    r = row.iloc[0]
    text = f"{r['mean']:.{digits}f}" if pd.isna(r["std"]) else f"{r['mean']:.{digits}f} ± {r['std']:.{digits}f}"
    return text + ("" if pd.isna(r["paper"]) else f" [{r['paper']:.3f}]")


def _methods(summary: pd.DataFrame) -> list[str]:
    present = set(summary["method"])
    return [m for m in METHOD_LABELS.values() if m in present]


def report_markdown(summary: pd.DataFrame, status: Mapping[str, str], header: Sequence[str] = ()) -> str:
    """The two tables (streaming per dataset; Sepsis) as Markdown, ``mean ± std [paper]``."""
    lines = ["# T-Rep anomaly detection (Sec. 4.3, App. 'Anomaly Detection')", "", *header, ""]
    lines += ["## Data", ""] + [f"- {name}: {text}" for name, text in status.items()] + [""]
    streaming = summary[summary["task"] == "streaming"]
    lines += ["## Streaming point anomalies (F1 / precision / recall, point-adjusted)", ""]
    datasets = list(dict.fromkeys(streaming["dataset"]))
    if streaming.empty:
        lines.append("No streaming dataset was available.")
    else:
        names = {"f1": "F1", "precision": "precision", "recall": "recall", "auprc_points": "AP (points)"}
        head = ["Method", *[f"{d} {names[m]}" for d in datasets for m in STREAMING_METRICS]]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for method in _methods(streaming):
            lines.append(f"| {method} | " + " | ".join(_cell(summary, "streaming", d, method, m) for d in datasets for m in STREAMING_METRICS) + " |")
    if YAHOO_DATASET not in datasets:
        lines += ["", f"Published Yahoo F1 (not reproducible here, the data is not registered): T-Rep 0.757, TS2Vec 0.733 (T-Rep's rerun; {TS2VEC_OWN_YAHOO_F1} in TS2Vec's paper), baseline 0.110."]
    else:
        lines += ["", f"TS2Vec's own paper reports Yahoo F1 {TS2VEC_OWN_YAHOO_F1}; the bracket is T-Rep's rerun of it."]
    sepsis = summary[summary["task"] == "sepsis"]
    lines += ["", "## Sepsis (PhysioNet 2019): windows of 6 h, RBF SVM", ""]
    if sepsis.empty:
        lines.append("No Sepsis result.")
    else:
        labels = {"f1_patient_mean": "F1 (per-patient mean)", "accuracy_patient_mean": "accuracy (per-patient mean)",
                  "f1_windows": "F1 (windows)", "precision_windows": "precision (windows)", "recall_windows": "recall (windows)"}  # fmt: skip
        head = ["Method", *labels.values()]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for method in _methods(sepsis):
            lines.append(f"| {method} | " + " | ".join(_cell(summary, "sepsis", SEPSIS_DATASET, method, m) for m in labels) + " |")
        chosen = _chosen_c(summary)
        if chosen:
            lines += ["", f"SVM C chosen by cross-validation (mean over seeds): {chosen}."]
    lines += ["", "Cells: mean ± std over seeds [published]. Where the paper's numbers come from:", ""]
    for (task, dataset, method, metric), (value, source) in PUBLISHED.items():
        lines.append(f"- {dataset}, {method}, {metric} = {value}: {source}")
    return "\n".join(lines) + "\n"


def _chosen_c(summary: pd.DataFrame) -> str:
    """``method: C`` of the Sepsis SVMs (mean over seeds), for the report."""
    part = summary[(summary["task"] == "sepsis") & (summary["metric"] == "svm_C")]
    return ", ".join(f"{r.method} {r.mean:g}" for r in part.itertuples())


def plot_detection(traces: Mapping[str, Mapping[str, Any]], title: str = "", context: int = 100):
    """Test half of one series with its anomalies (red), then per method the adjusted score, the
    threshold and the alarms; the right column zooms on the first anomaly (``context`` steps
    either side)."""
    from matplotlib.figure import Figure

    from tsmtl.evaluation.plots import message_figure

    if not traces:
        return message_figure("no streaming result to draw")
    first = next(iter(traces.values()))
    steps = np.arange(len(first["test"]))
    anomalous = np.flatnonzero(first["labels"])
    zoom = (max(anomalous[0] - context, 0), min(anomalous[-1] + context, len(steps) - 1)) if anomalous.size else None
    if zoom is not None and zoom[1] - zoom[0] > 4 * context:  # several anomalies far apart: around the first
        zoom = (zoom[0], min(anomalous[0] + context, len(steps) - 1))
    fig = Figure(figsize=(12, 2.0 * (len(traces) + 1)))
    axes = fig.subplots(len(traces) + 1, 2, sharex="col", squeeze=False, gridspec_kw={"width_ratios": [3, 1]})

    def panel(row, values, label, trace=None):
        for ax in axes[row]:
            ax.plot(steps, values, lw=0.6, color="0.2" if trace is None else "tab:blue")
            for position in anomalous:
                ax.axvspan(position - 0.5, position + 0.5, color="tab:red", alpha=0.3, lw=0)
            if trace is not None:
                if np.isfinite(trace["threshold"]):
                    ax.axhline(trace["threshold"], color="tab:orange", lw=1)
                alarms = np.flatnonzero(trace["alarms"])
                ax.plot(alarms, np.full(len(alarms), trace["threshold"] if np.isfinite(trace["threshold"]) else 0.0), "v", color="tab:green", ms=5)
            ax.tick_params(labelsize=7)
        axes[row, 0].set_ylabel(label, fontsize=8)
        finite = values[np.isfinite(values)]
        if trace is not None and finite.size:  # the score's rare huge values would flatten the rest
            top = max(np.percentile(finite, 99.9), trace["threshold"] if np.isfinite(trace["threshold"]) else -np.inf)
            axes[row, 0].set_ylim(finite.min() - 0.05 * abs(finite.min()), 1.15 * top if top > 0 else 0.85 * top)
        if zoom is not None:
            axes[row, 1].set_xlim(*zoom)

    panel(0, np.asarray(first["test"], dtype=float), "value (test half)")
    for row, (method, trace) in enumerate(traces.items(), start=1):
        adjusted = np.where(np.isfinite(trace["adjusted"]), trace["adjusted"], np.nan)
        panel(row, adjusted, f"{method}\nadjusted score", trace)
        axes[row, 0].set_title(f"{method}: threshold {trace['threshold']:.3g} (orange), {int(np.sum(trace['alarms']))} alarms (green)", fontsize=8, loc="left")
    axes[-1, 0].set_xlabel("test step")
    axes[-1, 1].set_xlabel("test step (around the first anomaly)")
    fig.suptitle(title or f"{first['name']}: anomalies (red), adjusted scores, thresholds and alarms")
    return fig


__all__ = [
    "Detection",
    "METHOD_LABELS",
    "PUBLISHED",
    "RESULT_COLUMNS",
    "SepsisWindows",
    "StreamingSeries",
    "TS2VEC_OWN_YAHOO_F1",
    "adjusted_scores",
    "describe_sepsis",
    "describe_streaming",
    "detect_series",
    "evaluate_scores",
    "load_registered_yahoo",
    "on_regular_grid",
    "physionet_patient_scores",
    "plot_detection",
    "point_adjust",
    "prepare_sepsis",
    "prepare_streaming_datasets",
    "prepare_streaming_series",
    "pretraining_array",
    "raw_scores",
    "report_markdown",
    "representation_scores",
    "run_sepsis",
    "run_streaming",
    "sepsis_scores",
    "sepsis_windows",
    "streaming_from_frame",
    "streaming_scores",
    "subsample_windows",
    "suppress_repeated_alarms",
    "summarise",
    "window_features",
]
