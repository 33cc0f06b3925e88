"""Siamese distance learners of the ResNet2D paper (Sec. III-A Fig. 2c, Sec. III-B Fig. 3c).

Both map a pair of series ``(a, b)`` of lengths ``n`` and ``m`` (``n != m`` allowed) to one
number that is trained (MSE, Sec. III-C) to approximate a DTW distance
(Sec. IV-A).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from tsmtl.models.resnet1d import ResNet1D
from tsmtl.models.resnet2d import ResNet2D, pairwise_distance_matrix


class SiameseResNet1D(nn.Module):
    """Fig. 2c: a shared ResNet1D twin + ``Linear(128, 128)``; output is the l2 distance of the embeddings.

    Parameters
    ----------
    in_channels, widths, kernel_sizes
        Passed to :class:`ResNet1D`.
    embedding_dim : int
        Output size of the linear layer (128 in the paper).
    """

    def __init__(
        self,
        in_channels: int = 1,
        widths: Sequence[int] = (64, 128, 128),
        kernel_sizes: Sequence[int] = (8, 5, 3),
        embedding_dim: int = 128,
    ) -> None:
        super().__init__()
        self.encoder = ResNet1D(in_channels=in_channels, widths=widths, kernel_sizes=kernel_sizes)
        self.projection = nn.Linear(self.encoder.out_features, embedding_dim)

    def embed(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, n) or (B, C, n) -> embedding (B, embedding_dim)."""
        return self.projection(self.encoder(x, lengths))

    def forward(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        lengths_a: torch.Tensor | None = None,
        lengths_b: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """l2 distance between the embeddings of ``a`` (B, n) and ``b`` (B, m) -> (B,)."""
        return torch.linalg.vector_norm(self.embed(a, lengths_a) - self.embed(b, lengths_b), dim=-1)


class SiameseResNet2D(nn.Module):
    """Fig. 3c: the pair's ``n x m`` distance matrix -> ResNet2D with ``k = 1`` -> linear -> scalar.

    Parameters
    ----------
    width, n_blocks, widths
        Passed to :class:`ResNet2D` (``in_channels=1``).
    """

    def __init__(self, width: int = 64, n_blocks: int = 8, widths: Sequence[int] | None = None) -> None:
        super().__init__()
        self.resnet = ResNet2D(in_channels=1, width=width, n_blocks=n_blocks, widths=widths)
        self.head = nn.Linear(self.resnet.out_features, 1)

    def forward(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        lengths_a: torch.Tensor | None = None,
        lengths_b: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predicted distance of each pair: ``a`` (B, n), ``b`` (B, m) -> (B,)."""
        return self.from_distance_matrix(pairwise_distance_matrix(a, b), lengths_a, lengths_b)

    def from_distance_matrix(
        self,
        distances: torch.Tensor,
        lengths: torch.Tensor | None = None,
        col_lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predicted distance from a (possibly perturbed) distance matrix ``(B, 1, n, m)`` -> ``(B,)``.

        Used for the pixel-perturbation importance maps (Fig. 4), whose inputs are
        not the distance matrix of any pair.
        """
        if distances.dim() != 4 or distances.shape[1] != 1:
            raise ValueError(f"distances must be (B, 1, n, m), got {tuple(distances.shape)}")
        return self.head(self.resnet(distances, lengths=lengths, col_lengths=col_lengths)).squeeze(-1)
