"""The default run's MTL demo: ``ucr_mtl``'s experiment on aeon's shipped tasks (no download), namespaced ``embedded_mtl``."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
