"""``foreclassnet_stocks``: ForeClassNet Section 5.2, stock moves after earnings (Table 11)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
