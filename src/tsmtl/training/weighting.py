"""Task weighting: how the per-task losses of one step become gradients (the plug-in contract).

The multitask training loop separates the *architecture* (the model) from the *loss weighting*
(this module), as LibMTL does. For every optimisation step the loop

1. zeroes the gradients,
2. computes ``losses``: a dict ``task -> 0-d loss`` for the tasks present in the batch (a
   non-empty subset of ``weighting.tasks``: ONE task with the ResNet2D paper's Algorithm 2
   batches, every task with joint batches) and optionally ``extra``, a 0-d regulariser such as
   a soft-sharing penalty,
3. calls ``weighting.backward(losses, model, extra)`` INSTEAD of ``loss.backward()``: it writes
   (accumulates into ``.grad``, as :meth:`torch.Tensor.backward` does) the gradients of the
   weighted objective into the model's parameters and into the weighting's own parameters when
   it learns any, and returns detached logs ``{"weight/<task>": w_t, "loss/total": total}``,
4. clips the gradients and calls ``optimizer.step()``; the optimizer holds the model's
   parameters AND ``weighting.parameters()`` (a separate param group, weight decay 0).

After every epoch the loop calls ``weighting.end_epoch(epoch, mean_losses)`` with each task's
mean training loss over that epoch. The weighting's ``state_dict()`` goes into the checkpoints:
every piece of state that influences later steps (initial losses, the losses of previous epochs,
learnable weights) lives in parameters or registered buffers ("not seen yet" is NaN), so a
resumed run continues bit for bit. Randomness (PCGrad's task order) comes from torch's global
CPU RNG, which the loop checkpoints. The loop should move the weighting to the model's device
(``weighting.to(device)``); the weights are cast to each loss's dtype and device when used.

The model interface the weightings may use (only GradNorm and PCGrad look at the model):

* ``model.shared_parameters() -> list[nn.Parameter]``: the parameters every task's loss depends
  on (the shared trunk); empty with soft parameter sharing (every task has its own trunk);
* ``model.last_shared_parameters() -> list[nn.Parameter]``: GradNorm's ``W``, the last shared
  layer (with soft sharing the last layer of every task's own trunk).

Notation: ``K`` is the number of tasks (``len(weighting.tasks)``), ``T`` the number of tasks
present in a step, ``L_t`` the 0-d loss of task ``t``.

Weightings (registry name, class):

* ``"equal"`` :class:`EqualWeighting`: the sum of the task losses;
* ``"fixed"`` :class:`FixedWeighting`: constant weights from the configuration (ForeClassNet's
  ``alpha * CE + beta * MSE``, eq. 7);
* ``"size"`` :class:`SizeWeighting`: proportional to the task's training-set size;
* ``"uncertainty"`` :class:`UncertaintyWeighting`: Kendall, Gal & Cipolla (CVPR 2018);
* ``"dwa"`` :class:`DynamicWeightAverage`: Liu, Johns & Davison (CVPR 2019);
* ``"gradnorm"`` :class:`GradNorm`: Chen et al. (ICML 2018);
* ``"pcgrad"`` :class:`PCGrad`: Yu et al. (NeurIPS 2020).

GradNorm and PCGrad compare the gradients of several tasks within one step; with one task per
step they cannot do anything, so they set the class attribute ``needs_joint_batches = True``
(``WEIGHTINGS[name].needs_joint_batches``) and the caller refuses them with Algorithm 2 batches.

Several processes (``torchrun``, issue #10, :mod:`tsmtl.training.distributed`): each rank's
``losses`` are its shard's, scaled so that their mean over the ranks is the global batch's loss,
and DDP averages the parameter gradients the backward writes. The objective ``sum_t w_t L_t`` is
linear in the losses, so the weightings that only define :meth:`TaskWeighting.weights` need
nothing more. GradNorm and PCGrad compute per-task values themselves: they average each task's
gradient (and GradNorm its losses) over the ranks with
:func:`~tsmtl.training.distributed.average_over_ranks` before taking norms or projecting
(``averages_over_ranks = True``), which makes their weights and projections the global batch's on
every rank; in one process that average is a no-op.

Adding a weighting is one class and one registry line::

    @register_weighting("mine")
    class MyWeighting(TaskWeighting):
        def weights(self, losses):
            ...
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

import torch
from torch import Tensor, nn

from tsmtl.training.distributed import average_over_ranks

__all__ = [
    "WEIGHTINGS",
    "DynamicWeightAverage",
    "EqualWeighting",
    "FixedWeighting",
    "GradNorm",
    "PCGrad",
    "SizeWeighting",
    "TaskWeighting",
    "UncertaintyWeighting",
    "build_weighting",
    "register_weighting",
]


def _like(value: Tensor, reference: Tensor) -> Tensor:
    """``value`` in ``reference``'s dtype and on its device (a no-op, no copy, when they match)."""
    return value.to(dtype=reference.dtype, device=reference.device)


def _model_parameters(model: nn.Module, method: str, weighting: str) -> list[Tensor]:
    """``model.<method>()`` without duplicates and without frozen parameters (order kept)."""
    getter = getattr(model, method, None)
    if not callable(getter):
        raise TypeError(
            f"the {weighting!r} weighting needs model.{method}(); "
            f"{type(model).__name__} does not define it"
        )
    seen: set[int] = set()
    params = []
    for param in getter():
        if param.requires_grad and id(param) not in seen:
            seen.add(id(param))
            params.append(param)
    return params


class TaskWeighting(nn.Module):
    """Base class: turns the per-task losses of one step into gradients.

    Subclasses define :meth:`weights` (and override :meth:`backward` when the objective is not
    ``sum_t w_t * L_t``). See the module docstring for the contract with the training loop.

    Parameters
    ----------
    tasks : sequence of str
        Every task name, in a fixed order; per-task state is indexed in this order (shape (K,)).
    task_sizes : mapping str -> int, optional
        Number of training examples of each task (only :class:`SizeWeighting` needs it).

    Attributes
    ----------
    name : str
        The registry name (set by :func:`register_weighting`).
    needs_joint_batches : bool
        True when the weighting compares tasks within one step (GradNorm, PCGrad): it does
        nothing useful with one task per step, and callers must give it joint batches.
    averages_over_ranks : bool
        For a weighting that overrides :meth:`backward`: True when it averages the per-task
        values it computes itself over the processes (see the module docstring, "Several
        processes"); under DDP the Trainer refuses an overriding weighting without it.
    tasks : list of str
    task_sizes : dict str -> int or None
    """

    name: ClassVar[str] = ""
    needs_joint_batches: ClassVar[bool] = False
    averages_over_ranks: ClassVar[bool] = False

    def __init__(self, tasks: Sequence[str], task_sizes: Mapping[str, int] | None = None) -> None:
        super().__init__()
        if isinstance(tasks, str):
            raise TypeError(f"tasks must be a sequence of task names, not the string {tasks!r}")
        tasks = list(tasks)
        if not tasks:
            raise ValueError("a task weighting needs at least one task")
        if not all(isinstance(task, str) for task in tasks):
            raise TypeError(f"task names must be strings, got {tasks!r}")
        if len(set(tasks)) != len(tasks):
            raise ValueError(f"task names must be unique, got {tasks!r}")
        self.tasks: list[str] = tasks
        self._index = {task: i for i, task in enumerate(tasks)}
        self.task_sizes: dict[str, int] | None = None
        if task_sizes is not None:
            unknown = sorted(set(task_sizes) - set(tasks))
            if unknown:
                raise ValueError(f"task_sizes names unknown task(s) {unknown}; tasks are {tasks}")
            self.task_sizes = {task: int(size) for task, size in task_sizes.items()}

    @property
    def num_tasks(self) -> int:
        """``K``, the number of tasks."""
        return len(self.tasks)

    def _present(self, losses: Mapping[str, Tensor]) -> list[str]:
        """The tasks of ``losses`` in ``self.tasks`` order; ValueError for empty or unknown."""
        if not losses:
            raise ValueError("losses is empty: a step needs the loss of at least one task")
        unknown = sorted(set(losses) - set(self._index))
        if unknown:
            raise ValueError(f"unknown task(s) {unknown} in losses; tasks are {self.tasks}")
        return [task for task in self.tasks if task in losses]

    def weights(self, losses: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The weight of every task in ``losses`` for this step.

        Parameters
        ----------
        losses : mapping str -> Tensor, shape ()
            The loss of each task present in the step.

        Returns
        -------
        dict str -> Tensor, shape ()
            ``w_t`` for every task of ``losses`` (in ``self.tasks`` order), in the loss's dtype
            and on its device. Learnable weights keep their autograd graph.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define weights()")

    def _weighted_sum(
        self, losses: Mapping[str, Tensor], weights: Mapping[str, Tensor], extra: Tensor | None
    ) -> Tensor:
        """``sum_t w_t * L_t (+ extra)`` over ``weights``' tasks, shape ()."""
        terms = [weights[task] * losses[task] for task in weights]
        return _plus_extra(_sum(terms), extra)

    def _logs(self, weights: Mapping[str, Tensor], total: Tensor) -> dict[str, Tensor]:
        """Detached copies (later in-place updates of the weights do not change them)."""
        logs = {f"weight/{task}": w.detach().clone() for task, w in weights.items()}
        logs["loss/total"] = total.detach()
        return logs

    def backward(
        self, losses: Mapping[str, Tensor], model: nn.Module, extra: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Accumulate the gradients of the weighted objective (replaces ``loss.backward()``).

        The default objective is ``total = sum_t w_t * L_t + extra``.

        Parameters
        ----------
        losses : mapping str -> Tensor, shape ()
            The loss of each task present in the step: a non-empty subset of ``self.tasks``
            (unknown names raise ValueError).
        model : nn.Module
            The model whose parameters receive the gradients (see the module docstring for the
            methods GradNorm and PCGrad use).
        extra : Tensor, shape (), optional
            A regulariser added with weight 1: never reweighted, never projected.

        Returns
        -------
        dict str -> Tensor, shape ()
            Detached ``"weight/<task>"`` (the weight applied) for every task of ``losses`` and
            ``"loss/total"`` (the objective whose gradient was written, ``extra`` included).
        """
        self._present(losses)
        weights = self.weights(losses)
        total = self._weighted_sum(losses, weights, extra)
        total.backward()
        return self._logs(weights, total)

    def end_epoch(self, epoch: int, mean_losses: Mapping[str, float]) -> None:
        """Called after every epoch with each task's mean training loss (default: nothing).

        Parameters
        ----------
        epoch : int
            The 0-based epoch that just ended.
        mean_losses : mapping str -> float
            Mean training loss of each task over that epoch.
        """

    def extra_repr(self) -> str:
        return f"tasks={self.tasks}"


def _sum(terms: list[Tensor]) -> Tensor:
    """Left-to-right sum; a single term is returned as it is (no ``0 + x`` node)."""
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _plus_extra(total: Tensor, extra: Tensor | None) -> Tensor:
    return total if extra is None else total + extra


WEIGHTINGS: dict[str, type[TaskWeighting]] = {}
"""Registry name -> weighting class (filled by :func:`register_weighting`)."""


def register_weighting(name: str) -> Callable[[type[TaskWeighting]], type[TaskWeighting]]:
    """Class decorator: register a :class:`TaskWeighting` subclass under ``name``.

    Sets ``cls.name = name``. A name already taken raises ValueError.
    """

    def decorator(cls: type[TaskWeighting]) -> type[TaskWeighting]:
        if not (isinstance(cls, type) and issubclass(cls, TaskWeighting)):
            raise TypeError(f"{cls!r} is not a TaskWeighting subclass")
        if name in WEIGHTINGS:
            raise ValueError(f"a task weighting named {name!r} is already registered")
        cls.name = name
        WEIGHTINGS[name] = cls
        return cls

    return decorator


def build_weighting(
    name: str,
    tasks: Sequence[str],
    task_sizes: Mapping[str, int] | None = None,
    **params: object,
) -> TaskWeighting:
    """Instantiate the weighting registered as ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`WEIGHTINGS`.
    tasks : sequence of str
    task_sizes : mapping str -> int, optional
        Training-set size of each task (needed by ``"size"``).
    **params
        The weighting's own parameters (``temperature`` for ``"dwa"``, ``alpha`` for
        ``"gradnorm"``).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones), an unknown parameter (the
        message lists the accepted ones) or a bad parameter value.
    """
    if name not in WEIGHTINGS:
        raise ValueError(f"unknown task weighting {name!r}; known weightings: {sorted(WEIGHTINGS)}")
    cls = WEIGHTINGS[name]
    signature = inspect.signature(cls.__init__)
    accepts_any = any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
    )
    accepted = [p for p in signature.parameters if p not in {"self", "tasks", "task_sizes"}]
    unknown = sorted(set(params) - set(accepted))
    if unknown and not accepts_any:
        raise ValueError(
            f"task weighting {name!r} got unknown parameter(s) {unknown}; "
            f"it accepts {sorted(accepted) if accepted else 'none'}"
        )
    return cls(tasks, task_sizes, **params)


def _positive_float(value: object, what: str, allow_zero: bool = False) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{what} must be finite and {bound}, got {value!r}")
    return number


@register_weighting("equal")
class EqualWeighting(TaskWeighting):
    """Every weight is 1: the objective is ``sum_t L_t (+ extra)``.

    With one task per step (Algorithm 2 of the ResNet2D paper) :meth:`backward` is exactly
    ``loss.backward()`` (the loss is not even multiplied by 1).
    """

    def weights(self, losses: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``w_t = 1`` (shape ()) for every task of ``losses``."""
        return {task: torch.ones_like(losses[task]) for task in self._present(losses)}

    def _weighted_sum(
        self, losses: Mapping[str, Tensor], weights: Mapping[str, Tensor], extra: Tensor | None
    ) -> Tensor:
        return _plus_extra(_sum([losses[task] for task in weights]), extra)


@register_weighting("fixed")
class FixedWeighting(TaskWeighting):
    """Constant weights from the configuration: ``sum_t w_t L_t (+ extra)``.

    ForeClassNet's loss (eq. 7) is the fixed weighting ``alpha * CE + beta * MSE`` (the paper:
    ``alpha = beta = 1``): ``{"weights": {"class": alpha, "forecast": beta}}``. Tasks not named
    get weight 1.

    Parameters
    ----------
    weights : mapping task -> float
        Non-negative weights; names must be tasks of the model.
    """

    def __init__(
        self,
        tasks: Sequence[str],
        task_sizes: Mapping[str, int] | None = None,
        weights: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(tasks, task_sizes)
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(self.tasks))
        if unknown:
            raise ValueError(f"the 'fixed' weighting got weights for unknown tasks {unknown}; tasks: {self.tasks}")
        values = [_positive_float(weights.get(task, 1.0), f"weight of task {task!r}", allow_zero=True) for task in self.tasks]
        self.register_buffer("task_weights", torch.tensor(values, dtype=torch.float32), persistent=False)

    def weights(self, losses: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``w_t`` from the configuration (shape ()) for every task of ``losses``."""
        return {task: _like(self.task_weights[self.tasks.index(task)], losses[task]) for task in self._present(losses)}


@register_weighting("size")
class SizeWeighting(TaskWeighting):
    """Weights proportional to the training-set sizes, summing to ``K``.

    ``w_t = K * n_t / sum_i n_i`` with ``n_t`` the number of training examples of task ``t``
    (e.g. sizes (30, 10) give weights (1.5, 0.5)). The weights are constants: a non-persistent
    float64 buffer of shape (K,), rebuilt from ``task_sizes`` (so ``state_dict()`` is empty).

    Parameters
    ----------
    tasks : sequence of str
    task_sizes : mapping str -> int
        Required, with a positive size for every task (ValueError otherwise).
    """

    task_weights: Tensor

    def __init__(self, tasks: Sequence[str], task_sizes: Mapping[str, int] | None = None) -> None:
        super().__init__(tasks, task_sizes)
        sizes = self.task_sizes or {}
        missing = [task for task in self.tasks if task not in sizes]
        if missing:
            raise ValueError(
                f"the 'size' weighting needs task_sizes for every task; missing {missing}"
            )
        bad = {task: sizes[task] for task in self.tasks if sizes[task] < 1}
        if bad:
            raise ValueError(f"task sizes must be positive, got {bad}")
        total = sum(sizes[task] for task in self.tasks)
        weights = [self.num_tasks * sizes[task] / total for task in self.tasks]
        self.register_buffer(
            "task_weights", torch.tensor(weights, dtype=torch.float64), persistent=False
        )

    def weights(self, losses: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``w_t = K * n_t / sum_i n_i`` (shape ()) for every task of ``losses``."""
        return {
            task: _like(self.task_weights[self._index[task]], losses[task])
            for task in self._present(losses)
        }


@register_weighting("uncertainty")
class UncertaintyWeighting(TaskWeighting):
    """Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018, eq. 7 and 10).

    Each task has a learnable ``s_t = log sigma_t^2`` (the parameter ``log_variance``, shape
    (K,), initialised 0). The objective, in the form LibMTL uses for every task type, is

        ``total = sum_t 0.5 * exp(-s_t) * L_t + 0.5 * s_t  (+ extra)``

    i.e. eq. 7's ``L / (2 sigma^2) + log sigma`` (the paper's classification form eq. 10 differs
    by a factor 2 on the loss term). Gradients flow into ``s``:
    ``d total / d s_t = -0.5 * exp(-s_t) * L_t + 0.5``; tasks absent from a step get 0 there.
    The weight logged is ``0.5 * exp(-s_t)``.
    """

    def __init__(self, tasks: Sequence[str], task_sizes: Mapping[str, int] | None = None) -> None:
        super().__init__(tasks, task_sizes)
        self.log_variance = nn.Parameter(torch.zeros(self.num_tasks))

    def weights(self, losses: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``w_t = 0.5 * exp(-s_t)`` (shape (), differentiable in ``s``) per task of ``losses``."""
        return {
            task: 0.5 * torch.exp(-_like(self.log_variance[self._index[task]], losses[task]))
            for task in self._present(losses)
        }

    def _weighted_sum(
        self, losses: Mapping[str, Tensor], weights: Mapping[str, Tensor], extra: Tensor | None
    ) -> Tensor:
        terms = [
            weights[task] * losses[task]
            + 0.5 * _like(self.log_variance[self._index[task]], losses[task])
            for task in weights
        ]
        return _plus_extra(_sum(terms), extra)


@register_weighting("dwa")
class DynamicWeightAverage(TaskWeighting):
    """Dynamic Weight Average (Liu, Johns & Davison, "End-to-End Multi-Task Learning with
    Attention", CVPR 2019, eq. 1).

    For epoch ``e``:

        ``w_t(e) = K * exp(r_t(e-1) / T) / sum_i exp(r_i(e-1) / T)``,
        ``r_t(e-1) = L_t(e-1) / L_t(e-2)``

    with ``L_t(e)`` the mean training loss passed to :meth:`end_epoch` and ``T`` the
    temperature. ``w_t = 1`` in the first two epochs (e = 0, 1) and whenever task ``t`` lacks
    two consecutive epochs of history (or the ratio is not finite or ``L_t(e-2) <= 0``); the
    softmax then runs over the tasks that have a ratio and is scaled by their number, so the
    weights still sum to ``K``. The weights for epoch ``e`` are computed in ``end_epoch(e - 1)``
    and stay fixed during epoch ``e`` (the epoch after the last ``end_epoch`` call).

    State (buffers, all in ``state_dict()``): ``loss_history`` (2, K) float64, row 0 =
    ``L(e-1)`` and row 1 = ``L(e-2)``, NaN where unknown; ``epoch_weights`` (K,) float64, the
    weights of the current epoch; ``last_epoch`` () int64, the last epoch seen (-1: none).

    Parameters
    ----------
    tasks : sequence of str
    task_sizes : mapping str -> int, optional
        Unused.
    temperature : float, default 2.0
        ``T`` (> 0); the paper uses 2.
    """

    loss_history: Tensor
    epoch_weights: Tensor
    last_epoch: Tensor

    def __init__(
        self,
        tasks: Sequence[str],
        task_sizes: Mapping[str, int] | None = None,
        temperature: float = 2.0,
    ) -> None:
        super().__init__(tasks, task_sizes)
        self.temperature = _positive_float(temperature, "dwa temperature")
        k = self.num_tasks
        self.register_buffer("loss_history", torch.full((2, k), math.nan, dtype=torch.float64))
        self.register_buffer("epoch_weights", torch.ones(k, dtype=torch.float64))
        self.register_buffer("last_epoch", torch.tensor(-1, dtype=torch.int64))

    def weights(self, losses: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``w_t(e)`` of the current epoch (shape ()) for every task of ``losses``."""
        return {
            task: _like(self.epoch_weights[self._index[task]], losses[task])
            for task in self._present(losses)
        }

    @torch.no_grad()
    def end_epoch(self, epoch: int, mean_losses: Mapping[str, float]) -> None:
        """Record ``L_t(epoch)`` and compute the weights of epoch ``epoch + 1``.

        Tasks missing from ``mean_losses`` get NaN (no history). Epochs must increase; a gap
        (``epoch > last + 1``) discards the older epoch, which is then not ``L(e-2)``.
        """
        epoch = int(epoch)
        last = int(self.last_epoch)
        unknown = sorted(set(mean_losses) - set(self._index))
        if unknown:
            raise ValueError(f"unknown task(s) {unknown} in mean_losses; tasks are {self.tasks}")
        if last >= 0 and epoch <= last:
            raise ValueError(f"end_epoch({epoch}) after end_epoch({last}): epochs must increase")
        current = torch.tensor(
            [float(mean_losses[task]) if task in mean_losses else math.nan for task in self.tasks],
            dtype=torch.float64,
        ).to(self.loss_history.device)
        if last >= 0 and epoch == last + 1:
            self.loss_history[1].copy_(self.loss_history[0])
        else:
            self.loss_history[1].fill_(math.nan)
        self.loss_history[0].copy_(current)
        self.last_epoch.fill_(epoch)

        previous, before = self.loss_history[0], self.loss_history[1]
        ratio = previous / before
        valid = torch.isfinite(ratio) & (before > 0)
        weights = torch.ones_like(self.epoch_weights)
        if bool(valid.any()):
            softmax = torch.softmax(ratio[valid] / self.temperature, dim=0)
            weights[valid] = int(valid.sum()) * softmax
        self.epoch_weights.copy_(weights)

    def extra_repr(self) -> str:
        return f"tasks={self.tasks}, temperature={self.temperature}"


@register_weighting("gradnorm")
class GradNorm(TaskWeighting):
    """GradNorm (Chen, Badrinarayanan, Lee & Rabinovich, ICML 2018, Algorithm 1).

    Learnable weights ``w`` (the parameter ``task_weights``, shape (K,), initialised 1). At the
    START of every :meth:`backward` call (after the previous optimizer step) they are clamped
    positive (>= ``min_weight``) and renormalised in place to sum to ``K``:
    ``w <- K * w / sum(w)``. Then, over the ``T`` tasks present in the step:

    * ``n_t = || d L_t / d W ||`` with ``W = model.last_shared_parameters()`` (detached);
    * ``G_t = w_t * n_t`` (the norm of the gradient of ``w_t L_t``);
    * ``Ltilde_t = L_t / L_t(0)``, ``L_t(0)`` the loss at the first step task ``t`` was seen
      (buffer ``initial_losses``, shape (K,), NaN until then);
    * ``r_t = Ltilde_t / mean(Ltilde)``; ``target_t = mean(G) * r_t ** alpha`` (a constant);
    * ``L_grad = sum_t |G_t - target_t|``.

    ``task_weights.grad`` receives ``d L_grad / d w`` only; the network receives the gradient of
    ``sum_t w_t.detach() * L_t (+ extra)``. The weights logged are the renormalised ones.

    Several processes: ``L_t`` and ``dL_t/dW`` are averaged over the ranks before the above
    (:func:`~tsmtl.training.distributed.average_over_ranks`), so ``n_t``, ``L_t(0)``, ``r_t`` and
    the weights are the global batch's, identical on every rank.

    With one task per step ``r = 1`` and ``L_grad = 0``: it needs joint batches. With soft
    sharing ``last_shared_parameters()`` lists every task's own last layer; ``n_t`` is then the
    norm over task ``t``'s own layer (the gradient is zero in the others').

    Parameters
    ----------
    tasks : sequence of str
    task_sizes : mapping str -> int, optional
        Unused.
    alpha : float, default 1.5
        The asymmetry ``alpha`` (>= 0) of eq. 2 of the paper.
    """

    needs_joint_batches: ClassVar[bool] = True
    averages_over_ranks: ClassVar[bool] = True
    min_weight: ClassVar[float] = 1e-6
    """Weights are clamped to at least this before the renormalisation."""

    initial_losses: Tensor

    def __init__(
        self,
        tasks: Sequence[str],
        task_sizes: Mapping[str, int] | None = None,
        alpha: float = 1.5,
    ) -> None:
        super().__init__(tasks, task_sizes)
        self.alpha = _positive_float(alpha, "gradnorm alpha", allow_zero=True)
        self.task_weights = nn.Parameter(torch.ones(self.num_tasks))
        self.register_buffer("initial_losses", torch.full((self.num_tasks,), math.nan))

    def _normalised(self, weights: Tensor) -> Tensor:
        clamped = weights.clamp(min=self.min_weight)
        return clamped * (self.num_tasks / clamped.sum())

    def weights(self, losses: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The renormalised weights ``K * w_t / sum(w)`` (detached, shape ()) of this step.

        Does not modify ``task_weights`` (:meth:`backward` renormalises them in place, which
        gives the same values up to rounding).
        """
        normalised = self._normalised(self.task_weights.detach())
        return {
            task: _like(normalised[self._index[task]], losses[task])
            for task in self._present(losses)
        }

    def backward(
        self, losses: Mapping[str, Tensor], model: nn.Module, extra: Tensor | None = None
    ) -> dict[str, Tensor]:
        """One GradNorm step; see the class docstring (and :meth:`TaskWeighting.backward`)."""
        present = self._present(losses)
        with torch.no_grad():
            self.task_weights.copy_(self._normalised(self.task_weights))
        shared = _model_parameters(model, "last_shared_parameters", self.name)
        if not shared:
            raise ValueError("gradnorm: model.last_shared_parameters() is empty (GradNorm's W)")
        index = torch.tensor(
            [self._index[task] for task in present], device=self.task_weights.device
        )
        loss_vector = torch.stack([losses[task].detach() for task in present])  # (T,)

        # dL_t/dW, detached: plain first-order gradients, no create_graph.
        grads_by_task = []
        for task in present:
            grads = torch.autograd.grad(losses[task], shared, retain_graph=True, allow_unused=True)
            used = [g for g in grads if g is not None]
            if not used:
                raise ValueError(
                    f"gradnorm: the loss of task {task!r} does not depend on "
                    "model.last_shared_parameters()"
                )
            grads_by_task.append(used)
        # Several processes: the global batch's task losses and gradients (a no-op in one process).
        loss_vector, *flat_grads = average_over_ranks([loss_vector, *(g for used in grads_by_task for g in used)])
        norms, offset = [], 0
        for used in grads_by_task:  # n_t = ||dL_t/dW||
            task_grads = flat_grads[offset : offset + len(used)]
            offset += len(used)
            norms.append(
                torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in task_grads]))
            )
        norm = torch.stack(norms).to(self.task_weights.dtype)  # (T,)

        # G_t is the norm of the gradient of w_t * L_t wrt W. As w_t is a scalar,
        # d(w_t L_t)/dW = w_t dL_t/dW and its norm is w_t * n_t (w_t > 0): G_t is linear in w_t
        # and no second-order graph (create_graph) through the network is needed.
        w = self.task_weights[index]  # (T,), differentiable
        grad_norms = w * norm  # G, (T,)
        with torch.no_grad():
            current = loss_vector.detach().to(self.initial_losses.dtype)
            seen = self.initial_losses[index]
            first = torch.where(torch.isnan(seen), current, seen)
            self.initial_losses[index] = first
            inverse_rate = (current / first).to(grad_norms.dtype)  # Ltilde, (T,)
            relative = inverse_rate / inverse_rate.mean()  # r, (T,)
            target = grad_norms.mean() * relative**self.alpha  # (T,), constant
        grad_loss = (grad_norms - target).abs().sum()
        grad_loss.backward(inputs=[self.task_weights])

        detached = {task: _like(w[i].detach(), losses[task]) for i, task in enumerate(present)}
        total = self._weighted_sum(losses, detached, extra)
        total.backward()
        return self._logs(detached, total)

    def extra_repr(self) -> str:
        return f"tasks={self.tasks}, alpha={self.alpha}"


@register_weighting("pcgrad")
class PCGrad(TaskWeighting):
    """PCGrad, gradient surgery (Yu et al., "Gradient Surgery for Multi-Task Learning",
    NeurIPS 2020, Algorithm 1).

    ``g_t``, shape (D,): the gradient of ``L_t`` wrt ``model.shared_parameters()``, flattened and
    concatenated. For every task ``t`` and the other tasks ``j`` in a random order (one
    ``torch.randperm`` per task from torch's global RNG, drawn only when there are at least two
    other tasks): if ``g_t . g_j < 0`` then ``g_t <- g_t - (g_t . g_j) / ||g_j||^2 * g_j``,
    ``g_j`` being the ORIGINAL gradient of ``j`` (as in the paper). The shared parameters get
    ``sum_t g_t (projected) + d extra / d shared``; the task-specific parameters get the gradient
    of the plain ``sum_t L_t + extra``. All weights are 1 (logged as 1).

    With no shared parameters (soft sharing) or one task per step there is nothing to project
    and PCGrad is exactly :class:`EqualWeighting`.

    Several processes: the ``g_t`` are averaged over the ranks before projecting
    (:func:`~tsmtl.training.distributed.average_over_ranks`), so the projections are the global
    batch's, identical on every rank; DDP averages the rest of the gradient. With three or more
    tasks the random orders come from a global RNG stream that DDP's per-step draw shifts: they
    differ from a one-process run's (see :mod:`tsmtl.training.distributed`).
    """

    needs_joint_batches: ClassVar[bool] = True
    averages_over_ranks: ClassVar[bool] = True

    def weights(self, losses: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``w_t = 1`` (shape ()) for every task of ``losses``."""
        return {task: torch.ones_like(losses[task]) for task in self._present(losses)}

    @staticmethod
    @torch.no_grad()
    def project(grads: Tensor) -> Tensor:
        """Algorithm 1's projections of the per-task gradients ``grads`` (T, D) -> (T, D).

        Uses torch's global RNG for the order of the other tasks (when there are two or more).
        A zero ``g_j`` projects nothing. No host-device synchronisation.
        """
        n_tasks = grads.shape[0]
        squared_norms = (grads * grads).sum(dim=1)  # (T,)
        zero = grads.new_zeros(())
        projected = grads.clone()
        for t in range(n_tasks):
            others = [j for j in range(n_tasks) if j != t]
            if len(others) > 1:
                others = [others[k] for k in torch.randperm(len(others)).tolist()]
            g = projected[t]
            for j in others:
                dot = torch.dot(g, grads[j])
                # coefficient (g . g_j) / ||g_j||^2 when the two conflict (dot < 0), else 0
                coefficient = torch.where(
                    squared_norms[j] > 0, dot.clamp(max=0) / squared_norms[j], zero
                )
                g = g - coefficient * grads[j]
            projected[t] = g
        return projected

    def backward(
        self, losses: Mapping[str, Tensor], model: nn.Module, extra: Tensor | None = None
    ) -> dict[str, Tensor]:
        """One PCGrad step; see the class docstring (and :meth:`TaskWeighting.backward`)."""
        present = self._present(losses)
        weights = self.weights(losses)
        shared = _model_parameters(model, "shared_parameters", self.name)
        per_task = None
        if shared and len(present) > 1:
            rows = []
            for task in present:
                grads = torch.autograd.grad(
                    losses[task], shared, retain_graph=True, allow_unused=True
                )
                rows.append(
                    torch.cat(
                        [
                            (torch.zeros_like(p) if g is None else g).reshape(-1)
                            for p, g in zip(shared, grads, strict=True)
                        ]
                    )
                )
            # Several processes: the global batch's per-task gradients (a no-op in one process).
            (per_task,) = average_over_ranks([torch.stack(rows)])  # (T, D)

        total = _plus_extra(_sum([losses[task] for task in present]), extra)
        total.backward()

        if per_task is not None:
            with torch.no_grad():
                # the backward above wrote sum_t g_t (+ extra's gradient): swap in the projections
                delta = self.project(per_task).sum(dim=0) - per_task.sum(dim=0)  # (D,)
                offset = 0
                for param in shared:
                    size = param.numel()
                    if param.grad is not None:
                        param.grad.add_(delta[offset : offset + size].view_as(param))
                    offset += size
        return self._logs(weights, total)
