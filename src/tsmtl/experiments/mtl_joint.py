"""Multitask learning for joint prediction: single-task models against every sharing x weighting.

The MTL joint-prediction overview compares multitask techniques "using both task-specific and
joint metrics" and against "single-task learning models trained on each task independently"
(section "Comparative Analysis"). This module runs that comparison on same-input,
several-output data (:class:`~tsmtl.data.joint.JointTaskData`):

* :func:`run_grid` fits, for every seed, one single-task model per task (the baseline) and one
  multitask model per (sharing, task weighting) pair of the grid, all with the same backbone,
  training settings and joint batches (:func:`tsmtl.training.fit.fit_joint`), and collects every
  task's test metrics and every epoch's task weights;
* :func:`joint_report` tabulates, per model, each task's primary metric (mean ± std over seeds),
  the joint metric Delta_m % against the single-task models (Maninis et al. 2019, computed per
  seed against that seed's single-task models, over every task's primary metric) and the
  average rank over tasks (ResNet2D paper Table I style), and names the winner (highest mean
  Delta_m);
* :func:`plot_task_weights` draws each weighting's per-task loss weights over the epochs;
* :func:`pretrained_trunk_methods` adds self-supervised trunks (T-Rep issue #9, which no anchor
  offers): a T-Rep (or TS2Vec) encoder pretrained on the training split's inputs only, then the
  trunk of a multitask model, frozen and fine-tuned, beside the same architecture trained from
  scratch, so the Delta_m table shows whether the pretraining helps the joint tasks.

Regression metrics can be reported in the targets' original units (``units="original"``: MAE
times the target's training std, MSE times its square), as clinicians read them, or on the
scaled targets (``units="scaled"``, the ETT literature's convention).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from tsmtl.evaluation.metrics import average_ranks, delta_m, higher_is_better  # noqa: E402
from tsmtl.evaluation.plots import message_figure  # noqa: E402
from tsmtl.models.trep import save_encoder  # noqa: E402
from tsmtl.tasks import TaskSpec  # noqa: E402
from tsmtl.training import distributed  # noqa: E402
from tsmtl.training.device import choose_device  # noqa: E402
from tsmtl.training.fingerprint import data_digest, run_fingerprint  # noqa: E402
from tsmtl.training.fit import MethodConfig, TrainingConfig, fit_joint, single_task_specs  # noqa: E402
from tsmtl.training.trep import TRepConfig, fit_representation  # noqa: E402

log = logging.getLogger(__name__)

SINGLE_TASK = "single-task"
RESULT_COLUMNS = ["model", "sharing", "weighting", "seed", "task", "metric", "value", "best_epoch", "epochs_run", "seconds"]
HISTORY_COLUMNS = ["model", "sharing", "weighting", "seed", "epoch", "task", "weight", "train_loss"]


def model_label(sharing: str, weighting: str) -> str:
    """The row name of a multitask model: ``"hard + uncertainty"``."""
    return f"{sharing} + {weighting}"


def grid_methods(
    backbone: str,
    backbone_params: Mapping[str, Any],
    sharings: Mapping[str, Mapping[str, Any] | None],
    weightings: Mapping[str, Mapping[str, Any] | None],
    combinations: Sequence[Sequence[str]] | None = None,
) -> list[tuple[str, str, str, MethodConfig]]:
    """``(label, sharing, weighting, MethodConfig)`` of every sharing x weighting pair.

    ``combinations`` (optional): only these ``[sharing, weighting]`` pairs, in this order (each
    named in ``sharings`` / ``weightings``, which then hold their parameters); None: the full
    product.
    """
    if combinations is None:
        pairs = [(s, w) for s in sharings for w in weightings]
    else:
        pairs = [tuple(pair) for pair in combinations]
        bad = [p for p in pairs if len(p) != 2 or p[0] not in sharings or p[1] not in weightings]
        if bad:
            raise ValueError(f"combinations {bad} are not [sharing, weighting] pairs of {list(sharings)} x {list(weightings)}")
    methods = []
    for sharing, weighting in pairs:
        config = MethodConfig.from_params(
            {
                "backbone": backbone,
                "backbone_params": dict(backbone_params or {}),
                "sharing": sharing,
                "sharing_params": dict(sharings[sharing] or {}),
                "weighting": weighting,
                "weighting_params": dict(weightings[weighting] or {}),
            }
        )
        methods.append((model_label(sharing, weighting), sharing, weighting, config))
    if not methods:
        raise ValueError("the grid is empty: list at least one sharing and one weighting")
    return methods


PRETRAINED_MODES = ("scratch", "frozen", "finetuned")
_ENCODER_ARGUMENTS = {"trep": ("repr_dims", "hidden_dims", "depth", "time_embedding", "time_embedding_dims"), "ts2vec": ("repr_dims", "hidden_dims", "depth")}


def pretrain_trunk(train_x: np.ndarray, options: Mapping[str, Any], folder: str | Path, device: str = "auto") -> tuple[Path, dict[str, Any]]:
    """Fit a T-Rep/TS2Vec encoder on ``train_x`` ``(N, C, T)`` (the training split's inputs) and save it.

    ``options``: ``method`` (``trep`` or ``ts2vec``), ``encoder`` (:class:`TRepConfig` fields),
    ``seed``. The weights go to ``<folder>/<fingerprint of data and settings>/encoder.pt``; an
    existing file of the same fingerprint is reused (no second pretraining). Under torchrun,
    rank 0 pretrains and the other ranks wait, then load the same file.

    Returns the file and the backbone parameters that rebuild the encoder.
    """
    method = options.get("method", "trep")
    if method not in _ENCODER_ARGUMENTS:
        raise ValueError(f"pretrained.method must be 'trep' or 'ts2vec', got {method!r}")
    encoder_params = dict(options.get("encoder") or {})
    seed = int(options.get("seed", 0))
    config = TRepConfig.from_params(encoder_params) if method == "trep" else TRepConfig.ts2vec(**encoder_params)
    x = np.ascontiguousarray(np.asarray(train_x, dtype=np.float32).transpose(0, 2, 1))
    path = Path(folder) / run_fingerprint(data_digest(x), method, config.as_dict(), seed) / "encoder.pt"

    def pretrain() -> None:
        if path.exists():
            return
        model = fit_representation(x, method, encoder_params, seed=seed, device=device)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_encoder(model.encoder, path)
        log.info("pretrained a %s trunk on %d training windows (%d iterations): %s", method, len(x), model.n_iterations_, path)

    # Under torchrun rank 0 pretrains alone (the contrastive crops do not shard) and the other
    # ranks load its file; the MTL model's DDP then starts every rank from rank 0's weights.
    distributed.rank_zero_first(choose_device(device), pretrain)
    params = {key: value for key, value in config.as_dict().items() if key in _ENCODER_ARGUMENTS[method]}
    return path, params


def pretrained_trunk_methods(path: str | Path, method: str, backbone_params: Mapping[str, Any], options: Mapping[str, Any]) -> list[tuple[str, str, str, MethodConfig]]:
    """Grid rows for the pretrained trunk: ``options["modes"]`` of ``scratch`` (same encoder, random
    weights), ``frozen`` (pretrained, fixed) and ``finetuned`` (pretrained, trained on), each with
    ``options["sharing"]`` (hard) and ``options["weighting"]`` (equal).

    The row's sharing column reads e.g. ``hard (T-Rep frozen)`` so the weights plot keeps it apart.
    """
    modes = list(options.get("modes") or PRETRAINED_MODES)
    unknown = [m for m in modes if m not in PRETRAINED_MODES]
    if unknown:
        raise ValueError(f"pretrained.modes {unknown} unknown; choose from {list(PRETRAINED_MODES)}")
    sharing, weighting = options.get("sharing", "hard"), options.get("weighting", "equal")
    name = {"trep": "T-Rep", "ts2vec": "TS2Vec"}[method]
    rows = []
    for mode in modes:
        params = dict(backbone_params)
        if mode != "scratch":
            params.update(pretrained=str(path), freeze=mode == "frozen")
        config = MethodConfig.from_params({"backbone": method, "backbone_params": params, "sharing": sharing, "sharing_params": dict(options.get("sharing_params") or {}), "weighting": weighting})
        rows.append((f"{sharing} + {weighting} ({name} {mode})", f"{sharing} ({name} {mode})", weighting, config))
    return rows


def _unit_factor(splits: Mapping[str, Any], task: str, metric: str, units: str) -> float:
    if units == "scaled":
        return 1.0
    scaling = splits["test"].meta.get("target_scaling", {}).get(task)
    if scaling is None:
        return 1.0
    std = float(scaling[1])
    return {"mae": std, "mse": std**2}.get(metric, 1.0)


def _result_rows(fit, splits, label: str, sharing: str, weighting: str, seed: int, seconds: float, units: str) -> list[dict[str, Any]]:
    rows = []
    for task, spec in fit.tasks.items():
        for metric in spec.metrics:
            value = fit.score("test", metric, task) * _unit_factor(splits, task, metric, units)
            rows.append(
                {
                    "model": label, "sharing": sharing, "weighting": weighting, "seed": seed, "task": task,
                    "metric": metric, "value": value, "best_epoch": fit.best_epoch, "epochs_run": fit.epochs_run,
                    "seconds": seconds,
                }
            )  # fmt: skip
    return rows


def _history_rows(fit, label: str, sharing: str, weighting: str, seed: int) -> list[dict[str, Any]]:
    rows = []
    for record in fit.history:
        for task in fit.tasks:
            rows.append(
                {
                    "model": label, "sharing": sharing, "weighting": weighting, "seed": seed, "epoch": record["epoch"],
                    "task": task, "weight": record.get(f"train_weight/{task}", 1.0), "train_loss": record.get(f"train_loss/{task}", np.nan),
                }
            )  # fmt: skip
    return rows


def run_grid(
    splits: Mapping[str, Any],
    specs: Mapping[str, TaskSpec],
    methods: Sequence[tuple[str, str, str, MethodConfig]],
    training: TrainingConfig,
    *,
    seeds: Sequence[int],
    single_task: MethodConfig | None,
    device: str = "auto",
    checkpoint_dir: str | Path | None = None,
    resume: bool = True,
    monitor: str = "val_loss",
    mode: str = "min",
    units: str = "original",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit the single-task baselines and every multitask method of the grid, for every seed.

    Parameters
    ----------
    splits : mapping "train", "val", "test" -> JointTaskData
    specs : mapping task -> TaskSpec
    methods : from :func:`grid_methods`
    training : TrainingConfig
    seeds : sequence of int
        Seeds of the weights and batch order (the split is fixed upstream).
    single_task : MethodConfig or None
        The baseline model (one per task); None skips it (no Delta_m then).
    checkpoint_dir : path, optional
        ``<dir>/<model>/seed_<s>/<run>/``; finished fits are resumed (scored only).
    units : {"original", "scaled"}
        Regression metrics in the targets' original units or on the scaled targets.

    Returns
    -------
    results : DataFrame with :data:`RESULT_COLUMNS`
        Test metrics, one row per (model, seed, task, metric).
    history : DataFrame with :data:`HISTORY_COLUMNS`
        Every epoch's per-task weight and training loss of every multitask fit.
    """
    if units not in ("original", "scaled"):
        raise ValueError(f"units must be 'original' or 'scaled', got {units!r}")
    if not seeds:
        raise ValueError("run_grid needs at least one seed")
    results, history = [], []

    def folder(label: str, seed: int) -> Path | None:
        if checkpoint_dir is None:
            return None
        return Path(checkpoint_dir) / label.replace(" + ", "__").replace(" ", "_") / f"seed_{seed}"

    for seed in seeds:
        if single_task is not None:
            for task in specs:
                started = time.perf_counter()
                fit = fit_joint(
                    splits, single_task_specs(specs, task), single_task, training, monitor=_single_monitor(monitor, task),
                    mode=mode, device=device, seed=int(seed), checkpoint_dir=folder(f"{SINGLE_TASK} {task}", seed), resume=resume,
                )  # fmt: skip
                results += _result_rows(fit, splits, SINGLE_TASK, "-", "-", int(seed), time.perf_counter() - started, units)
                log.info("single-task %s, seed %d: %s", task, seed, {k: round(v, 4) for k, v in fit.scores["test"].items() if k.endswith(f"/{task}")})
        for label, sharing, weighting, config in methods:
            started = time.perf_counter()
            fit = fit_joint(
                splits, specs, config, training, monitor=monitor, mode=mode, device=device, seed=int(seed),
                checkpoint_dir=folder(label, seed), resume=resume,
            )  # fmt: skip
            results += _result_rows(fit, splits, label, sharing, weighting, int(seed), time.perf_counter() - started, units)
            history += _history_rows(fit, label, sharing, weighting, int(seed))
            log.info("%s, seed %d: test loss %.4f (best epoch %d, %.1f s)", label, seed, fit.score("test", "loss"), fit.best_epoch, time.perf_counter() - started)
    return pd.DataFrame(results, columns=RESULT_COLUMNS), pd.DataFrame(history, columns=HISTORY_COLUMNS)


def _single_monitor(monitor: str, task: str) -> str:
    """A single-task fit monitors its own task: ``val_loss`` stays; ``val_auprc/sepsis`` only for that task."""
    if "/" not in monitor:
        return monitor
    return monitor if monitor.endswith(f"/{task}") else "val_loss"


def primary_metrics(specs: Mapping[str, TaskSpec]) -> dict[str, str]:
    """``{task: its primary metric}`` (the first of ``spec.metrics``)."""
    return {task: spec.primary_metric for task, spec in specs.items()}


def joint_report(results: pd.DataFrame, specs: Mapping[str, TaskSpec], decimals: int = 3) -> tuple[pd.DataFrame, str]:
    """The comparison table: per model, each task's primary metric, Delta_m % and average rank.

    Parameters
    ----------
    results : DataFrame from :func:`run_grid`
    specs : mapping task -> TaskSpec
    decimals : int
        Of the metric cells in the Markdown.

    Returns
    -------
    table : DataFrame, one row per model
        ``<task> <metric>`` mean and ``... std`` over seeds, ``delta_m`` mean and std (NaN for
        the single-task row and when no single-task run exists), ``average_rank`` over tasks
        (rank 1 = best on a task's primary metric, seeds averaged first), ``n_seeds``.
    markdown : str
        The same as a Markdown table, ``mean ± std`` per cell, the best multitask model named.
    """
    primary = primary_metrics(specs)
    rows = results[results.apply(lambda r: primary.get(r["task"]) == r["metric"], axis=1)]
    if rows.empty:
        raise ValueError("no result rows for the tasks' primary metrics")
    per_seed = rows.pivot_table(index=["model", "seed"], columns="task", values="value", aggfunc="first")
    mean = per_seed.groupby(level="model").mean()
    std = per_seed.groupby(level="model").std(ddof=1) if per_seed.index.get_level_values("seed").nunique() > 1 else mean * np.nan
    better = pd.Series({task: higher_is_better(primary[task]) for task in mean.columns})
    models = list(dict.fromkeys(rows["model"]))
    table = pd.DataFrame(index=pd.Index(models, name="model"))
    for task in mean.columns:
        table[f"{task} {primary[task]}"] = mean[task]
        table[f"{task} {primary[task]} std"] = std[task]
    deltas: dict[str, list[float]] = {}
    if SINGLE_TASK in mean.index:
        for (model, seed), values in per_seed.iterrows():
            if model == SINGLE_TASK or (SINGLE_TASK, seed) not in per_seed.index:
                continue
            baseline = per_seed.loc[(SINGLE_TASK, seed)]
            deltas.setdefault(model, []).append(delta_m(values, baseline, better))
    table["delta_m"] = [float(np.mean(deltas[m])) if m in deltas else np.nan for m in models]
    table["delta_m std"] = [float(np.std(deltas[m], ddof=1)) if m in deltas and len(deltas[m]) > 1 else np.nan for m in models]
    # Rank the models on every task (one row per task; higher-is-better per task's metric).
    ranks = pd.DataFrame(
        {task: average_ranks(mean[[task]].T, higher_is_better=bool(better[task]))[0].iloc[0] for task in mean.columns}
    )
    table["average_rank"] = ranks.reindex(models).mean(axis=1)
    table["n_seeds"] = per_seed.groupby(level="model").size().reindex(models)
    return table, _markdown(table, primary, decimals)


def best_model(table: pd.DataFrame) -> str | None:
    """The multitask model with the highest mean Delta_m (None without single-task runs)."""
    candidates = table.drop(index=SINGLE_TASK, errors="ignore")["delta_m"].dropna()
    return None if candidates.empty else str(candidates.idxmax())


def _cell(mean: float, std: float, decimals: int) -> str:
    if pd.isna(mean):
        return "—"
    return f"{mean:.{decimals}f}" if pd.isna(std) else f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def _markdown(table: pd.DataFrame, primary: Mapping[str, str], decimals: int) -> str:
    tasks = list(primary)
    head = ["Model", *[f"{t} {primary[t]} {'↑' if higher_is_better(primary[t]) else '↓'}" for t in tasks], "Δm % ↑", "Avg. rank ↓"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    winner = best_model(table)
    for model, row in table.iterrows():
        cells = [f"**{model}**" if model == winner else str(model)]
        cells += [_cell(row[f"{t} {primary[t]}"], row[f"{t} {primary[t]} std"], decimals) for t in tasks]
        cells.append(_cell(row["delta_m"], row["delta_m std"], 2))
        cells.append(f"{row['average_rank']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_task_weights(history: pd.DataFrame, sharing: str | None = None) -> Figure:
    """Per-task loss weights over the epochs, one panel per task weighting (mean over seeds).

    ``sharing``: the sharing whose runs are drawn (default: ``hard`` when present, else the
    first in the history).
    """
    if history.empty:
        return message_figure("no multitask run")
    sharings = list(dict.fromkeys(history["sharing"]))
    sharing = sharing or ("hard" if "hard" in sharings else sharings[0])
    runs = history[history["sharing"] == sharing]
    weightings = list(dict.fromkeys(runs["weighting"]))
    fig, axes = plt.subplots(1, len(weightings), figsize=(4 * len(weightings), 3.2), squeeze=False, sharey=False)
    tasks = list(dict.fromkeys(runs["task"]))
    colours = plt.get_cmap("tab10" if len(tasks) <= 10 else "tab20")
    for ax, weighting in zip(axes[0], weightings, strict=True):
        part = runs[runs["weighting"] == weighting].groupby(["task", "epoch"])["weight"].agg(["mean", "std"]).reset_index()
        for index, task in enumerate(tasks):
            curve = part[part["task"] == task]
            ax.plot(curve["epoch"] + 1, curve["mean"], label=task, color=colours(index % colours.N))
            if curve["std"].notna().any():
                ax.fill_between(curve["epoch"] + 1, curve["mean"] - curve["std"], curve["mean"] + curve["std"], alpha=0.15, color=colours(index % colours.N))
        ax.set_title(f"{sharing} + {weighting}", fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("task loss weight (mean over the epoch)")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle("Per-task loss weights over training (mean ± std over seeds)")
    fig.tight_layout()
    return fig


def report_header(title: str, profile: str, splits: Mapping[str, Any], specs: Mapping[str, TaskSpec], training: Mapping[str, Any], seeds: Sequence[int], notes: Sequence[str], units: str) -> list[str]:
    """The lines printed above the table: data, protocol, settings, what the profile shrank."""
    sizes = ", ".join(f"{split} {splits[split].n_cases:,} cases" for split in ("train", "val", "test"))
    groups = splits["train"].groups
    lines = [
        f"# {title}",
        "",
        f"- profile: {profile}; seeds {list(seeds)}; training: {dict(training)}",
        f"- data: {splits['train'].name}, {sizes}" + (f"; {len(np.unique(groups)):,} training groups (patients), no group in two splits" if groups is not None else ""),
        "- tasks: " + "; ".join(f"{t} ({s.type}, primary {s.primary_metric})" for t, s in specs.items()),
        f"- regression metrics in {'original units' if units == 'original' else 'scaled units'}; Δm % over every task's primary metric against the single-task models of the same seed (Maninis et al. 2019); average rank over tasks",
        *[f"- {note}" for note in notes],
    ]
    return lines


__all__ = [
    "HISTORY_COLUMNS",
    "RESULT_COLUMNS",
    "SINGLE_TASK",
    "best_model",
    "grid_methods",
    "joint_report",
    "model_label",
    "plot_task_weights",
    "primary_metrics",
    "report_header",
    "run_grid",
]
