"""Install your own copy of Yahoo S5 (licence-bound, never downloaded) into data/01_raw/yahoo_s5."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
