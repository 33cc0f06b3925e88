"""A two-class, two-feature fit of a linear model in a few epochs: the Trainer at its smallest, for tests of what
happens around a fit (progress bars, epoch events, tracking)."""

from __future__ import annotations

import torch
from torch import nn

from tsmtl.training.loop import Trainer


def toy_fit(epochs: int = 3, progress: bool = False, label: str = "toy") -> Trainer:
    """Fit it and return the Trainer, its result in ``trainer.result``."""
    x = torch.linspace(-1, 1, 16).reshape(8, 2)
    y = (x.sum(1) > 0).long()

    def step(model, batch):
        return nn.functional.cross_entropy(model(batch[0]), batch[1]), {}

    def evaluate(model):
        return {"val_accuracy": float((model(x).argmax(1) == y).float().mean())}

    trainer = Trainer(
        nn.Linear(2, 2), step, lambda epoch: [(x, y)], evaluate, epochs=epochs, lr=0.1, device="cpu",
        progress=progress, progress_label=label,
    )  # fmt: skip
    trainer.result = trainer.fit()
    return trainer
