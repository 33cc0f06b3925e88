"""The default pipeline: data that ships with aeon, preprocessed end to end (no download)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
