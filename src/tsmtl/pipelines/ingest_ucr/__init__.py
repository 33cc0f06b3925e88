"""UCR 2018 univariate tasks: read, merge TRAIN+TEST, split 60/20/20 (ResNet2D paper Sec. IV-B)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
