"""Every raw family that needs no account (UCR, UEA, ETT, PhysioNet 2019) into data/01_raw, at once.

The Kaggle stocks need an API key (``download_stocks``); Yahoo S5 is licence-bound and never
downloaded (``register_yahoo`` installs your own copy).
"""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
