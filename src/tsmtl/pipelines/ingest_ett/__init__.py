"""ETT forecasting data: read, 12/4/4-month borders, scaler fitted on train only."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
