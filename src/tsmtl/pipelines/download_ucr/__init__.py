"""Download UCR problems (default: the ResNet2D paper's 25 tasks, params:ucr.groups) into data/01_raw/ucr."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
