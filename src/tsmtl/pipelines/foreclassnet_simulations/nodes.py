"""Nodes of ``foreclassnet_simulations``: thin wrappers over tsmtl.experiments.foreclassnet,
tsmtl.evaluation.oracle and tsmtl.evaluation.plots."""

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

from tsmtl.evaluation.oracle import class_covariances, oracle_predict  # noqa: E402
from tsmtl.evaluation.paper_tables import foreclassnet_table  # noqa: E402
from tsmtl.evaluation.plots import message_figure  # noqa: E402
from tsmtl.experiments.foreclassnet import (  # noqa: E402
    RESULT_COLUMNS,
    adversarial_tables,
    evaluate_methods,
    summarise,
    table_markdown,
)
from tsmtl.models.foreclassnet import PAPER_FILTER_LENGTHS  # noqa: E402

log = logging.getLogger(__name__)

CAPTIONS = {
    "1": "AR(3) eq. (11) vs MA(2) eq. (12) (Sec. 4.1).",
    "2": "AR(3) eq. (13) vs AR(2) eq. (14) (Sec. 4.2).",
    "3": "Table 2's processes with 20 % of the training labels switched (Sec. 4.3).",
    "4": "Eq. (13), eq. (14) and 0.6 x (13) + 0.4 x (14) (Sec. 4.4).",
    "5": "FGSM against ForeClassNet's cross-entropy; ForeClassNet trained on the original data; test set (a) (Sec. 4.5).",
    "6": "FGSM against the cross-entropy after adversarial training: original test (b), (a), new adversarial test (c) (Sec. 4.5).",
    "7": "FGSM against ForeClassNet's forecast MSE; test set (a) (Sec. 4.6).",
    "8": "FGSM against the forecast MSE after adversarial training: (b), (a), (c) (Sec. 4.6).",
}


def _oracle(kind: str, simulation: Mapping[str, Any]):
    """The Bayes classifier of ``kind``: exact Gaussian likelihoods of the known processes."""
    burnin = int(simulation.get("burnin", 100))

    def predict(X: np.ndarray) -> np.ndarray:
        covariances = class_covariances(kind, X.shape[-1], burnin)
        return np.asarray(oracle_predict(X, covariances)[0])

    return predict


def compare_on_simulations(prepared: Mapping[str, Any], options: Mapping[str, Any], simulation: Mapping[str, Any], device: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Tables 1-4: every method (and the Bayes limit) on every simulation of ``options["tables"]``.

    Returns the long results and the learned filter-length distributions of each table's
    first-seed ForeClassNet (``{table: {layer: probabilities}}``).
    """
    frames, filters = [], {}
    for kind, table in options["tables"].items():
        if kind not in prepared:
            raise KeyError(f"simulation {kind!r} was not prepared; add it to simulate_ar_ma.kinds (prepared: {sorted(prepared)})")
        results, extras = evaluate_methods(
            str(table), prepared[kind], options, device=device, checkpoint_dir=options.get("checkpoint_dir"),
            oracle=_oracle(kind, simulation),
        )  # fmt: skip
        frames.append(results)
        if "filter_lengths" in extras:
            filters[str(table)] = {layer: np.asarray(p).tolist() for layer, p in extras["filter_lengths"].items()}
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)), filters


def attack_with_fgsm(prepared: Mapping[str, Any], options: Mapping[str, Any], device: str) -> pd.DataFrame:
    """Tables 5-8: FGSM against the cross-entropy and against the forecast MSE (Secs. 4.5-4.6)."""
    adversarial = options.get("adversarial") or {}
    kind = adversarial.get("kind", "ar_vs_ar")
    settings = {**dict(options), **dict(adversarial)}
    frames = [
        adversarial_tables(prepared[kind], loss, settings, device=device, checkpoint_dir=options.get("checkpoint_dir"))
        for loss in adversarial.get("losses", ["cross_entropy", "mse"])
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RESULT_COLUMNS)


def report_simulations(table_results: pd.DataFrame, adversarial_results: pd.DataFrame, options: Mapping[str, Any], simulation: Mapping[str, Any]) -> tuple[pd.DataFrame, str]:
    """Tables 1-8 in the paper's layout, ``mean ± std [paper]``, the Bayes limit as a row."""
    results = pd.concat([f for f in (table_results, adversarial_results) if len(f)], ignore_index=True)
    results["table"] = results["table"].astype(str)
    tables = sorted(set(results["table"]), key=int)
    summary = summarise(results, {t: foreclassnet_table(t) for t in tables})
    seeds = options.get("seeds", [0])
    header = [
        "# ForeClassNet, Sections 4.1-4.6: simulations (Tables 1-8)",
        "",
        f"- profile: {options.get('profile', 'paper')}; seeds {list(seeds)}; {simulation.get('n_series')} series of length {simulation.get('length')} per simulation "
        f"(burn-in {simulation.get('burnin')}), 80/20 split with 10 % of train as validation, first 40 points observed, last 10 to forecast",
        f"- ForeClassNet: {dict((options.get('foreclassnet') or {}).get('training') or {})}, {(options.get('foreclassnet') or {}).get('mc_samples', 30)} Monte Carlo passes at test time; "
        "aeon's TEASER, MR-Hydra and HC2 train on train + validation",
        "- cells: test mean ± std over seeds [the paper's number]; observed* = trained on the 40 observed points, full = on all 50",
        "- **Bayes limit (oracle)**: the likelihood-ratio classifier with the true processes known (exact Gaussian likelihoods); "
        "no classifier can beat it on average, so a method above it beyond the seed spread points at a leak",
        *[f"- {note}" for note in options.get("notes") or []],
        "",
    ]
    body = [table_markdown(summary, t, CAPTIONS.get(t, "")) for t in tables]
    mse = results[(results["metric"] == "forecast_mse")]
    if len(mse):
        per_table = mse.groupby("table")["value"].agg(["mean", "std"]).round(3)
        body.append("ForeClassNet's forecast MSE of the 10 future points (test): " + ", ".join(f"Table {t}: {r['mean']:.3f} ± {r['std']:.3f}" for t, r in per_table.iterrows()) + "\n")
    return summary, "\n".join(header) + "\n" + "\n".join(body)


def plot_filter_lengths(filters: Mapping[str, Mapping[str, Any]], foreclassnet: Mapping[str, Any] | None) -> Figure:
    """The learned Boltzmann filter-length distribution of every layer (first seed, per table).

    ``foreclassnet``: ``foreclassnet_simulations.foreclassnet`` (its ``model.filter_lengths`` label the bars).
    """
    if not filters:
        return message_figure("no ForeClassNet was trained")
    lengths = list((foreclassnet or {}).get("model", {}).get("filter_lengths") or PAPER_FILTER_LENGTHS)
    tables = list(filters)
    n_layers = max(len(layers) for layers in filters.values())
    fig, axes = plt.subplots(len(tables), n_layers, figsize=(2.6 * n_layers, 2.2 * len(tables)), squeeze=False, sharey=True)
    for row, table in enumerate(tables):
        for col, (layer, probabilities) in enumerate(filters[table].items()):
            ax = axes[row, col]
            probabilities = np.asarray(probabilities)
            labels = lengths if len(lengths) == len(probabilities) else list(range(len(probabilities)))
            ax.bar([str(v) for v in labels], probabilities, color="tab:blue")
            ax.set_title(f"Table {table}: {layer}", fontsize=8)
            ax.tick_params(labelsize=7)
        for col in range(len(filters[table]), n_layers):
            axes[row, col].axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("probability")
    fig.suptitle("Learned filter-length distributions of the Boltzmann layers (softmax of the energies / T)")
    fig.tight_layout()
    return fig
