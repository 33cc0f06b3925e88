"""``embedded``: the default run's data, shipped inside aeon (no download), split and windowed."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import report_splits, split_task_group
from tsmtl.pipelines.tags import INGEST, REPORT, paper_pipeline

from .nodes import prepare_anomaly_windows, report_anomaly_windows


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                split_task_group,
                ["embedded_classification", "params:embedded.split"],
                "embedded_task_splits",
                name="split_embedded_tasks",
                tags=INGEST,
            ),
            Node(report_splits, "embedded_task_splits", "embedded_task_report", name="report_embedded_splits", tags=REPORT),
            Node(
                prepare_anomaly_windows,
                ["embedded_anomaly", "params:embedded.anomaly"],
                "embedded_anomaly_windows",
                name="prepare_anomaly_windows",
                tags=INGEST,
            ),
            Node(
                report_anomaly_windows,
                "embedded_anomaly_windows",
                "embedded_anomaly_report",
                name="report_anomaly_windows",
                tags=REPORT,
            ),
        ],
        "data",
    )
