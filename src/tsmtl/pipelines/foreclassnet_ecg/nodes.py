"""Nodes of ``foreclassnet_ecg``: thin wrappers over tsmtl.experiments.foreclassnet."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from tsmtl.evaluation.paper_tables import ECG5000_OFFICIAL_SPLIT, foreclassnet_table  # noqa: E402
from tsmtl.evaluation.plots import message_figure  # noqa: E402
from tsmtl.experiments.foreclassnet import (  # noqa: E402
    ECG_PROTOCOLS,
    RESULT_COLUMNS,
    ecg_protocols,
    evaluate_methods,
    saliency,
    summarise,
    table_markdown,
)

log = logging.getLogger(__name__)

CAPTIONS = {
    "9": "ECG5000, the last 5 points to forecast; no class balancing (Sec. 5.1).",
    "10": "ECG5000 with SMOTE on the training split only: what a leak-free Table 10 gives.",
    "10-paper-order": "ECG5000 with SMOTE on all 5,000 series before the split, the paper's order: synthetic neighbours of test series are in training.",
    "official": "ECG5000 on the UCR archive's own TRAIN/TEST split; in brackets the published official-split accuracies (aeon's results files, resample 0).",
}


def prepare_ecg(archive: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The ECG5000 data of every protocol (Table 9, the two Table 10 orders, the official split)."""
    name = options.get("dataset", "ECG5000")
    if name not in (getattr(archive, "names", None) or archive):
        raise FileNotFoundError(f"{name} is not in the UCR archive folder; run `kedro run --pipelines download_ucr` or set TSMTL_DATA_DIR")
    return ecg_protocols(archive[name], options)


def compare_on_ecg(prepared: Mapping[str, Any], options: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every method on every protocol; the first seed's ForeClassNet of each protocol for saliency."""
    frames, fits = [], {}
    for protocol, data in prepared.items():
        results, extras = evaluate_methods(protocol, data, options, device=device, checkpoint_dir=options.get("checkpoint_dir"))
        frames.append(results)
        if "foreclassnet" in extras:
            fits[protocol] = {"model": extras["foreclassnet"].model, "classes": extras["classes"]}
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)), fits


def _official_paper() -> pd.DataFrame:
    frame = pd.DataFrame({("full", "accuracy"): ECG5000_OFFICIAL_SPLIT}).astype(float)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["column", "metric"])
    return frame


def report_ecg(results: pd.DataFrame, prepared: Mapping[str, Any], options: Mapping[str, Any]) -> tuple[pd.DataFrame, str]:
    """Tables 9 and 10 (both SMOTE orders) and the official split, ``mean ± std [paper]``."""
    paper = {"9": foreclassnet_table("9"), "10": foreclassnet_table("10"), "10-paper-order": foreclassnet_table("10"), "official": _official_paper()}
    summary = summarise(results, paper)
    lines = [
        "# ForeClassNet, Section 5.1: ECG5000 (Tables 9-10)",
        "",
        f"- profile: {options.get('profile', 'paper')}; seeds {list(options.get('seeds', [0]))}; the last {options.get('horizon', 5)} points are the future ForeClassNet forecasts",
        "- cells: test mean ± std over seeds [the paper's number]; observed* = trained on the observed points, full = on the whole series",
        *[f"- protocol {p}: {ECG_PROTOCOLS[p]}; train {len(d['train']['observed'].y)} series (class counts {dict(zip(*[v.tolist() for v in np.unique(d['train']['observed'].y, return_counts=True)]))}), test {len(d['test']['observed'].y)}" for p, d in prepared.items()],
        *[f"- {note}" for note in options.get("notes") or []],
        "",
    ]
    body = [table_markdown(summary, protocol, CAPTIONS[protocol]) for protocol in prepared]
    return summary, "\n".join(lines) + "\n" + "\n".join(body)


def plot_saliency(fits: Mapping[str, Any], prepared: Mapping[str, Any], foreclassnet: Mapping[str, Any] | None) -> Figure:
    """Saliency of one test series per class (the paper's Figs. 3-7), first protocol's ForeClassNet.

    ``foreclassnet``: ``foreclassnet_ecg.foreclassnet`` (its ``mc_samples``, default 20).
    """
    if not fits:
        return message_figure("no ForeClassNet was trained")
    protocol = next(iter(fits))
    model, classes = fits[protocol]["model"], fits[protocol]["classes"]
    test = prepared[protocol]["test"]["observed"]
    chosen = [int(np.flatnonzero(test.y == label)[0]) for label in classes if (test.y == label).any()]
    labels = np.searchsorted(classes, test.y[chosen])
    maps = saliency(model, test.X[chosen], labels, n_samples=int((foreclassnet or {}).get("mc_samples", 20)))
    fig, axes = plt.subplots(1, len(chosen), figsize=(3.2 * len(chosen), 2.6), squeeze=False)
    for ax, index, salient, label in zip(axes[0], chosen, maps, test.y[chosen], strict=True):
        series = test.X[index, 0, : test.lengths[index]]
        ax.plot(series, color="0.6", lw=1)
        points = ax.scatter(np.arange(len(series)), series, c=salient[0, : len(series)], cmap="viridis", s=10)
        ax.set_title(f"class {label} (test case {index})", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.colorbar(points, ax=axes[0].tolist(), shrink=0.8, label="|d p(class) / d x|")
    fig.suptitle(f"ForeClassNet saliency, ECG5000 (protocol {protocol}), one test series per class")
    return fig
