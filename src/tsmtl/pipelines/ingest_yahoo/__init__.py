"""Yahoo Webscope S5 (licence-bound; needs a local copy): validate and flatten."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
