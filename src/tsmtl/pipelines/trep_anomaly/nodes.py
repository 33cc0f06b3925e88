"""Nodes of ``trep_anomaly``: thin wrappers over :mod:`tsmtl.experiments.trep_anomaly`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from tsmtl.data.types import TimeSeriesData
from tsmtl.experiments.trep_anomaly import (
    RESULT_COLUMNS,
    describe_sepsis,
    plot_detection,
    prepare_sepsis,
    prepare_streaming_datasets,
    report_markdown,
    run_sepsis,
    run_streaming,
    summarise,
)
from tsmtl.training.trep import TRep


def prepare_streaming(embedded: pd.DataFrame, streaming: Mapping[str, Any] | None) -> dict[str, Any]:
    """ADF-differenced, halved, standardised series of every streaming dataset, with a status line
    each (Yahoo S5: "not registered" when the licensed copy is absent). ``streaming``: ``trep_anomaly.streaming``."""
    return prepare_streaming_datasets(embedded, streaming if streaming is not None else {})


def prepare_sepsis_patients(frame: pd.DataFrame, sepsis: Mapping[str, Any] | None) -> dict[str, TimeSeriesData]:
    """The last 45 h of the ten features, a stratified patient split, training-set scaling (``sepsis``: ``trep_anomaly.sepsis``)."""
    return prepare_sepsis(frame, sepsis if sepsis is not None else {})


def evaluate_streaming(prepared: Mapping[str, Any], options: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, dict[str, TRep], dict[str, Any]]:
    """Baseline, T-Rep and TS2Vec on every streaming dataset: result rows, encoders, plot traces."""
    return run_streaming(prepared["datasets"], options, device=device)


def evaluate_sepsis(prepared: Mapping[str, TimeSeriesData], options: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, dict[str, TRep]]:
    """Baseline, T-Rep and TS2Vec windows + RBF SVM on the Sepsis test patients."""
    return run_sepsis(prepared, options, device=device)


def collect_results(streaming: pd.DataFrame, sepsis: pd.DataFrame, streaming_encoders: Mapping[str, TRep], sepsis_encoders: Mapping[str, TRep]) -> tuple[pd.DataFrame, dict[str, TRep]]:
    """One result table and one dict of fitted encoders (``"<dataset>/<method>/seed<k>"``)."""
    frames = [f for f in (streaming, sepsis) if len(f)]
    results = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)
    return results, {**streaming_encoders, **sepsis_encoders}


def report_anomaly(results: pd.DataFrame, streaming: Mapping[str, Any], sepsis: Mapping[str, TimeSeriesData], options: Mapping[str, Any]) -> tuple[pd.DataFrame, str]:
    """Summary (mean, std, seeds, published value and its source) and its Markdown rendering."""
    summary = summarise(results)
    protocol = options.get("streaming", {})
    settings = options.get("sepsis", {})
    header = [
        f"- profile: {options.get('profile', 'paper')}; seeds {list(options.get('seeds', [0]))}; methods {list(options.get('methods', []))}",
        f"- streaming: first half train / second half test per series, ADF differencing {dict(protocol.get('adf') or {})}, causal sliding encoding (padding {protocol.get('sliding_padding', 200)}), "
        f"score adjusted by the mean of the {protocol.get('score_window', 21)} previous scores, threshold mu + {protocol.get('beta', 4.0)} sigma of the training half's adjusted scores, delay {protocol.get('delay', 7)}; encoders T-Rep {dict(protocol.get('trep') or {})}, TS2Vec {dict(protocol.get('ts2vec') or {})}",
        "- streaming baseline: the same adjustment, threshold, suppression and point adjustment on alpha_t = |x_t - mean of the previous Z values| of the differenced, standardised series (run once: deterministic)",
        f"- Sepsis: windows of {settings.get('window', 6)} h ({settings.get('window_pooling', 'flatten')}), RBF SVM with C chosen by {dict(settings.get('svm') or {}).get('cv', 5)}-fold CV on {dict(settings.get('svm') or {}).get('scoring', 'f1')}, "
        f"at most {settings.get('max_train_windows')} training windows (every positive kept, negatives subsampled); encoders T-Rep {dict(settings.get('trep') or {})}, TS2Vec {dict(settings.get('ts2vec') or {})}",
        "- Sepsis F1 (per-patient mean) is the paper's metric (the authors' sepsis_ad.py: the PhysioNet challenge F-measure per test patient, 1 for a patient with neither septic hour nor alarm, averaged); the window columns pool every test window",
        *[f"- {note}" for note in options.get("notes") or []],
    ]
    status = {**streaming["status"], "PhysioNet 2019 (set A)": describe_sepsis(sepsis, int(settings.get("window", 6)))}
    return summary, report_markdown(summary, status, header)


def plot_streaming(traces: Mapping[str, Any], options: Mapping[str, Any]) -> Figure:
    """Scores, thresholds and alarms of the first seed on ``streaming.plot_series``."""
    name = options.get("streaming", {}).get("plot_series", "")
    return plot_detection(traces, title=f"{name}: test half, anomalies (red), adjusted scores, thresholds and alarms (seed {list(options.get('seeds', [0]))[0]})")
