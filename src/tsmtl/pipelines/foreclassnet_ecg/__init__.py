"""``foreclassnet_ecg``: ForeClassNet Section 5.1, ECG5000 (Tables 9-10, saliency plots)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
