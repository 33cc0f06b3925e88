"""ResNet2D multitask TSC (paper Sec. IV-B, Table I): 1NN-DTW, ResNet1D/2D with and without MTL."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
