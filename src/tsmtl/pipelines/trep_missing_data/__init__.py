"""``trep_missing_data``: T-Rep Sec. 4.4 / Fig. 4, accuracy against missing data and the latent heatmap."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
