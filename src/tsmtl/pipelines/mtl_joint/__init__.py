"""``mtl_joint``: the MTL joint-prediction overview on real data (PhysioNet 2019 hourly, ETTh1)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
