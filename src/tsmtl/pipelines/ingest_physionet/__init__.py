"""PhysioNet 2019 sepsis: forward-fill, last 45 hours, the T-Rep features, stratified split."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
