"""THE training loop of the project: one :class:`Trainer` for every model.

The loop knows nothing about the task; four pieces plug into it:

* ``batches(epoch) -> iterable of batches`` -- what one epoch iterates over: the ResNet2D
  paper's Algorithm 2 (:class:`~tsmtl.training.tensors.ScheduledBatches`, one task per batch),
  joint batches (:class:`~tsmtl.training.tensors.JointBatches`, every task's target on every
  step), pairs for the DTW approximation, crops for self-supervised pretraining. The provider
  must be a deterministic function of ``epoch`` and of the global RNGs (which the checkpoints
  save), so that a resumed run replays exactly the batches of an uninterrupted one.
* ``step_fn(model, batch)`` -- returns either ``(loss, logs)`` (one 0-d loss to minimise and a
  dict of floats or 0-d tensors to average over the epoch) or a :class:`StepOutput` holding the
  *vector* of per-task losses (and an unweighted regulariser), which the task weighting turns
  into gradients. Batches are moved to the device first (tensors inside tuples, named tuples,
  lists and dicts).
* ``weighting`` -- a :class:`~tsmtl.training.weighting.TaskWeighting` (equal, size, uncertainty,
  DWA, GradNorm, PCGrad) that replaces ``loss.backward()`` for :class:`StepOutput` steps. Its
  learnable parameters join the optimizer (weight decay 0), its state is checkpointed, and it
  sees every task's mean training loss at the end of each epoch.
* ``after_step(model)`` -- called after every optimiser step (stochastic weight averaging of
  T-Rep/TS2Vec updates its averaged copy here).
* ``evaluate_fn(model) -> dict[str, float]`` -- validation metrics after every epoch, run in
  ``model.eval()`` mode under ``torch.no_grad()`` (an MC-dropout evaluator may switch its dropout
  modules back to train mode itself).

Optimisation follows the ResNet2D paper (Sec. III-C, IV-B): AdamW, a checkpoint at the end of
every epoch, and the best checkpoint chosen by a validation metric (``monitor``, ``mode``).
``last.pt`` holds model, optimizer, weighting, epoch, best metric, history, the data digest and
the Python/NumPy/torch RNG states, so ``resume=True`` continues an interrupted run bit for bit;
``best.pt`` holds the weights of the best epoch, which are loaded into the model at the end.

Seeding: the Trainer is the one place a fit is seeded. Pass the model as a zero-argument
factory and the trainer seeds (``seed_everything(seed)``) before building it, so its initial
weights are reproducible, and seeds again at the start of a fresh run; a resumed run restores
the saved RNG states instead.

Several processes (issue #10): launched by ``torchrun`` (``WORLD_SIZE > 1``), the Trainer
initialises the process group, trains on ``cuda:<LOCAL_RANK>`` (auto/cuda devices), wraps the step
in ``DistributedDataParallel`` and trains every rank on its shard of each global batch, with the
single-process gradient of the global batch; epoch records are summed over the ranks, rank 0
alone writes checkpoints. :mod:`tsmtl.training.distributed` holds all of it and states the
contract (batches shardable along dim 0, losses means over the items). With ``WORLD_SIZE`` unset
or 1 the loop runs exactly as in one process (``self.parallel is None``).
"""

from __future__ import annotations

import copy
import logging
import math
import os
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from tsmtl.training import distributed
from tsmtl.training.device import choose_device, seed_everything
from tsmtl.training.events import emit_epoch
from tsmtl.training.fingerprint import check_resumable
from tsmtl.training.progress import show_progress

logger = logging.getLogger(__name__)
#: Every epoch's record (``epoch 3/6: train_loss=..., val_accuracy=...``): the project's
#: ``conf/logging.yml`` sends it to the file log only (``logs/tsmtl.log``); the console has the bar.
epoch_logger = logging.getLogger(f"{__name__}.epochs")

StepFn = Callable[[nn.Module, Any], "tuple[torch.Tensor, Mapping[str, Any]] | StepOutput"]
BatchProvider = Callable[[int], Iterable[Any]]
EvaluateFn = Callable[[nn.Module], Mapping[str, float]]

LAST_CHECKPOINT = "last.pt"
#: A fit's bar: ``split_0/resnet2d_mtl/Embedded 2/6 |███   | ETA 00:24, val_accuracy=0.567 loss=0.147``
#: (the ETA before the metrics: a narrow terminal cuts the end of the line).
PROGRESS_FORMAT = "{desc} {n_fmt}/{total_fmt} |{bar}| ETA {remaining}{postfix}"
BEST_CHECKPOINT = "best.pt"


@dataclass
class TrainingResult:
    """What :meth:`Trainer.fit` returns.

    Attributes
    ----------
    model : nn.Module
        The trained model, holding the weights of ``best_epoch`` (the last epoch's weights when
        no epoch produced a finite monitored value).
    best_epoch : int or None
        0-based epoch with the best monitored value.
    best_metric : float or None
    history : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``train_<log>``, the evaluation
        metrics and ``seconds``.
    monitor, mode : str
    checkpoint_dir, last_checkpoint, best_checkpoint : Path or None
        None when the trainer ran without a checkpoint directory.
    seconds_per_epoch : list of float
        Wall time of training + evaluation of every epoch in ``history``.
    stopped_early : bool
        True when ``patience`` ended the run before ``epochs``.
    epochs_run : int
        Epochs trained by this call (0 when a finished run was resumed: it only loads).
    """

    model: nn.Module
    best_epoch: int | None
    best_metric: float | None
    history: list[dict[str, float]]
    monitor: str
    mode: str
    checkpoint_dir: Path | None = None
    last_checkpoint: Path | None = None
    best_checkpoint: Path | None = None
    seconds_per_epoch: list[float] = field(default_factory=list)
    stopped_early: bool = False
    epochs_run: int = 0


@dataclass
class StepOutput:
    """What a multitask ``step_fn`` returns: the per-task losses, for the task weighting.

    Attributes
    ----------
    losses : dict task -> 0-d Tensor
        The loss of every task present in the batch (one with Algorithm 2, all with joint
        batches).
    extra : 0-d Tensor or None
        A regulariser added with weight 1 (soft sharing's L2 penalty, concrete dropout's).
    logs : dict
        Floats or 0-d tensors averaged over the epoch (``train_<key>`` in the history).
    denominators : dict task -> float or 0-d Tensor, optional
        Used only with several processes: what each task's loss is a mean over on this batch (its
        labelled entries, or their total class weight), so that the shards' losses combine into
        exactly the global batch's masked mean. None: every loss is a mean over the batch's items.
    """

    losses: dict[str, torch.Tensor]
    extra: torch.Tensor | None = None
    logs: dict[str, Any] = field(default_factory=dict)
    denominators: dict[str, Any] | None = None


def move_to_device(batch: Any, device: torch.device) -> Any:
    """``batch`` with every tensor moved to ``device`` (recurses into tuples, named tuples, lists, dicts)."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(move_to_device(item, device) for item in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(move_to_device(item, device) for item in batch)
    if isinstance(batch, Mapping):
        return {key: move_to_device(value, device) for key, value in batch.items()}
    return batch


def _rng_state() -> dict[str, Any]:
    """Python, NumPy (legacy global) and torch RNG states, as types ``torch.load(weights_only=True)`` accepts."""
    np_state = np.random.get_state(legacy=False)
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": np_state["state"]["key"].tolist(),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: Mapping[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(
        {
            "bit_generator": np_state["bit_generator"],
            "state": {"key": np.asarray(np_state["key"], dtype=np.uint32), "pos": np_state["pos"]},
            "has_gauss": np_state["has_gauss"],
            "gauss": np_state["gauss"],
        }
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def _atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename: an interruption never leaves a half-written checkpoint."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _label_of(checkpoint_dir: Path | None) -> str:
    """``split_0/resnet2d_mtl/Embedded`` for ``.../split_0/resnet2d_mtl/Embedded/35a04d24779c``; ``"fit"`` for None."""
    if checkpoint_dir is None:
        return "fit"
    parts = list(checkpoint_dir.parts)
    if len(parts) > 1 and re.fullmatch(r"[0-9a-f]{8,}", parts[-1]):  # a run folder named by its data digest
        parts.pop()
    return "/".join(parts[-3:])


def _to_float(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().cpu())
    return float(value)


class Trainer:
    """Train ``model`` for ``epochs`` epochs with AdamW, checkpointing every epoch.

    Parameters
    ----------
    model : nn.Module or callable () -> nn.Module
        The model, or a factory the trainer calls after seeding with ``seed`` (reproducible
        initial weights; the one seed path of a fit).
    step_fn : callable ``(model, batch) -> (loss, logs)`` or ``-> StepOutput``
        See the module docstring; e.g. :func:`classification_step`.
    batches : callable ``epoch -> iterable of batches``
        E.g. :class:`~tsmtl.training.tensors.ScheduledBatches`.
    evaluate_fn : callable ``model -> dict[str, float]``, optional
        Validation metrics after each epoch, e.g.
        ``functools.partial(evaluate_classifier, datasets_by_task=val)``.
    epochs : int
        Total number of epochs (a resumed run continues up to this number).
    lr, weight_decay : float
        AdamW settings (paper: lr 1e-4; weight decay is torch's default 0.01).
    optimizer : {"adamw", "adam"} or callable ``params -> torch.optim.Optimizer``
    device : str or torch.device
        Passed to :func:`~tsmtl.training.device.choose_device` ("auto": cuda when available).
    grad_clip_norm : float, optional
        Clip the global gradient norm to this value before every step.
    monitor : str
        Key of the epoch record that selects the best checkpoint (an ``evaluate_fn`` metric such
        as ``"val_accuracy"``, or ``"train_loss"`` without validation data).
    mode : {"max", "min"}
        Whether a larger or a smaller ``monitor`` value is better.
    patience : int, optional
        Stop when ``patience`` epochs passed without improvement (early stopping).
    checkpoint_dir : path, optional
        Where ``last.pt`` and ``best.pt`` go; None keeps the best weights in memory only.
    resume : bool
        Continue from ``checkpoint_dir/last.pt`` when it exists (else start fresh).
    data_digest : str, optional
        :func:`~tsmtl.training.fingerprint.data_digest` of the data the run trains and is scored
        on; recorded in both checkpoints. Required with ``resume=True``: a checkpoint whose
        recorded digest differs (or that records none) is refused with
        :class:`~tsmtl.training.fingerprint.StaleCheckpointError` instead of being resumed.
    seed : int or None
        :func:`~tsmtl.training.device.seed_everything` at the start of a fresh run (a resumed
        run restores the saved RNG states instead). Build the model after seeding yourself if
        its initial weights must be reproducible.
    progress : bool
        ``False`` turns off the fit's progress bar: one tqdm bar over the epochs, with an ETA and
        the monitored metric and training loss, drawn when
        :func:`~tsmtl.training.progress.show_progress` says someone is watching (stderr a TTY, not
        in CI, not a fan-out worker, rank 0). ``True`` leaves that decision to it.
    progress_label : str, optional
        Names the fit on its bar and in its epoch records; default: the last three folders of
        ``checkpoint_dir`` before a data-digest folder (``split_0/resnet2d_mtl/Embedded``), else ``"fit"``.
    amp_dtype : {"bfloat16"} or torch.dtype, optional
        Run ``step_fn``/``evaluate_fn`` under ``torch.autocast`` with this dtype (bfloat16 only:
        float16 would need gradient scaling).
    weighting : TaskWeighting, optional
        Turns a :class:`StepOutput`'s task losses into gradients; None sums them (equal
        weighting). Its parameters are optimised with the model's (weight decay 0).
    after_step : callable ``model -> None``, optional
        Runs after every optimiser step, e.g. updating averaged (SWA) weights kept in the model.
    """

    def __init__(
        self,
        model: nn.Module | Callable[[], nn.Module],
        step_fn: StepFn,
        batches: BatchProvider,
        evaluate_fn: EvaluateFn | None = None,
        *,
        epochs: int,
        lr: float = 1e-4,
        weight_decay: float = 1e-2,
        optimizer: str | Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] = "adamw",
        device: str | torch.device | None = "auto",
        grad_clip_norm: float | None = None,
        monitor: str = "val_accuracy",
        mode: str = "max",
        patience: int | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
        data_digest: str | None = None,
        seed: int | None = 0,
        progress: bool = True,
        progress_label: str | None = None,
        amp_dtype: str | torch.dtype | None = None,
        weighting: nn.Module | None = None,
        after_step: Callable[[nn.Module], None] | None = None,
    ) -> None:
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        if int(epochs) < 0:
            raise ValueError(f"epochs must be >= 0, got {epochs}")
        if resume and checkpoint_dir is None:
            raise ValueError("resume=True needs a checkpoint_dir")
        if resume and not data_digest:
            raise ValueError("resume=True needs the data_digest of the data (tsmtl.training.fingerprint.data_digest)")
        if patience is not None and int(patience) < 1:
            raise ValueError(f"patience must be >= 1, got {patience}")
        if isinstance(amp_dtype, str):
            amp_dtype = getattr(torch, amp_dtype)
        if amp_dtype not in (None, torch.bfloat16):
            raise ValueError(f"amp_dtype must be None or bfloat16, got {amp_dtype}")
        self.device = choose_device(str(device) if isinstance(device, torch.device) else device)
        several_processes = distributed.init_process_group(self.device)
        if several_processes:
            distributed.check_weighting(weighting)
        if not isinstance(model, nn.Module):
            if seed is not None:
                seed_everything(seed)
            model = model()
        self.model = model.to(self.device)
        if several_processes:
            self.model = distributed.convert_batch_norms(self.model, self.device)
        self.weighting = None if weighting is None else weighting.to(self.device)
        self.step_fn = step_fn
        self.batches = batches
        self.evaluate_fn = evaluate_fn
        self.epochs = int(epochs)
        self.grad_clip_norm = grad_clip_norm
        self.monitor = monitor
        self.mode = mode
        self.patience = None if patience is None else int(patience)
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.resume = bool(resume)
        self.data_digest = data_digest
        self.seed = seed
        self.is_main_process = distributed.is_main_process()
        self.progress = show_progress(progress) and self.is_main_process
        self.progress_label = progress_label or _label_of(self.checkpoint_dir)
        self.amp_dtype = amp_dtype
        self.after_step = after_step
        # The weighting's own parameters (uncertainty's log-variances, GradNorm's weights) are
        # optimised with the model's, without weight decay (it would pull them to 0).
        params: Any = list(self.model.parameters())
        weighting_params = [] if self.weighting is None else list(self.weighting.parameters())
        if weighting_params:
            params = [{"params": params}, {"params": weighting_params, "weight_decay": 0.0}]
        if callable(optimizer):
            self.optimizer = optimizer(params)
        elif optimizer == "adamw":
            self.optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
        elif optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
        else:
            raise ValueError(f"unknown optimizer {optimizer!r}; use 'adamw', 'adam' or a callable")
        # Several processes: DistributedDataParallel over the step (tsmtl.training.distributed).
        self.parallel = distributed.DataParallel(self.model, step_fn, self.device) if several_processes else None

    # -- helpers -------------------------------------------------------------------------------
    @property
    def last_checkpoint(self) -> Path | None:
        return None if self.checkpoint_dir is None else self.checkpoint_dir / LAST_CHECKPOINT

    @property
    def best_checkpoint(self) -> Path | None:
        return None if self.checkpoint_dir is None else self.checkpoint_dir / BEST_CHECKPOINT

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def _improved(self, value: float, best: float | None) -> bool:
        if not math.isfinite(value):
            return False
        if best is None:
            return True
        return value > best if self.mode == "max" else value < best

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        self.model.train()
        epoch_batches = self.batches(epoch)
        loss_sum = torch.zeros((), device=self.device)
        log_sums: dict[str, Any] = {}
        log_counts: dict[str, int] = {}
        n_batches = 0
        for batch in epoch_batches:
            batch = move_to_device(batch, self.device)
            self.optimizer.zero_grad(set_to_none=True)
            # Several processes: this rank's shard of the global batch, the step through DDP.
            shard = None if self.parallel is None else self.parallel.shard(batch)
            with self._autocast():
                output = self.step_fn(self.model, batch) if shard is None else self.parallel.forward(shard)
            if isinstance(output, StepOutput):
                loss, logs = self._backward_tasks(output, shard)
            else:
                loss, logs = output
                if shard is None:
                    loss.backward()
                else:  # DDP averages the ranks' gradients: scaled, they average to the global batch's
                    (loss * shard.loss_scale).backward()
                    loss, logs = loss.detach() * shard.fraction, shard.share(logs)
            if self.grad_clip_norm is not None:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip_norm)
            self.optimizer.step()
            if self.after_step is not None:
                self.after_step(self.model)
            # Sums stay on the device: no host synchronisation per step.
            loss_sum = loss_sum + loss.detach().float()
            for key, value in logs.items():
                value = value.detach().float() if isinstance(value, torch.Tensor) else float(value)
                log_sums[key] = log_sums.get(key, 0.0) + value
                log_counts[key] = log_counts.get(key, 0) + 1
            n_batches += 1
        if n_batches == 0:
            raise ValueError(f"batches({epoch}) yielded no batch")
        if self.parallel is not None:
            # Each rank summed its share of every global batch's values: the sums over the ranks
            # are the single-process sums (identical on every rank).
            shares = {"train_loss": loss_sum, **{f"log/{key}": value for key, value in log_sums.items()}}
            totals = self.parallel.sum_over_ranks(shares)
            loss_sum = totals.pop("train_loss")
            log_sums = {key[len("log/") :]: value for key, value in totals.items()}
        record = {"train_loss": _to_float(loss_sum) / n_batches}
        # A per-task log is the mean over the steps that held the task (Algorithm 2: that task's batches).
        record.update({f"train_{key}": _to_float(value) / log_counts[key] for key, value in log_sums.items()})
        if not math.isfinite(record["train_loss"]):
            raise FloatingPointError(f"epoch {epoch}: the mean training loss is {record['train_loss']}")
        if self.weighting is not None:
            task_means = {key[len("train_loss/") :]: value for key, value in record.items() if key.startswith("train_loss/")}
            self.weighting.end_epoch(epoch, task_means)
        return record

    def _backward_tasks(self, output: StepOutput, shard: distributed.Shard | None = None) -> tuple[torch.Tensor, dict[str, Any]]:
        """Gradients of a multitask step through the weighting; the weighted total and the logs.

        With a ``shard`` (several processes) every task loss is scaled by ``world * c_rt`` before
        the weighting sees it, the weighting's gradients are averaged over the ranks, and the
        total and logs returned are this rank's shares (see :mod:`tsmtl.training.distributed`).
        """
        if not output.losses:
            raise ValueError("a StepOutput needs the loss of at least one task")
        losses = output.losses
        logs = dict(output.logs)
        if shard is None:
            logs.update({f"loss/{task}": loss.detach() for task, loss in losses.items()})
        else:
            fractions = self.parallel.task_fractions(shard, losses, output.denominators)
            logs = shard.share(logs)
            logs.update({f"loss/{task}": loss.detach() * fractions[task] for task, loss in losses.items()})
            losses = {task: loss * (shard.world * fractions[task]) for task, loss in losses.items()}
        if self.weighting is None:
            total = sum(losses.values())
            if output.extra is not None:
                total = total + output.extra
            total.backward()
            weighting_logs = {}
        else:
            weighting_logs = dict(self.weighting.backward(losses, self.model, output.extra))
            total = weighting_logs.pop("loss/total")
        if shard is not None:
            self.parallel.average_gradients(self.weighting)
            total = total / shard.world  # the ranks' objectives average to the global one
            weighting_logs = shard.share(weighting_logs)
        logs.update(weighting_logs)
        if output.extra is not None:
            logs["regularisation"] = output.extra.detach() if shard is None else output.extra.detach() / shard.world
        return total.detach(), logs

    def _evaluate(self) -> dict[str, float]:
        if self.evaluate_fn is None:
            return {}
        self.model.eval()
        with torch.no_grad(), self._autocast():
            metrics = self.evaluate_fn(self.model)
        return {key: _to_float(value) for key, value in metrics.items()}

    def _save_last(self, epoch: int, best_metric: float | None, best_epoch: int | None, history: list) -> None:
        _atomic_save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "epoch": epoch,
                "best_metric": best_metric,
                "best_epoch": best_epoch,
                "monitor": self.monitor,
                "mode": self.mode,
                "history": history,
                "rng": _rng_state(),
                "data_digest": self.data_digest,
                "weighting": None if self.weighting is None else self.weighting.state_dict(),
            },
            self.last_checkpoint,
        )

    # -- the loop ------------------------------------------------------------------------------
    def fit(self) -> TrainingResult:
        """Run (or resume) training; return the model with the best weights and the history."""
        start_epoch = 0
        best_metric: float | None = None
        best_epoch: int | None = None
        best_state: dict[str, torch.Tensor] | None = None
        history: list[dict[str, float]] = []
        if self.checkpoint_dir is not None:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        resumable = self.resume and self.last_checkpoint.exists()
        if self.resume and self.parallel is not None:  # every rank loads the checkpoint rank 0 wrote
            resumable = self.parallel.check_agree(resumable, f"whether {self.last_checkpoint} exists")
        if resumable:
            state = torch.load(self.last_checkpoint, map_location=self.device, weights_only=True)
            check_resumable(state.get("data_digest"), self.data_digest, self.last_checkpoint)
            if (state["monitor"], state["mode"]) != (self.monitor, self.mode):
                raise ValueError(
                    f"{self.last_checkpoint}: saved with monitor={state['monitor']!r} mode={state['mode']!r}, "
                    f"resumed with monitor={self.monitor!r} mode={self.mode!r}"
                )
            self.model.load_state_dict(state["model"])
            if self.weighting is not None:
                if state.get("weighting") is None:
                    raise ValueError(f"{self.last_checkpoint} holds no task-weighting state to resume")
                self.weighting.load_state_dict(state["weighting"])
            self.optimizer.load_state_dict(state["optimizer"])
            start_epoch = int(state["epoch"]) + 1
            best_metric, best_epoch, history = state["best_metric"], state["best_epoch"], list(state["history"])
            if best_epoch is not None and self.best_checkpoint.exists():
                saved_best = torch.load(self.best_checkpoint, map_location="cpu", weights_only=True)
                check_resumable(saved_best.get("data_digest"), self.data_digest, self.best_checkpoint)
                best_state = saved_best["model"]
            _set_rng_state(state["rng"])
            logger.info("resuming from %s after epoch %d", self.last_checkpoint, start_epoch - 1)
        elif self.seed is not None:
            seed_everything(self.seed)

        stopped_early = False
        epochs_run = 0
        # One bar per fit over its epochs (ETA, monitored metric); drawn only when show_progress allows.
        bar = tqdm(
            total=self.epochs, initial=start_epoch, desc=self.progress_label, unit="epoch", leave=False,
            dynamic_ncols=True, disable=not self.progress, bar_format=PROGRESS_FORMAT, mininterval=0, miniters=1,
        )  # redrawn at every epoch's end
        try:
            for epoch in range(start_epoch, self.epochs):
                # Early stopping looks at the history only, so a resumed run stops where the original would have.
                if self.patience is not None and best_epoch is not None and (epoch - 1) - best_epoch >= self.patience:
                    stopped_early = True
                    break
                started = time.perf_counter()
                record: dict[str, float] = {"epoch": epoch}
                record.update(self._train_epoch(epoch))
                record.update(self._evaluate())
                record["seconds"] = time.perf_counter() - started
                if self.parallel is not None:  # rank 0's record (evaluation, seconds) on every rank
                    record = self.parallel.broadcast(record)
                if self.monitor not in record:
                    raise KeyError(f"monitor {self.monitor!r} is not in the epoch record; available: {sorted(record)}")
                history.append(record)
                epochs_run += 1
                value = float(record[self.monitor])
                if self._improved(value, best_metric):
                    best_metric, best_epoch = value, epoch
                    best_state = {key: tensor.detach().cpu().clone() for key, tensor in self.model.state_dict().items()}
                    if self.checkpoint_dir is not None and self.is_main_process:
                        _atomic_save(
                            {"model": best_state, "epoch": epoch, "metric": value, "data_digest": self.data_digest},
                            self.best_checkpoint,
                        )
                if self.checkpoint_dir is not None:
                    if self.is_main_process:
                        self._save_last(epoch, best_metric, best_epoch, history)
                    if self.parallel is not None:
                        distributed.barrier()  # the checkpoints are complete before any rank goes on
                if self.is_main_process:
                    values = ", ".join(f"{k}={v:.4g}" for k, v in record.items() if k != "epoch")
                    epoch_logger.info("%s: epoch %d/%d: %s", self.progress_label, epoch + 1, self.epochs, values)
                    emit_epoch(record, self)  # epoch-end listeners, e.g. experiment tracking (tsmtl.training.events)
                    metrics = f"{self.monitor}={value:.3g}"
                    if self.monitor != "train_loss":
                        metrics += f" loss={record['train_loss']:.3g}"  # the training loss
                    bar.set_postfix_str(metrics, refresh=False)
                    bar.update(1)
        finally:
            bar.close()

        if best_state is not None:
            self.model.load_state_dict(best_state)
        return TrainingResult(
            model=self.model,
            best_epoch=best_epoch,
            best_metric=best_metric,
            history=copy.deepcopy(history),
            monitor=self.monitor,
            mode=self.mode,
            checkpoint_dir=self.checkpoint_dir,
            last_checkpoint=self.last_checkpoint,
            best_checkpoint=self.best_checkpoint if best_epoch is not None and self.checkpoint_dir is not None else None,
            seconds_per_epoch=[float(record["seconds"]) for record in history],
            stopped_early=stopped_early,
            epochs_run=epochs_run,
        )


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s parameters (cpu for a model without parameters)."""
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


Outputs = torch.Tensor | Mapping[str, torch.Tensor]


def _to_numpy(output: Outputs) -> np.ndarray | dict[str, np.ndarray]:
    if isinstance(output, Mapping):
        return {key: value.detach().float().cpu().numpy() for key, value in output.items()}
    return output.detach().float().cpu().numpy()


@torch.no_grad()
def predict_batched(
    model: nn.Module,
    call: Callable[..., Outputs],
    n_items: int,
    take: Callable[[np.ndarray], tuple[torch.Tensor, ...]],
    batch_size: int = 256,
    order: np.ndarray | None = None,
) -> np.ndarray | dict[str, np.ndarray]:
    """THE batched inference of the project: ``call`` over all items, in eval mode, in batches.

    Parameters
    ----------
    model : nn.Module
        Put in eval mode for the call (the previous mode is restored); its device receives the
        inputs.
    call : callable ``(model, *inputs) -> Tensor (b, ...) or {key: Tensor (b, ...)}``
    n_items : int
    take : callable ``index (b,) -> tuple of CPU tensors``
        The inputs of the items ``index`` (e.g. ``SeriesTensors.batch(index)[:2]``, which cuts
        the batch to its longest series).
    batch_size : int
    order : array of int, optional
        The order items are batched in (e.g. sorted by length, so each batch carries little
        padding; models that mask padding give the same outputs in any order).

    Returns
    -------
    np.ndarray (n_items, ...) float32, or dict key -> such an array
        In the items' original order.
    """
    device = model_device(model)
    order = np.arange(n_items) if order is None else np.asarray(order)
    was_training = model.training
    model.eval()
    parts: list[tuple[np.ndarray, Any]] = []
    try:
        for start in range(0, n_items, batch_size):
            index = order[start : start + batch_size]
            inputs = tuple(t.to(device) for t in take(index))
            parts.append((index, _to_numpy(call(model, *inputs))))
    finally:
        model.train(was_training)
    if not parts:
        raise ValueError("predict_batched needs at least one item")

    def assemble(pieces: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        out = np.empty((n_items, *pieces[0][1].shape[1:]), dtype=pieces[0][1].dtype)
        for index, values in pieces:
            out[index] = values
        return out

    if isinstance(parts[0][1], dict):
        return {key: assemble([(index, values[key]) for index, values in parts]) for key in parts[0][1]}
    return assemble(parts)


__all__ = ["StepOutput", "Trainer", "TrainingResult", "model_device", "move_to_device", "predict_batched"]
