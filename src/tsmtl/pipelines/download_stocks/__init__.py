"""Download the Kaggle stock data of ForeClassNet Sec. 5.2 into data/01_raw/stocks (needs a Kaggle API key)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
