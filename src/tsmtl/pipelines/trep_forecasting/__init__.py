"""``trep_forecasting``: T-Rep Sec. 4.2 / App. "Forecasting" -- ridge on per-step representations, ETT."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
