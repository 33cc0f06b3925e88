"""Multitask architectures: how the tasks share a backbone (one choice in config).

The MTL joint-prediction overview ("Approaches to Multi-task Learning") names four ways; each is
one class here, registered in :data:`SHARINGS` and built by :func:`build_multitask_model`:

``hard``
    Hard parameter sharing: one backbone for all tasks, one output head per task (the ResNet2D
    paper's MTL models, Sec. I and Figs. 2d/3d).
``task_layers``
    Task-specific layers: the shared backbone, then a per-task tower of ``tower_depth`` fully
    connected layers (``tower_width`` units, ReLU) before each head.
``soft``
    Soft parameter sharing: one backbone per task; the corresponding parameters are pulled
    together by an L2 penalty (Duong et al. 2015),
    ``penalty_weight * sum_{s < t} sum_p ||theta_{s,p} - theta_{t,p}||^2``, returned by
    :meth:`MultiTaskModel.regularisation` and added to the loss unweighted.
``attention``
    Task attention (MTAN, Liu, Johns & Davison, CVPR 2019, Sec. 3.1): per task and per stage
    ``j`` of the shared backbone, a soft-attention mask ``a_j = sigmoid(g_j([p_j; f_j(â_{j-1})]))``
    over the stage's feature map ``p_j`` gives the task's features ``â_j = a_j * p_j``; ``g_j``
    is conv1x1-BN-ReLU-conv1x1-BN-sigmoid (task-specific), ``f_j`` a shared conv1x1-BN-ReLU
    followed by a 2x max-pool when the stage halves the resolution. The task's head sees the
    masked mean of ``â_J``. Needs a backbone with ``feature_maps`` (see
    :mod:`tsmtl.models.backbones`).

Every model maps ``x`` ``(B, C, T)`` + ``lengths`` ``(B,)`` to ``{task: output}`` with the
output shapes of :mod:`tsmtl.tasks` (``(B, K)`` logits, ``(B,)`` binary logit, ``(B, H)``
regression). Padding never leaks in: the backbones mask it, the attention masks are multiplied
by the validity masks, and their batch norms are masked too. Single-task learning is the same
model with one task. The gradient-based task weightings (:mod:`tsmtl.training.weighting`) ask
the model for :meth:`~MultiTaskModel.shared_parameters` and
:meth:`~MultiTaskModel.last_shared_parameters`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tsmtl.models.backbones import FeatureMap, build_backbone, has_feature_maps
from tsmtl.models.masked_norm import MaskedBatchNorm1d, MaskedBatchNorm2d
from tsmtl.models.resnet1d import masked_mean
from tsmtl.tasks import TaskSpec


@dataclass(frozen=True)
class ModelConfig:
    """A multitask model in config: backbone and sharing, each with its parameters.

    ``{backbone: resnet1d, backbone_params: {widths: [64, 128, 128]}, sharing: attention,
    sharing_params: {}}``.
    """

    backbone: str = "resnet1d"
    backbone_params: dict[str, Any] = field(default_factory=dict)
    sharing: str = "hard"
    sharing_params: dict[str, Any] = field(default_factory=dict)


class TaskHead(nn.Module):
    """The output layer(s) of one task: optional hidden layers, then ``Linear(., n_outputs)``.

    ``spec.head = {"hidden": [64], "dropout": 0.1}`` adds Linear-ReLU(-Dropout) layers. A binary
    task's output is squeezed to ``(B,)``.
    """

    def __init__(self, in_features: int, spec: TaskSpec) -> None:
        super().__init__()
        unknown = sorted(set(spec.head) - {"hidden", "dropout"})
        if unknown:
            raise ValueError(f"task {spec.name!r}: unknown head settings {unknown}; use hidden, dropout")
        layers: list[nn.Module] = []
        width = int(in_features)
        for hidden in spec.head.get("hidden", []) or []:
            layers += [nn.Linear(width, int(hidden)), nn.ReLU()]
            if spec.head.get("dropout"):
                layers.append(nn.Dropout(float(spec.head["dropout"])))
            width = int(hidden)
        layers.append(nn.Linear(width, spec.n_outputs))
        self.layers = nn.Sequential(*layers)
        self.squeeze = spec.type == "binary"

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(B, in_features)`` -> ``(B, n_outputs)`` (``(B,)`` for a binary task)."""
        out = self.layers(features)
        return out.squeeze(-1) if self.squeeze else out


def _last_layer_parameters(module: nn.Module) -> list[nn.Parameter]:
    """Parameters of the last submodule (in registration order) that owns parameters directly.

    GradNorm's ``W`` (Chen et al. 2018, Sec. 3: "the last shared layer"). For the registered
    backbones this is the batch norm of the last convolution (ResNet1D with an identity skip,
    FCN) or of the last downsampling (ResNet2D).
    """
    last: list[nn.Parameter] = []
    for sub in module.modules():
        own = list(sub.parameters(recurse=False))
        if own:
            last = own
    return last


class MultiTaskModel(nn.Module):
    """Base class: tasks, heads and the interface the trainer and the task weightings use."""

    def __init__(self, tasks: Mapping[str, TaskSpec]) -> None:
        super().__init__()
        if not tasks:
            raise ValueError("a multitask model needs at least one task")
        self.tasks: dict[str, TaskSpec] = dict(tasks)

    @property
    def task_names(self) -> list[str]:
        return list(self.tasks)

    def _check(self, tasks: Sequence[str] | None) -> list[str]:
        names = self.task_names if tasks is None else list(tasks)
        unknown = [t for t in names if t not in self.tasks]
        if unknown:
            raise KeyError(f"unknown tasks {unknown}; the model's tasks: {self.task_names}")
        return names

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, tasks: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """``{task: output}`` for ``tasks`` (default all) on ``x`` (B, C, T) with ``lengths`` (B,)."""
        raise NotImplementedError

    def features(self, x: torch.Tensor, lengths: torch.Tensor | None = None, task: str | None = None) -> torch.Tensor:
        """``(B, D)``: what ``task``'s head sees (``task=None``: the shared features, where there are any)."""
        raise NotImplementedError

    def shared_parameters(self) -> list[nn.Parameter]:
        """Parameters every task's loss depends on (empty with soft sharing)."""
        raise NotImplementedError

    def last_shared_parameters(self) -> list[nn.Parameter]:
        """GradNorm's ``W``: the last shared layer (with soft sharing, every task's own last layer)."""
        raise NotImplementedError

    def regularisation(self) -> torch.Tensor | None:
        """A 0-d penalty added to the loss unweighted (soft sharing), or None."""
        return None


class SharedTrunk(MultiTaskModel):
    """Hard parameter sharing (``tower_depth=0``) or shared trunk + task-specific layers.

    Parameters
    ----------
    trunk : nn.Module
        A backbone (see :mod:`tsmtl.models.backbones`), shared by all tasks.
    tasks : mapping name -> TaskSpec
    tower_depth : int
        Task-specific fully connected layers (Linear-ReLU) between the trunk and each head.
    tower_width : int, optional
        Their width (default: the trunk's ``out_features``).
    """

    def __init__(self, trunk: nn.Module, tasks: Mapping[str, TaskSpec], tower_depth: int = 0, tower_width: int | None = None) -> None:
        super().__init__(tasks)
        if int(tower_depth) < 0:
            raise ValueError(f"tower_depth must be >= 0, got {tower_depth}")
        self.trunk = trunk
        feature_dim = int(trunk.out_features)
        width = int(tower_width or feature_dim)
        self.tower_depth = int(tower_depth)
        if self.tower_depth:
            towers = {}
            for name in self.tasks:
                layers: list[nn.Module] = []
                width_in = feature_dim
                for _ in range(self.tower_depth):
                    layers += [nn.Linear(width_in, width), nn.ReLU()]
                    width_in = width
                towers[name] = nn.Sequential(*layers)
            self.towers = nn.ModuleDict(towers)
            head_in = width
        else:
            self.towers = None
            head_in = feature_dim
        self.heads = nn.ModuleDict({name: TaskHead(head_in, spec) for name, spec in self.tasks.items()})

    def _task_features(self, shared: torch.Tensor, task: str) -> torch.Tensor:
        return shared if self.towers is None else self.towers[task](shared)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, tasks: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        names = self._check(tasks)
        shared = self.trunk(x, lengths)
        return {task: self.heads[task](self._task_features(shared, task)) for task in names}

    def features(self, x: torch.Tensor, lengths: torch.Tensor | None = None, task: str | None = None) -> torch.Tensor:
        shared = self.trunk(x, lengths)
        return shared if task is None else self._task_features(shared, self._check([task])[0])

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.trunk.parameters())

    def last_shared_parameters(self) -> list[nn.Parameter]:
        return _last_layer_parameters(self.trunk)


class SoftSharing(MultiTaskModel):
    """Soft parameter sharing: one backbone per task, L2-tied (see the module docstring).

    Parameters
    ----------
    make_trunk : callable () -> nn.Module
        Builds one backbone; called once per task, in task order.
    tasks : mapping name -> TaskSpec
    penalty_weight : float
        ``lambda`` of ``lambda * sum_{s<t} sum_p ||theta_{s,p} - theta_{t,p}||^2``.
    """

    def __init__(self, make_trunk: Callable[[], nn.Module], tasks: Mapping[str, TaskSpec], penalty_weight: float = 1e-3) -> None:
        super().__init__(tasks)
        if float(penalty_weight) < 0:
            raise ValueError(f"penalty_weight must be >= 0, got {penalty_weight}")
        self.trunks = nn.ModuleDict({name: make_trunk() for name in self.tasks})
        self.penalty_weight = float(penalty_weight)
        self.heads = nn.ModuleDict({name: TaskHead(int(self.trunks[name].out_features), spec) for name, spec in self.tasks.items()})

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, tasks: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        return {task: self.heads[task](self.trunks[task](x, lengths)) for task in self._check(tasks)}

    def features(self, x: torch.Tensor, lengths: torch.Tensor | None = None, task: str | None = None) -> torch.Tensor:
        if task is None:
            raise ValueError("soft sharing has no shared features; name a task")
        return self.trunks[self._check([task])[0]](x, lengths)

    def shared_parameters(self) -> list[nn.Parameter]:
        return []

    def last_shared_parameters(self) -> list[nn.Parameter]:
        return [p for trunk in self.trunks.values() for p in _last_layer_parameters(trunk)]

    def regularisation(self) -> torch.Tensor | None:
        """``lambda * sum_{s<t} ||theta_s - theta_t||^2`` over corresponding parameters.

        Computed as ``lambda * T * sum_t ||theta_t - mean_s theta_s||^2`` (the same number: the
        pairwise sum of squared distances of ``T`` points is ``T`` times their scatter about the
        mean), which costs ``O(T)`` instead of ``O(T^2)`` per parameter.
        """
        if len(self.trunks) < 2 or self.penalty_weight == 0.0:
            return None
        per_task = [dict(trunk.named_parameters()) for trunk in self.trunks.values()]
        total = None
        for name in per_task[0]:
            stacked = torch.stack([params[name] for params in per_task])  # (T, *shape)
            scatter = (stacked - stacked.mean(dim=0, keepdim=True)).square().sum()
            total = scatter if total is None else total + scatter
        return self.penalty_weight * len(per_task) * total


def _norm_for(dims: int, channels: int) -> nn.Module:
    return MaskedBatchNorm1d(channels) if dims == 1 else MaskedBatchNorm2d(channels)


def _conv1x1(dims: int, in_channels: int, out_channels: int) -> nn.Module:
    return nn.Conv1d(in_channels, out_channels, 1) if dims == 1 else nn.Conv2d(in_channels, out_channels, 1)


def _masked(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    return h if mask is None else h * mask


class AttentionBlock(nn.Module):
    """MTAN's task-specific attention module ``g``: conv1x1-BN-ReLU-conv1x1-BN-sigmoid.

    ``(B, C_in, *spatial)`` -> mask in (0, 1) of shape ``(B, C_out, *spatial)``, zero at padded
    positions.
    """

    def __init__(self, dims: int, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = _conv1x1(dims, in_channels, out_channels)
        self.norm1 = _norm_for(dims, out_channels)
        self.conv2 = _conv1x1(dims, out_channels, out_channels)
        self.norm2 = _norm_for(dims, out_channels)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = _masked(torch.relu(self.norm1(self.conv1(h), mask)), mask)
        return _masked(torch.sigmoid(self.norm2(self.conv2(h), mask)), mask)


class Transition(nn.Module):
    """MTAN's shared ``f``: conv1x1-BN-ReLU from stage ``j-1``'s width to stage ``j``'s, then resize.

    Resizing: identity when the stages have the same size; a 2x max-pool with ``ceil_mode``
    when the stage halves it (ResNet2D's ``ceil(n / 2)``). The inputs are non-negative and zero
    on padding, so the max-pool of a padded map equals that of the cut map.
    """

    def __init__(self, dims: int, in_channels: int, out_channels: int, halve: bool) -> None:
        super().__init__()
        self.conv = _conv1x1(dims, in_channels, out_channels)
        self.norm = _norm_for(dims, out_channels)
        self.dims = dims
        self.halve = halve

    def forward(self, h: torch.Tensor, mask_in: torch.Tensor | None) -> torch.Tensor:
        h = _masked(torch.relu(self.norm(self.conv(h), mask_in)), mask_in)
        if not self.halve:
            return h
        pool = F.max_pool1d if self.dims == 1 else F.max_pool2d
        return pool(h, kernel_size=2, stride=2, ceil_mode=True)


class TaskAttention(MultiTaskModel):
    """Task attention over the shared backbone's feature maps (MTAN; see the module docstring).

    Parameters
    ----------
    trunk : nn.Module
        A backbone with ``feature_maps(x, lengths)``.
    tasks : mapping name -> TaskSpec
    in_channels : int
        The input's channels (to probe the stage shapes once at construction).
    """

    def __init__(self, trunk: nn.Module, tasks: Mapping[str, TaskSpec], in_channels: int) -> None:
        super().__init__(tasks)
        if not has_feature_maps(trunk):
            raise ValueError(f"task attention needs a backbone with feature_maps; {type(trunk).__name__} has none")
        self.trunk = trunk
        shapes = self._probe(trunk, in_channels)
        dims = len(shapes[0]) - 1
        self.attention = nn.ModuleDict()
        for name in self.tasks:
            blocks = [AttentionBlock(dims, shapes[0][0], shapes[0][0])]
            blocks += [AttentionBlock(dims, 2 * shapes[j][0], shapes[j][0]) for j in range(1, len(shapes))]
            self.attention[name] = nn.ModuleList(blocks)
        transitions = []
        for j in range(1, len(shapes)):
            before, after = shapes[j - 1][1:], shapes[j][1:]
            halve = any(b != a for b, a in zip(before, after, strict=True))
            if halve and any(-(-b // 2) != a for b, a in zip(before, after, strict=True)):
                raise ValueError(f"task attention can follow same-size or halving stages, got {before} -> {after}")
            transitions.append(Transition(dims, shapes[j - 1][0], shapes[j][0], halve))
        self.transitions = nn.ModuleList(transitions)
        self.heads = nn.ModuleDict({name: TaskHead(shapes[-1][0], spec) for name, spec in self.tasks.items()})

    @staticmethod
    def _probe(trunk: nn.Module, in_channels: int) -> list[tuple[int, ...]]:
        """``(channels, *spatial)`` of every stage, from one forward of a zero batch in eval mode."""
        was_training = trunk.training
        trunk.eval()
        try:
            with torch.no_grad():
                probe = torch.zeros(2, int(in_channels), 16, device=next(trunk.parameters()).device)
                maps = trunk.feature_maps(probe, None)
        finally:
            trunk.train(was_training)
        return [tuple(m.values.shape[1:]) for m in maps]

    def _attend(self, maps: list[FeatureMap], task: str) -> torch.Tensor:
        blocks = self.attention[task]
        attended = maps[0].values * blocks[0](maps[0].values, maps[0].mask)
        for j in range(1, len(maps)):
            shared, mask = maps[j]
            previous = self.transitions[j - 1](attended, maps[j - 1].mask)
            attended = shared * blocks[j](torch.cat([shared, previous], dim=1), mask)
        last = maps[-1]
        return masked_mean(attended, last.mask, dims=tuple(range(2, attended.dim())))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None, tasks: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        names = self._check(tasks)
        maps = self.trunk.feature_maps(x, lengths)
        return {task: self.heads[task](self._attend(maps, task)) for task in names}

    def features(self, x: torch.Tensor, lengths: torch.Tensor | None = None, task: str | None = None) -> torch.Tensor:
        if task is None:
            return self.trunk(x, lengths)
        return self._attend(self.trunk.feature_maps(x, lengths), self._check([task])[0])

    def shared_parameters(self) -> list[nn.Parameter]:
        return [*self.trunk.parameters(), *self.transitions.parameters()]

    def last_shared_parameters(self) -> list[nn.Parameter]:
        return _last_layer_parameters(self.trunk)


def _build_hard(make_trunk, tasks, in_channels, **params):
    if params:
        raise ValueError(f"hard sharing takes no parameters, got {sorted(params)}")
    return SharedTrunk(make_trunk(), tasks)


def _build_task_layers(make_trunk, tasks, in_channels, tower_depth: int = 1, tower_width: int | None = None):
    return SharedTrunk(make_trunk(), tasks, tower_depth=tower_depth, tower_width=tower_width)


def _build_soft(make_trunk, tasks, in_channels, penalty_weight: float = 1e-3):
    return SoftSharing(make_trunk, tasks, penalty_weight=penalty_weight)


def _build_attention(make_trunk, tasks, in_channels):
    return TaskAttention(make_trunk(), tasks, in_channels)


def _build_foreclassnet(make_trunk, tasks, in_channels, **params):
    # ForeClassNet has its own encoder: make_trunk is never called (any backbone name, e.g.
    # "none", will do). Imported here: foreclassnet imports this module.
    from tsmtl.models.foreclassnet import ForeClassNet

    if "n_observed" not in params:
        raise ValueError("sharing 'foreclassnet' needs sharing_params.n_observed (the input length)")
    return ForeClassNet(in_channels, tasks, **params)


#: Registered sharings: name -> builder ``(make_trunk, tasks, in_channels, **sharing_params) -> MultiTaskModel``.
SHARINGS: dict[str, Callable[..., MultiTaskModel]] = {
    "hard": _build_hard,
    "task_layers": _build_task_layers,
    "soft": _build_soft,
    "attention": _build_attention,
    "foreclassnet": _build_foreclassnet,
}


def build_multitask_model(config: ModelConfig, in_channels: int, tasks: Mapping[str, TaskSpec]) -> MultiTaskModel:
    """The model of ``config`` for ``in_channels``-channel input and ``tasks``.

    Draws its initial weights from torch's global RNG: seed first for reproducible weights.
    """
    if config.sharing not in SHARINGS:
        raise ValueError(f"unknown sharing {config.sharing!r}; registered: {sorted(SHARINGS)}")

    def make_trunk() -> nn.Module:
        return build_backbone(config.backbone, in_channels, config.backbone_params)

    try:
        return SHARINGS[config.sharing](make_trunk, tasks, in_channels, **dict(config.sharing_params))
    except TypeError as error:
        raise ValueError(f"sharing {config.sharing!r} does not take {dict(config.sharing_params)}: {error}") from error


__all__ = [
    "SHARINGS",
    "AttentionBlock",
    "ModelConfig",
    "MultiTaskModel",
    "SharedTrunk",
    "SoftSharing",
    "TaskAttention",
    "TaskHead",
    "build_multitask_model",
]
