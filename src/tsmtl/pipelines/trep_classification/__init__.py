"""``trep_classification``: T-Rep Sec. 4.1, UEA classification (T-Rep TimeDim vs TS2Vec vs a supervised ResNet1D)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
