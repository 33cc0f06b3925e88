"""ECG5000 for ForeClassNet (Sec. 5.1): 80/20 + 10 % validation, SMOTE on train, last 5 points as future."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
