"""The fast gradient sign method (FGSM; Goodfellow, Shlens & Szegedy, ICLR 2015).

ForeClassNet (Sec. 4.5-4.6) perturbs the test inputs of a trained model against a loss and then
retrains on the original plus perturbed training data:

    ``x_adv = x + epsilon * sign(grad_x L(model, x, target))``,   ``epsilon = 0.1``,

with ``L`` the categorical cross-entropy of the class head (Sec. 4.5) or the mean squared error
of the forecast head (Sec. 4.6). Every input value moves by exactly ``epsilon`` in the direction
that increases the loss to first order, or stays where it is where the gradient is exactly 0
(``sign(0) = 0``).

The loss
--------
``loss_fn(model, x, target)`` returns a 0-d tensor; the caller chooses the head and the loss.
When :func:`fgsm` is given ``lengths`` it calls ``loss_fn(model, x, target, lengths)`` instead,
so a loss for variable-length (padded) batches can pass them to the model. With a multitask
model of :mod:`tsmtl.models.sharing` (``model(x, lengths, tasks=[name]) -> {name: output}``)::

    import torch.nn.functional as F

    def class_loss(model, x, target, lengths=None):  # Sec. 4.5: categorical cross-entropy
        return F.cross_entropy(model(x, lengths, tasks=["class"])["class"], target)

    def forecast_loss(model, x, target, lengths=None):  # Sec. 4.6: MSE of the 10-step forecast
        return F.mse_loss(model(x, lengths, tasks=["forecast"])["forecast"], target)

    x_adv = fgsm(model, class_loss, x, y, epsilon=0.1)  # x (B, 1, 40), y (B,) int64
    X_adv = fgsm_dataset(model, forecast_loss, X_test, future, 0.1, batch_size=256)

A positive rescaling of the loss does not change the sign, so ``reduction="mean"`` and
``"sum"`` give the same ``x_adv``; and as long as the model treats the cases of a batch
independently (eval mode: batch norm on running statistics), each case's perturbation does not
depend on the batch it is in, so :func:`fgsm_dataset` equals one :func:`fgsm` call on all cases.

Mode, gradients, randomness
---------------------------
The gradient is taken with the model in eval mode (dropout off, batch norm on its running
statistics), and every submodule's previous train/eval flag is restored afterwards (modules the
caller deliberately left in train mode, e.g. for Monte Carlo dropout, go back to it). The
gradient is computed with ``torch.autograd.grad`` with respect to the input only: no parameter's
``.grad`` is created or changed, and gradients are enabled locally even under
``torch.no_grad()``.

A model whose dropout stays active at evaluation (ForeClassNet's Monte Carlo / concrete dropout,
Sec. 2) has a stochastic loss, hence a stochastic gradient and ``x_adv``: the caller controls
the randomness by seeding before the call (e.g. :func:`tsmtl.training.device.seed_everything`
or ``torch.manual_seed``). :func:`fgsm_dataset` then draws the dropout masks batch by batch, so
its result depends on ``batch_size`` as well as on the seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

LossFn = Callable[..., torch.Tensor]
"""``loss_fn(model, x, target[, lengths]) -> 0-d tensor`` (see the module docstring)."""


def _input_gradient_sign(
    model: nn.Module, loss_fn: LossFn, x: torch.Tensor, target: Any, lengths: torch.Tensor | None
) -> torch.Tensor:
    """``sign(grad_x loss_fn(model, x, target))`` in eval mode, parameters untouched."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.enable_grad():
            x_var = x.detach().clone().requires_grad_(True)
            if lengths is None:
                loss = loss_fn(model, x_var, target)
            else:
                loss = loss_fn(model, x_var, target, lengths)
            if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
                raise ValueError("loss_fn must return a 0-d tensor")
            (grad,) = torch.autograd.grad(loss, x_var, allow_unused=True)
    finally:
        for module, training in modes:
            module.training = training
    if grad is None:  # the loss does not depend on x
        return torch.zeros_like(x)
    sign = torch.sign(grad.detach())
    if lengths is not None:
        # Never move the padding after a series' true length.
        if x.ndim != 3:
            raise ValueError(f"lengths need x of shape (B, C, T), got {tuple(x.shape)}")
        valid = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
        sign = sign * valid[:, None, :].to(sign.dtype)
    return sign


def fgsm(
    model: nn.Module,
    loss_fn: LossFn,
    x: torch.Tensor,
    target: Any,
    epsilon: float,
    lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """One fast-gradient-sign step: ``x + epsilon * sign(grad_x loss_fn(model, x, target))``.

    Parameters
    ----------
    model : nn.Module
        Put in eval mode for the gradient; each submodule's mode is restored afterwards.
    loss_fn : callable
        ``loss_fn(model, x, target) -> 0-d tensor`` (``loss_fn(model, x, target, lengths)``
        when ``lengths`` is given); see the module docstring for CE / MSE examples.
    x : torch.Tensor, shape (B, C, T)
        Inputs, on the model's device. Not modified.
    target : any
        Passed to ``loss_fn`` as is (e.g. ``(B,)`` int64 classes, ``(B, H)`` future values).
    epsilon : float
        Step size (ForeClassNet Sec. 4.5-4.6: 0.1), ``>= 0``.
    lengths : torch.Tensor, shape (B,), optional
        True lengths of padded series: passed to ``loss_fn``, and the points at and after a
        series' length are left unperturbed.

    Returns
    -------
    torch.Tensor
        ``x_adv``, same shape, dtype and device as ``x``, detached.
    """
    if not epsilon >= 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    sign = _input_gradient_sign(model, loss_fn, x, target, lengths)
    return (x.detach() + epsilon * sign).detach()


def _model_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    for parameter in model.parameters():
        return parameter.dtype, parameter.device
    return torch.float32, torch.device("cpu")


def fgsm_dataset(
    model: nn.Module,
    loss_fn: LossFn,
    X: np.ndarray,
    targets: np.ndarray,
    epsilon: float,
    batch_size: int = 256,
    lengths: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`fgsm` over a whole data set, batch by batch (e.g. ForeClassNet's adversarial test set).

    Each batch is sent to the model's device in the model's dtype; the perturbation
    ``epsilon * sign(grad)`` is added to ``X`` in ``X``'s own dtype, so the result equals
    ``X + epsilon * sign`` exactly.

    Parameters
    ----------
    model : nn.Module
    loss_fn : callable
        As for :func:`fgsm`.
    X : np.ndarray, shape (N, C, T)
        Inputs (non-finite values are not allowed: impute/zero the padding first).
    targets : np.ndarray, shape (N, ...)
        Sliced along the first axis per batch; integer arrays become int64 tensors (class
        indices for cross-entropy), floating ones tensors in the model's dtype (e.g. ``(N, H)``
        future values for MSE).
    epsilon : float
        Step size (0.1 in the paper).
    batch_size : int
    lengths : np.ndarray, shape (N,), optional
        True lengths (see :func:`fgsm`).

    Returns
    -------
    np.ndarray
        ``X_adv``, shape and (floating) dtype of ``X``.
    """
    if not epsilon >= 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    targets = np.asarray(targets)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (N, C, T), got {X.shape}")
    if len(targets) != len(X) or (lengths is not None and len(lengths) != len(X)):
        raise ValueError("X, targets (and lengths) need the same number of cases")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not np.isfinite(X).all():
        raise ValueError("X has non-finite values")
    dtype, device = _model_dtype_device(model)
    X_adv = X.copy()
    for start in range(0, len(X), batch_size):
        batch = slice(start, start + batch_size)
        x = torch.as_tensor(X[batch], dtype=dtype, device=device)
        if np.issubdtype(targets.dtype, np.integer):
            target = torch.as_tensor(targets[batch], dtype=torch.int64, device=device)
        else:
            target = torch.as_tensor(targets[batch], dtype=dtype, device=device)
        batch_lengths = None if lengths is None else torch.as_tensor(lengths[batch], dtype=torch.int64, device=device)
        sign = _input_gradient_sign(model, loss_fn, x, target, batch_lengths)
        X_adv[batch] = X[batch] + epsilon * sign.cpu().numpy().astype(X.dtype)
    return X_adv
