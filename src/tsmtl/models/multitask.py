"""Hard parameter sharing (ResNet2D paper, Sec. I and Fig. 2d / 3d).

One trunk (ResNet1D or TemplateResNet2D, any module ``trunk(x, lengths) -> (B, feature_dim)``)
is shared by all tasks; every task has its own linear output layer producing its logits (the
softmax lives in the cross-entropy loss). Single-task learning is the same model with one task.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


class MultiTaskClassifier(nn.Module):
    """A shared trunk with one ``nn.Linear`` head per task.

    Parameters
    ----------
    trunk : nn.Module
        Called as ``trunk(x, lengths)``; returns features of shape (B, feature_dim).
    feature_dim : int
        Size of the trunk's features (e.g. ``trunk.out_features``).
    n_classes : mapping str -> int
        Number of classes of every task; the keys are the task names.
    """

    def __init__(self, trunk: nn.Module, feature_dim: int, n_classes: Mapping[str, int]) -> None:
        super().__init__()
        if not n_classes:
            raise ValueError("MultiTaskClassifier needs at least one task")
        for task, count in n_classes.items():
            if not isinstance(task, str) or not task or "." in task:
                raise ValueError(f"task names must be non-empty strings without '.', got {task!r}")
            if int(count) < 1:
                raise ValueError(f"task {task!r} must have at least one class, got {count}")
        self.trunk = trunk
        self.feature_dim = int(feature_dim)
        self.n_classes = {task: int(count) for task, count in n_classes.items()}
        self.heads = nn.ModuleDict({task: nn.Linear(self.feature_dim, count) for task, count in self.n_classes.items()})

    @property
    def tasks(self) -> list[str]:
        """Task names, in the order given."""
        return list(self.n_classes)

    def features(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Shared features: ``x`` (B, C, T) [+ ``lengths`` (B,)] -> (B, feature_dim)."""
        return self.trunk(x, lengths)

    def forward(self, x: torch.Tensor, task: str, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of ``task``: ``x`` (B, C, T) [+ ``lengths`` (B,)] -> (B, n_classes[task])."""
        if task not in self.heads:
            raise KeyError(f"unknown task {task!r}; known tasks: {self.tasks}")
        return self.heads[task](self.features(x, lengths))
