"""Download UEA problems (default: T-Rep's, params:uea.datasets) into data/01_raw/uea."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
