"""``foreclassnet_simulations``: ForeClassNet Sections 4.1-4.6, Tables 1-8, with the Bayes limit."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
