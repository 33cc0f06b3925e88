"""Stock moves after earnings (ForeClassNet Sec. 5.2): windows, split, observed/future."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
