from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import report_splits
from tsmtl.pipelines.tags import INGEST, REPORT, paper_pipeline

from .nodes import build_sepsis_splits


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                build_sepsis_splits,
                ["physionet_raw", "params:physionet"],
                "physionet_sepsis_splits",
                name="build_sepsis_splits",
                tags=INGEST,
            ),
            Node(report_splits, "physionet_sepsis_splits", "physionet_sepsis_report", name="report_sepsis_splits", tags=REPORT),
        ],
        ["data", "trep"],
        namespace="ingest_physionet",
    )
