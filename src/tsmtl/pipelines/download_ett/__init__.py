"""Download the ETT csv files (T-Rep forecasting; default params:ett.datasets) into data/01_raw/ett."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
