"""Download PhysioNet/CinC 2019 sepsis training set A into data/01_raw/physionet2019_sepsis (T-Rep anomaly detection)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
