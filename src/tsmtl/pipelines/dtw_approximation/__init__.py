"""ResNet2D paper Sec. IV-A: Siamese ResNet1D vs ResNet2D approximating DTW (Figs. 1 and 4)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
