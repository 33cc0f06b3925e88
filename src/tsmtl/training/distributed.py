"""Multi-process (multi-GPU, multi-node) training of the :class:`~tsmtl.training.loop.Trainer` with
``torch.distributed`` and ``DistributedDataParallel`` (issue #10, "Multi-GPU / multi-node training").

Launch (every process runs the whole program; torchrun sets ``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``)::

    torchrun --standalone --nproc-per-node=4 -m kedro run --pipelines ucr_mtl
    torchrun --nnodes=2 --node-rank=0 --nproc-per-node=8 --rdzv-backend=c10d \\
        --rdzv-endpoint=host0:29500 -m kedro run --pipelines ucr_mtl      # on every node

With ``WORLD_SIZE`` unset or 1 none of this runs: no process group, the Trainer's single-process
code path. With ``WORLD_SIZE > 1`` the first Trainer initialises the default process group
(:func:`init_process_group`: NCCL for CUDA tensors, gloo for CPU ones), trains on
``cuda:<LOCAL_RANK>`` when its device is auto/cuda, and :class:`DataParallel` does the rest:

**Sharding.** Every rank iterates the SAME global batch sequence: the batch providers are
deterministic functions of the epoch and their own seeds (``ScheduledBatches``, ``JointBatches``,
``PairBatches``), so they agree across ranks without communication. Each rank trains on its
shard of every global batch (:func:`shard_batch`): like ``DistributedSampler``, but per batch, so
Algorithm 2's one-task-per-batch order and joint batches stay intact. A batch is a tuple, named
tuple, list or dict of tensors (nested), every tensor holding the batch's ``n`` items along
dim 0; the shard of rank ``r`` is the items ``[start_r, stop_r)``, the sizes differing by at most
one (``torch.tensor_split``), e.g. 7 items on 2 ranks: 4 and 3. Non-tensor leaves are copied.
A bare tensor (the T-Rep/TS2Vec crops) is refused: their contrastive loss couples the items of a
batch and the crops are drawn for the batch size, so a shard's loss is not a part of the batch's.

**Exact gradients.** A step's loss must be a mean over the batch's items (or, per task, over the
terms a task's loss averages: :attr:`~tsmtl.training.loop.StepOutput.denominators`). The global
batch's loss is then ``L = sum_r c_r L_r`` with ``c_r = n_r / n`` the shard's fraction, and since
DDP AVERAGES the ranks' gradients, rank ``r`` back-propagates ``world * c_r * L_r``
(:attr:`Shard.loss_scale`): the averaged gradient is exactly ``dL/dtheta`` of one process on the
global batch, also when ``n`` is not divisible by the world size. Task losses are scaled before
the task weighting sees them; for the weightings whose objective is affine in the task losses
(equal, fixed, size, uncertainty, DWA) the average over ranks is then the global objective, and
the weighting's own parameters (uncertainty's log-variances) have their gradients averaged by
:meth:`DataParallel.average_gradients`. GradNorm and PCGrad compute per-task gradients themselves
(they override ``TaskWeighting.backward``): they average each task's gradient on the shared
parameters, and GradNorm its task losses, over the ranks (:func:`average_over_ranks`) before
taking norms or projecting, so every rank computes the global batch's GradNorm weights and PCGrad
projections, and the gradient of their network objective is DDP's average like the others'.
PCGrad's random order of the other tasks (three tasks or more) is drawn from the global torch RNG,
identical on every rank, but :meth:`DataParallel.forward`'s per-step draw shifts that stream
against one process's: with three or more tasks the orders (not their distribution) differ from a
one-process run, like dropout masks. A weighting overriding ``backward`` without declaring
``averages_over_ranks`` is refused (:func:`check_weighting`). A regulariser (``StepOutput.extra``)
must be a function of the parameters only (identical on every rank): it is not scaled.

The whole step (``step_fn(model, batch)``) is the forward of the module DDP wraps
(:class:`_StepModule`), so everything it computes from the parameters (heads of the tasks in the
batch, a soft-sharing penalty) is found by DDP's unused-parameter search
(``find_unused_parameters=True``: Algorithm 2 leaves the other tasks' heads unused; parameters
unused on every rank keep ``grad=None``, as in one process, so AdamW skips them the same way).

**Randomness.** Inside the step (dropout), each rank draws from its own stream: the step runs
under a fork of the torch, NumPy and Python RNGs seeded from one draw of the global torch RNG and
the rank (:meth:`DataParallel.forward`). The global RNGs thus advance identically on every rank
(providers that use them still agree, rank 0's checkpointed RNG state is every rank's), dropout
masks of different ranks are independent, and a resumed run replays them exactly.

**Batch norm.** :func:`convert_batch_norms`: the project's masked batch norms
(:class:`~tsmtl.models.masked_norm.MaskedBatchNorm1d`/``2d``, which torch's ``SyncBatchNorm``
cannot replace: it takes no mask) become :class:`SyncMaskedBatchNorm1d`/``2d``: the masked norm's
own computation with its sums all-reduced (differentiably) over the ranks, through its
``_sum_statistics`` hook: the global batch's statistics, on every backend. Plain ``torch.nn``
batch norms become ``torch.nn.SyncBatchNorm`` on CUDA; on CPU (gloo) torch's ``SyncBatchNorm`` is
unsupported, so they keep per-process statistics and one warning says the run then differs from
one process.

**Epoch records** (:meth:`DataParallel.sum_over_ranks`): each rank accumulates its share of the
global batch's values (a mean over items times ``c_r``, a task loss times its task fraction, a
weighting's scaled objective divided by the world size), summed over the ranks at the end of the
epoch, so ``train_loss``, the per-task logs, the monitored value, early stopping and DWA's epoch
losses are the global ones, identical on every rank. Evaluation runs on every rank (identical
weights; ``evaluate_fn`` must not use collectives) and rank 0's epoch record is broadcast
(:meth:`DataParallel.broadcast`), so the history (``seconds`` included) is identical everywhere.

**Checkpoints.** Only rank 0 writes ``last.pt``/``best.pt`` (then :func:`barrier`); every rank
loads them on resume, so ``checkpoint_dir`` must be on storage every node sees. The state dict is
the plain model's: checkpoints move freely between 1 and N processes (an exact resume needs the
same world size).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from tsmtl.models.masked_norm import MaskedBatchNorm1d, MaskedBatchNorm2d

logger = logging.getLogger(__name__)

__all__ = [
    "DataParallel",
    "Shard",
    "SyncMaskedBatchNorm1d",
    "SyncMaskedBatchNorm2d",
    "average_over_ranks",
    "barrier",
    "rank_zero_first",
    "single_process",
    "batch_items",
    "check_weighting",
    "convert_batch_norms",
    "init_process_group",
    "is_distributed",
    "is_main_process",
    "local_rank",
    "rank",
    "requested_world_size",
    "shard_batch",
    "world_size",
]


# -- environment and process group -------------------------------------------------------------
def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} is not an integer") from None


def requested_world_size() -> int:
    """``WORLD_SIZE`` from the environment (torchrun sets it), 1 when unset."""
    return _env_int("WORLD_SIZE", 1)


def is_distributed() -> bool:
    """True when the default process group is initialised with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    """Number of processes: the process group's size, else ``WORLD_SIZE`` (1 when unset)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return requested_world_size()


def rank() -> int:
    """This process's global rank: the process group's, else ``RANK`` (0 when unset)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return _env_int("RANK", 0)


def local_rank() -> int:
    """This process's rank on its node, ``LOCAL_RANK`` (0 when unset): its GPU index."""
    return _env_int("LOCAL_RANK", 0)


def is_main_process() -> bool:
    """True on rank 0 and in any single-process run (``WORLD_SIZE`` <= 1): the process that writes files."""
    return world_size() <= 1 or rank() == 0


def barrier() -> None:
    """Wait for every rank (a no-op without a process group)."""
    if is_distributed():
        dist.barrier()


def average_over_ranks(tensors: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Each tensor's mean over the ranks (one all-reduce of their concatenation); the tensors as they are in one process.

    What the task weightings that look at per-task gradients use (GradNorm, PCGrad,
    :mod:`tsmtl.training.weighting`): every rank's task losses are scaled so that their mean over
    the ranks is the global batch's loss (module docstring), hence the mean of a rank-local
    gradient or loss is the one of one process on the global batch. Not differentiable: callers
    pass detached values. Every rank must call it with tensors of the same shapes, in the same
    order; the results are identical on every rank (gloo and NCCL all-reduces give every rank
    the same bits).

    Parameters
    ----------
    tensors : sequence of Tensor, any shapes, on this rank's device

    Returns
    -------
    list of Tensor, the same shapes and dtypes
    """
    tensors = list(tensors)
    if not tensors or not is_distributed():
        return tensors
    flat = torch.cat([tensor.detach().reshape(-1) for tensor in tensors])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    chunks = flat.split([tensor.numel() for tensor in tensors])
    return [chunk.view_as(tensor).to(tensor.dtype) for chunk, tensor in zip(chunks, tensors, strict=True)]


def _destroy_process_group() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


_SINGLE_PROCESS_DEPTH = 0


@contextlib.contextmanager
def single_process() -> Iterator[None]:
    """Trainers built inside train in this process alone, even under torchrun.

    For work that one rank does for all (e.g. rank 0 pretraining the T-Rep trunk that every rank
    then loads, :func:`tsmtl.experiments.mtl_joint.pretrain_trunk`): no sharding, no DDP, no
    barrier. The process group, if any, stays as it is for the code after the block.
    """
    global _SINGLE_PROCESS_DEPTH
    _SINGLE_PROCESS_DEPTH += 1
    try:
        yield
    finally:
        _SINGLE_PROCESS_DEPTH -= 1


def rank_zero_first(device: torch.device, work: Callable[[], Any]) -> None:
    """Run ``work`` on rank 0 alone (:func:`single_process`), the other ranks waiting for it; one process: just run it.

    The other ranks read what ``work`` wrote after this returns (the files must be on a
    filesystem every rank sees, as the checkpoints must).
    """
    several = init_process_group(device)
    if is_main_process():
        with single_process():
            work()
    if several:
        barrier()


def init_process_group(device: torch.device) -> bool:
    """Initialise the default process group once, when ``WORLD_SIZE > 1``; True when distributed.

    Reads torchrun's environment (``env://``). Backend: ``"cpu:gloo,cuda:nccl"`` when ``device`` is
    a CUDA device (NCCL for CUDA tensors, gloo for the CPU ones of the object collectives), else
    ``"gloo"``. The group lives until the process exits (destroyed ``atexit``); later Trainers of
    the same process (a pipeline fitting many models) reuse it.
    """
    if requested_world_size() <= 1 or _SINGLE_PROCESS_DEPTH:
        return False
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    if not dist.is_initialized():
        backend = "cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        atexit.register(_destroy_process_group)
        if rank() == 0:
            logger.info("torch.distributed: %d processes, backend %s", dist.get_world_size(), backend)
    return dist.get_world_size() > 1


# -- sharding ----------------------------------------------------------------------------------
def _tensors(batch: Any) -> Iterator[torch.Tensor]:
    if isinstance(batch, torch.Tensor):
        yield batch
    elif isinstance(batch, (tuple, list)):
        for item in batch:
            yield from _tensors(item)
    elif isinstance(batch, Mapping):
        for item in batch.values():
            yield from _tensors(item)


def batch_items(batch: Any) -> int:
    """The number of items ``n`` of a batch: the common dim-0 size of its tensors.

    Raises
    ------
    TypeError
        For a bare tensor (see the module docstring: T-Rep/TS2Vec crops) or a batch without tensors.
    ValueError
        When the tensors disagree on their dim-0 size (the items cannot be told apart).
    """
    if isinstance(batch, torch.Tensor):
        raise TypeError(
            "DistributedDataParallel sharding refuses a batch that is a bare tensor (the T-Rep/TS2Vec crops): "
            "their contrastive loss couples the items of a batch and the crops are drawn for the batch size, so "
            "the shards' losses do not add up to the batch's. Train it in one process (WORLD_SIZE=1)"
        )
    sizes = {int(t.shape[0]) if t.dim() else -1 for t in _tensors(batch)}
    if not sizes:
        raise TypeError(f"cannot shard a batch without tensors: {type(batch).__name__}")
    if len(sizes) != 1 or -1 in sizes:
        raise ValueError(
            f"cannot shard a batch whose tensors do not share their dim-0 size (sizes {sorted(sizes)}): "
            "every tensor of a batch must hold its items along dim 0"
        )
    return sizes.pop()


def _take(batch: Any, start: int, stop: int) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch[start:stop]
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_take(item, start, stop) for item in batch))
    if isinstance(batch, (tuple, list)):
        return type(batch)(_take(item, start, stop) for item in batch)
    if isinstance(batch, Mapping):
        return {key: _take(value, start, stop) for key, value in batch.items()}
    return batch


def shard_batch(batch: Any, shard_rank: int, shards: int) -> tuple[Any, int, int]:
    """Rank ``shard_rank``'s part of a global batch of ``n`` items, and its size.

    Parameters
    ----------
    batch : tuple, named tuple, list or dict of tensors (nested)
        Every tensor of shape ``(n, ...)``.
    shard_rank, shards : int
        The rank and the world size.

    Returns
    -------
    shard : same structure, tensors ``(n_rank, ...)`` (views)
        Items ``[start, stop)`` with the sizes of ``torch.tensor_split(arange(n), shards)``: the
        first ``n % shards`` ranks hold one item more.
    n_rank, n : int

    Raises
    ------
    ValueError
        When ``n < shards`` (a rank would get no item: its loss, a mean over nothing, is undefined).
    """
    n = batch_items(batch)
    if n < shards:
        raise ValueError(
            f"a global batch of {n} items cannot be sharded over {shards} processes (every process needs one item); "
            "use a larger batch_size or fewer processes"
        )
    base, extra = divmod(n, shards)
    start = shard_rank * base + min(shard_rank, extra)
    stop = start + base + (1 if shard_rank < extra else 0)
    return _take(batch, start, stop), stop - start, n


def _detached(value: Any) -> torch.Tensor | float:
    return value.detach() if isinstance(value, torch.Tensor) else float(value)


@dataclass(frozen=True)
class Shard:
    """This rank's part of one global batch.

    Attributes
    ----------
    batch : Any
        The shard (see :func:`shard_batch`).
    fraction : float
        ``c_r = n_rank / n``, the shard's share of the global batch's items.
    world : int
    """

    batch: Any
    fraction: float
    world: int

    @property
    def loss_scale(self) -> float:
        """``world * n_rank / n``: DDP's average of the scaled shard gradients is the global batch's gradient."""
        return self.world * self.fraction

    def share(self, logs: Mapping[str, Any]) -> dict[str, Any]:
        """Batch-mean logs times ``fraction``: summed over the ranks they give the global batch's means."""
        return {key: _detached(value) * self.fraction for key, value in logs.items()}


def check_weighting(weighting: nn.Module | None) -> None:
    """Refuse a task weighting whose per-task gradients would be one shard's (see the module docstring).

    A weighting that overrides ``TaskWeighting.backward`` computes gradients itself; it is
    accepted when its class declares ``averages_over_ranks = True`` (it averages its per-task
    gradients and losses over the ranks with :func:`average_over_ranks` before using them:
    GradNorm, PCGrad), refused otherwise.

    Raises
    ------
    ValueError
        Naming the weighting, for one that overrides ``backward`` without ``averages_over_ranks``.
    """
    if weighting is None:
        return
    from tsmtl.training.weighting import TaskWeighting

    overrides_backward = getattr(type(weighting), "backward", None) is not TaskWeighting.backward
    if overrides_backward and not getattr(type(weighting), "averages_over_ranks", False):
        name = getattr(weighting, "name", "") or type(weighting).__name__
        raise ValueError(
            f"the {name!r} task weighting computes per-task gradients itself ({type(weighting).__name__}.backward) "
            "without averaging them over the processes (averages_over_ranks is not set); under DistributedDataParallel "
            "each process would use its own shard's gradients and the update would differ from one process. Train it "
            "in one process (WORLD_SIZE=1), or average its per-task values with tsmtl.training.distributed."
            "average_over_ranks and set averages_over_ranks = True"
        )


# -- batch norm --------------------------------------------------------------------------------
def _all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Differentiable all-reduce (sum) of torch's functional collectives: the backward all-reduces the gradients."""
    from torch.distributed import _functional_collectives as functional_collectives

    return functional_collectives.all_reduce(tensor, "sum", dist.group.WORLD)


class _SyncMaskedBatchNormMixin:
    """Training statistics of a masked batch norm over the valid positions of EVERY rank's shard.

    The same statistics as :class:`~tsmtl.models.masked_norm.MaskedBatchNorm1d` computes on the
    whole global batch: its own computation, with its :meth:`_sum_statistics` hook all-reducing
    the sums it is made of (per channel ``mean = sum_r S_r / sum_r N_r`` and the biased variance
    ``sum_r Q_r / sum_r N_r``, ``Q_r`` the squared deviations from the global mean: two
    all-reduces per layer). ``mask=None`` counts every position. Gradients flow through the
    all-reduces. Evaluation mode (or no process group) is the parent's forward.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if not self.training or not is_distributed():  # type: ignore[attr-defined]
            return super().forward(x, mask)  # type: ignore[misc]
        return self._batch_statistics_forward(x, mask)  # type: ignore[attr-defined]

    def _sum_statistics(self, *sums: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The sums over every rank's shard: one differentiable all-reduce of their concatenation."""
        totals = _all_reduce_sum(torch.cat([part.reshape(-1) for part in sums]))
        return tuple(
            chunk.view_as(part) for chunk, part in zip(totals.split([part.numel() for part in sums]), sums, strict=True)
        )


class SyncMaskedBatchNorm1d(_SyncMaskedBatchNormMixin, MaskedBatchNorm1d):
    """:class:`~tsmtl.models.masked_norm.MaskedBatchNorm1d` with statistics over every rank's shard (same state dict)."""


class SyncMaskedBatchNorm2d(_SyncMaskedBatchNormMixin, MaskedBatchNorm2d):
    """:class:`~tsmtl.models.masked_norm.MaskedBatchNorm2d` with statistics over every rank's shard (same state dict)."""


_SYNC_MASKED = {MaskedBatchNorm1d: SyncMaskedBatchNorm1d, MaskedBatchNorm2d: SyncMaskedBatchNorm2d}
_warned_local_batch_norm = False


def _sync_masked(norm: nn.Module) -> nn.Module:
    """A synchronised copy of a masked batch norm holding the SAME parameter and buffer tensors."""
    cls = next(sync for masked, sync in _SYNC_MASKED.items() if type(norm) is masked)
    sync = cls(norm.num_features, norm.eps, norm.momentum, norm.affine, norm.track_running_stats)
    for name, param in norm.named_parameters(recurse=False):
        setattr(sync, name, param)
    for name, buffer in norm.named_buffers(recurse=False):
        setattr(sync, name, buffer)
    return sync.train(norm.training)


def convert_batch_norms(model: nn.Module, device: torch.device) -> nn.Module:
    """Batch norms whose training statistics cover the global batch (see the module docstring).

    Masked batch norms -> :class:`SyncMaskedBatchNorm1d`/``2d`` (any backend); plain ``torch.nn``
    batch norms -> ``torch.nn.SyncBatchNorm`` on CUDA, unchanged on CPU (one warning on rank 0).
    The replacements hold the same parameter tensors (build the optimizer afterwards anyway) and
    the same state-dict keys. Returns ``model`` (converted in place, or the replacement when
    ``model`` itself is a batch norm).
    """
    global _warned_local_batch_norm
    kept: list[str] = []

    def convert(module: nn.Module, prefix: str) -> nn.Module:
        if type(module) in _SYNC_MASKED:
            return _sync_masked(module)
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(
            module, (nn.SyncBatchNorm, _SyncMaskedBatchNormMixin)
        ):
            if device.type == "cuda":
                return nn.SyncBatchNorm.convert_sync_batchnorm(module)
            kept.append(prefix or type(module).__name__)
            return module
        for name, child in list(module.named_children()):
            replacement = convert(child, f"{prefix}.{name}" if prefix else name)
            if replacement is not child:
                module.add_module(name, replacement)
        return module

    model = convert(model, "")
    if kept and not _warned_local_batch_norm and is_main_process():
        _warned_local_batch_norm = True
        logger.warning(
            "%d torch.nn batch norm layer(s) (%s) keep per-process statistics: torch's SyncBatchNorm needs CUDA, and "
            "with gloo on CPU each process normalises its shard with its own batch statistics, so the training differs "
            "from one process on the global batch",
            len(kept),
            ", ".join(kept[:3]) + (", ..." if len(kept) > 3 else ""),
        )
    return model


# -- the Trainer's distributed helpers ---------------------------------------------------------
class _StepModule(nn.Module):
    """The module DDP wraps: its forward is the whole training step ``step_fn(model, batch)``."""

    def __init__(self, model: nn.Module, step_fn: Any) -> None:
        super().__init__()
        self.model = model
        self.step_fn = step_fn

    def forward(self, batch: Any) -> Any:
        return self.step_fn(self.model, batch)


@contextlib.contextmanager
def _rank_rng(seed: int, device: torch.device) -> Iterator[None]:
    """Torch (CPU and ``device``), NumPy and Python RNGs seeded with ``seed`` inside, restored after."""
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    cuda = device.type == "cuda"
    devices = [device.index if device.index is not None else torch.cuda.current_device()] if cuda else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.default_generator.manual_seed(seed)
            if cuda:
                with torch.cuda.device(devices[0]):
                    torch.cuda.manual_seed(seed)
            np.random.seed(seed % 2**32)
            random.seed(seed)
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


class DataParallel:
    """What the :class:`~tsmtl.training.loop.Trainer` does differently with several processes.

    Build it after :func:`init_process_group` and :func:`convert_batch_norms`, with the model
    already on ``device`` (DDP broadcasts rank 0's parameters and buffers at construction).

    Parameters
    ----------
    model : nn.Module
        The plain model (the Trainer keeps using it for state dicts, evaluation and ``after_step``).
    step_fn : callable ``(model, batch) -> (loss, logs) or StepOutput``
    device : torch.device
    """

    def __init__(self, model: nn.Module, step_fn: Any, device: torch.device) -> None:
        if not is_distributed():
            raise RuntimeError("DataParallel needs an initialised process group with more than one process")
        self.rank = dist.get_rank()
        self.world = dist.get_world_size()
        self.device = device
        self.ddp = DistributedDataParallel(
            _StepModule(model, step_fn),
            device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=True,
        )

    def shard(self, batch: Any) -> Shard:
        """This rank's :class:`Shard` of a global batch (:func:`shard_batch`)."""
        part, n_rank, n = shard_batch(batch, self.rank, self.world)
        return Shard(part, n_rank / n, self.world)

    def forward(self, shard: Shard) -> Any:
        """The step on the shard through DDP, with this rank's own RNG stream (module docstring)."""
        seed = int(torch.randint(0, 2**62, ()))  # one draw of the global RNG, the same on every rank
        rank_seed = int(np.random.SeedSequence([seed, self.rank]).generate_state(2, dtype=np.uint64)[0] % 2**63)
        with _rank_rng(rank_seed, self.device):
            return self.ddp(shard.batch)

    def task_fractions(
        self, shard: Shard, losses: Mapping[str, torch.Tensor], denominators: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """``c_rt``, each task's share of its global loss on this rank.

        Without ``denominators`` the item fraction ``n_rank / n`` for every task. With them (the
        number, or total weight, of the terms each task's loss averages on this shard) one
        all-reduce gives ``D_t = sum_r d_rt`` and ``c_rt = d_rt / D_t`` (0 when ``D_t = 0``: no
        term of the task in the global batch, its loss is 0 on every rank).
        """
        if denominators is None:
            return dict.fromkeys(losses, shard.fraction)
        missing = sorted(set(losses) - set(denominators))
        if missing:
            raise KeyError(f"StepOutput.denominators lacks the task(s) {missing}")
        tasks = list(losses)
        local = torch.stack(
            [torch.as_tensor(denominators[task], dtype=torch.float64, device=self.device).reshape(()) for task in tasks]
        )
        total = local.clone()
        dist.all_reduce(total)
        fractions = torch.where(total > 0, local / total.clamp_min(torch.finfo(torch.float64).tiny), torch.zeros_like(local))
        return {task: fractions[i].to(torch.float32) for i, task in enumerate(tasks)}

    def average_gradients(self, module: nn.Module | None) -> None:
        """All-reduce (average) the gradients of ``module``'s parameters that have one (the weighting's)."""
        if module is None:
            return
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def sum_over_ranks(self, values: Mapping[str, Any]) -> dict[str, float]:
        """``{key: sum over ranks}`` of every rank's floats (or 0-d tensors), added in rank order.

        One object all-gather (at the end of an epoch): identical sums on every rank. A key
        missing on a rank counts 0 there.
        """
        local = {key: float(_detached(value)) for key, value in values.items()}
        gathered: list[Any] = [None] * self.world
        dist.all_gather_object(gathered, local)
        keys = sorted(set().union(*gathered))
        return {key: sum(part.get(key, 0.0) for part in gathered) for key in keys}

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` (picklable), on every rank."""
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def check_agree(self, flag: bool, what: str) -> bool:
        """``flag`` when every rank has the same; RuntimeError naming ``what`` otherwise."""
        flags: list[Any] = [None] * self.world
        dist.all_gather_object(flags, bool(flag))
        if len(set(flags)) != 1:
            raise RuntimeError(
                f"the processes disagree on {what} (per rank: {flags}); the checkpoint_dir must be on storage every node sees"
            )
        return bool(flag)
