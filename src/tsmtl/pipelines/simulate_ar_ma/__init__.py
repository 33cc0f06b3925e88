"""ForeClassNet Sec. 4: simulated AR/MA classification data, 80/20 + 10 % validation, 40 observed + 10 future points."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
