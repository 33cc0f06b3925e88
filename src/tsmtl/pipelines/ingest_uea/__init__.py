"""UEA multivariate sets: read the official TRAIN/TEST (T-Rep Sec. 4.1 protocol)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
