"""``trep_anomaly``: T-Rep Sec. 4.3 / App. "Anomaly Detection" -- streaming point anomalies
(aeon's KDD-TSAD_135; Yahoo S5 when registered) and Sepsis (PhysioNet 2019), T-Rep vs TS2Vec vs
a raw-data baseline."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
