"""Batch normalisation that ignores padded positions.

Unequal-length series are padded with zeros to the longest series of a batch (see
:mod:`tsmtl.training.tensors`). A plain ``nn.BatchNorm`` would count the padded zeros in its
training-mode mean and variance, so a task's batch statistics -- and hence its features --
would depend on how much padding its batch happens to carry. :class:`MaskedBatchNorm1d` and
:class:`MaskedBatchNorm2d` take the validity mask of the feature map and compute the per-channel
mean and (biased) variance over the valid positions only; the running statistics are updated
with the unbiased variance, as ``torch.nn.BatchNorm`` does. With ``mask=None``, or in
evaluation mode, they *are* ``nn.BatchNorm1d`` / ``nn.BatchNorm2d`` (same parameters, same
state-dict keys, torch's fused kernel). A training batch with fewer than two valid values per
channel is normalised with the running statistics instead of raising (see
``_running_statistics``).

Why not torch's own: ``torch.nn.BatchNorm`` has no mask argument, and packing the valid
positions into a ``(N_valid, C)`` matrix for ``BatchNorm1d`` would copy the whole feature map
twice per layer.
"""

from __future__ import annotations

import torch
from torch import nn


class _MaskedBatchNormMixin:
    """Shared ``forward(x, mask)`` of the masked batch norms (``x`` is ``(B, C, *spatial)``)."""

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        """Normalise ``x`` (B, C, ...) with statistics over the positions where ``mask`` is True.

        Parameters
        ----------
        x : Tensor, shape (B, C, T) for the 1D norm, (B, C, H, W) for the 2D norm
        mask : Tensor, bool, shape (B, 1, T) / (B, 1, H, W), optional
            Valid positions. None: all positions are valid (plain batch norm).

        Returns
        -------
        Tensor, same shape and dtype as ``x``. Masked positions hold the affine map of an
        arbitrary value; callers zero them (every model here multiplies by the mask after the
        non-linearity).
        """
        if not self.training:
            return super().forward(x)  # type: ignore[misc]
        if mask is None:
            if x.numel() > x.shape[1]:
                return super().forward(x)  # type: ignore[misc]
            return self._running_statistics(x)
        return self._batch_statistics_forward(x, mask)

    def _sum_statistics(self, *sums: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Hook: the sums the batch statistics are made of, over the whole batch.

        Called twice per training forward: with the per-channel sums of the valid values
        ``(C,)`` and their count ``()``, then with the per-channel sums of squared deviations
        from the mean ``(C,)``. Here the batch is whole and they are returned as they are; the
        synchronised masked norms of :mod:`tsmtl.training.distributed` (issue #10) sum them over
        the processes' shards (a differentiable all-reduce), which makes the statistics those of
        the global batch.
        """
        return sums

    def _batch_statistics_forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Training-mode normalisation with the batch statistics over the valid positions.

        ``x`` (B, C, *spatial); ``mask`` (B, 1, *spatial) bool, or None (every position valid).
        The mean and biased variance per channel come from :meth:`_sum_statistics`; the running
        statistics are updated with the unbiased variance. Fewer than two valid values: the
        running statistics normalise and stay unchanged.
        """
        self._check_input_dim(x)  # type: ignore[attr-defined]
        # Statistics in float32 even under autocast (torch's batch norm does the same).
        values = x.float()
        dims = [0, *range(2, values.dim())]
        shape = (1, -1) + (1,) * (values.dim() - 2)
        if mask is None:
            weights = None
            count = values.new_tensor(float(values.numel() // values.shape[1]))
            sums = values.sum(dim=dims)
        else:
            weights = mask.to(values.dtype)
            count = weights.expand(values.shape[0], 1, *values.shape[2:]).sum()
            sums = (values * weights).sum(dim=dims)
        sums, count = self._sum_statistics(sums, count)
        count = count.detach()
        # Fewer than two valid values: the batch variance is undefined (see _running_statistics).
        # Decided with tensor ops, not a Python branch: no host-device sync in every layer.
        enough = count >= 2.0
        safe_count = count.clamp_min(1.0)
        mean = sums / safe_count
        centred = values - mean.view(shape)
        if weights is not None:
            centred = centred * weights
        (squares,) = self._sum_statistics(centred.square().sum(dim=dims))
        variance = squares / safe_count
        if self.track_running_stats:  # type: ignore[attr-defined]
            with torch.no_grad():
                self.num_batches_tracked += enough.to(self.num_batches_tracked.dtype)  # type: ignore[attr-defined]
                momentum = self.momentum  # type: ignore[attr-defined]
                if momentum is None:  # cumulative average, as torch's batch norm
                    factor = 1.0 / self.num_batches_tracked.clamp_min(1).to(mean.dtype)  # type: ignore[attr-defined]
                else:
                    factor = torch.tensor(float(momentum), dtype=mean.dtype, device=mean.device)
                factor = factor * enough.to(mean.dtype)  # a degenerate batch leaves them unchanged
                unbiased = variance * count / (count - 1.0).clamp_min(1.0)
                running_mean, running_var = self.running_mean, self.running_var  # type: ignore[attr-defined]
                running_mean.lerp_(mean.to(running_mean.dtype), factor.to(running_mean.dtype))
                running_var.lerp_(unbiased.to(running_var.dtype), factor.to(running_var.dtype))
            mean = torch.where(enough, mean, self.running_mean.to(mean.dtype))  # type: ignore[attr-defined]
            variance = torch.where(enough, variance, self.running_var.to(variance.dtype))  # type: ignore[attr-defined]
        out = (values - mean.view(shape)) * torch.rsqrt(variance.view(shape) + self.eps)  # type: ignore[attr-defined]
        if self.affine:  # type: ignore[attr-defined]
            out = out * self.weight.view(shape) + self.bias.view(shape)  # type: ignore[attr-defined]
        return out.to(x.dtype)

    def _running_statistics(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise with the running statistics, leaving them unchanged.

        Used in training mode when a batch has fewer than two valid values per channel (a
        one-case final batch whose map has shrunk to one cell): its variance is undefined,
        torch's batch norm raises there, and a schedule with short final batches (Algorithm 2,
        ``ceil``) can produce such a batch. The affine parameters still get gradients.
        """
        return nn.functional.batch_norm(
            x,
            self.running_mean,  # type: ignore[attr-defined]
            self.running_var,  # type: ignore[attr-defined]
            self.weight,  # type: ignore[attr-defined]
            self.bias,  # type: ignore[attr-defined]
            training=False,
            eps=self.eps,  # type: ignore[attr-defined]
        )


class MaskedBatchNorm1d(_MaskedBatchNormMixin, nn.BatchNorm1d):
    """``nn.BatchNorm1d`` over ``(B, C, T)`` whose training statistics skip padded steps.

    Called as ``norm(x, mask)`` with ``mask`` of shape (B, 1, T); see the module docstring.
    """


class MaskedBatchNorm2d(_MaskedBatchNormMixin, nn.BatchNorm2d):
    """``nn.BatchNorm2d`` over ``(B, C, H, W)`` whose training statistics skip padded cells.

    Called as ``norm(x, mask)`` with ``mask`` of shape (B, 1, H, W); see the module docstring.
    """


def masked_skip(skip: nn.Module, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """A residual block's skip path: ``nn.Identity``, or a ``(conv, masked batch norm)``
    ``nn.Sequential`` applied by hand so that the norm gets ``mask``.

    Kept a Sequential (state-dict keys ``skip.0``/``skip.1``) so checkpoints keep their layout.
    """
    if isinstance(skip, nn.Identity):
        return x
    conv, norm = skip
    return norm(conv(x), mask)
