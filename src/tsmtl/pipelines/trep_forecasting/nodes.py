"""Nodes of ``trep_forecasting``: thin wrappers over tsmtl.experiments.trep_forecasting."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from tsmtl.evaluation.plots import message_figure
from tsmtl.experiments.trep_forecasting import (
    PAPER_AVERAGE,
    RESULT_COLUMNS,
    SETTINGS,
    ForecastingSeries,
    evaluate_series,
    mse_by_horizon_figure,
    prepare_series,
    summarise,
    summary_markdown,
)
from tsmtl.training.trep import TRep

log = logging.getLogger(__name__)


def prepare_forecasting_series(archive: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, ForecastingSeries]:
    """``{"<dataset>/<setting>": ForecastingSeries}`` for every dataset and setting of ``options``.

    ``settings``: a list for every dataset, or ``{dataset: [settings]}`` (missing datasets: both).
    """
    available = getattr(archive, "names", None) or list(archive)
    settings = options.get("settings", list(SETTINGS))
    out = {}
    for dataset in options.get("datasets", ["ETTh1", "ETTh2", "ETTm1", "ETTm2"]):
        if dataset not in available:
            raise FileNotFoundError(f"{dataset} is not in the ETT folder (found {sorted(available)}); run `kedro run --pipelines download_ett` or set TSMTL_DATA_DIR")
        for setting in settings.get(dataset, list(SETTINGS)) if isinstance(settings, Mapping) else settings:
            out[f"{dataset}/{setting}"] = prepare_series(archive[dataset], dataset, setting)
    return out


def _settings_text(options: Mapping[str, Any]) -> str:
    settings = options.get("settings", list(SETTINGS))
    if isinstance(settings, Mapping):
        return "; ".join(f"{dataset}: {', '.join(values)}" for dataset, values in settings.items())
    return ", ".join(settings)


def evaluate_forecasting(series: Mapping[str, ForecastingSeries], options: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, dict[str, TRep]]:
    """Every method on every series (encoders fitted on the training rows, one ridge per horizon)."""
    frames, encoders = [], {}
    for key, one in series.items():
        log.info("trep_forecasting: %s", key)
        results, fitted = evaluate_series(one, options, device=device)
        frames.append(results)
        encoders.update(fitted)
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)), encoders


def report_forecasting(results: pd.DataFrame, options: Mapping[str, Any]) -> tuple[pd.DataFrame, str]:
    """The summary table (mean ± std over seeds beside the published numbers) and its Markdown."""
    methods = options.get("methods") or {}
    paper_names = {name: (spec or {}).get("paper", name) for name, spec in methods.items()}
    summary = summarise(results, paper_names)
    seeds = sorted(int(s) for s in results["seed"].unique() if int(s) >= 0)
    runs = results[results["seed"] >= 0]
    fits = runs.drop_duplicates(["dataset", "setting", "encoder", "seed"])["fit_seconds"].sum()  # methods sharing an encoder share its fit
    encodes = runs.drop_duplicates(["dataset", "setting", "method", "seed"])["encode_seconds"].sum()
    lines = [
        "# T-Rep Sec. 4.2: forecasting on ETT (ridge on per-step representations)",
        "",
        f"- profile: {options.get('profile', 'paper')}; datasets {list(options.get('datasets', []))}; settings {_settings_text(options)}; seeds {seeds} (raw-window ridge: deterministic, one run)",
        "- protocol (TS2Vec's eval_forecasting, T-Rep App. A.3): encoder fitted on the 12 training months; causal per-step representations "
        f"(sliding_padding {options.get('sliding_padding', 200)}); ridge with alpha from {list(options.get('alphas', []))} chosen on the 4 validation months "
        "by RMSE + MAE, fitted on the training months; MSE/MAE on the 4 test months in the train-standardised space, averaged over instances, horizon steps and channels",
        f"- methods: {', '.join(f'{name} ({_describe(spec)})' for name, spec in methods.items())}",
        "- published: T-Rep App. table 'ETT Forecasting Full Results' (multivariate, no covariates, 10 runs); its averages over the 20 cells: "
        + ", ".join(f"{m} {mse:.3f}/{mae:.3f}" for m, (mse, mae) in PAPER_AVERAGE.items()) + " (MSE/MAE). Univariate: T-Rep publishes none; "
        "TS2Vec's own univariate ETTh1 MSE (its Table 2, with time covariates, as quoted in issue #9) beside TS2Vec",
        f"- time: encoder fits {fits:.0f} s, encoding {encodes:.0f} s, ridge fits (every alpha and horizon) {results['ridge_seconds'].sum():.0f} s",
        *[f"- {note}" for note in options.get("notes") or []],
        "",
    ]
    return summary, "\n".join(lines) + "\n" + summary_markdown(summary, list(methods))


def _describe(spec: Mapping[str, Any] | None) -> str:
    spec = dict(spec or {})
    if spec.get("encoder") is None:
        lookback = spec.get("lookback")
        lookback = " / ".join(f"{v} ({k})" for k, v in lookback.items()) if isinstance(lookback, Mapping) else lookback
        return f"ridge on the last {lookback} raw values"
    text = f"encoder {spec['encoder']}"
    if "time_indices" in spec:
        text += f", time indices: {spec['time_indices']}"
    if spec.get("append_time_embedding"):
        text += ", time-embedding appended"
    return text


def plot_forecasting(summary: pd.DataFrame) -> Figure:
    """Test MSE against the horizon per dataset and setting, the published MSE dotted."""
    if summary is None or summary.empty:
        return message_figure("no forecasting results")
    return mse_by_horizon_figure(summary)
