from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import (
    prepare_forecast_classify,
    report_forecast_classify,
    select_tasks,
    split_task_group,
)
from tsmtl.pipelines.tags import INGEST, REPORT, paper_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                select_tasks,
                ["ucr_archive", "params:ecg5000.datasets"],
                ["ecg5000_raw", "ecg5000_availability"],
                name="select_ecg5000",
                tags=INGEST,
            ),
            Node(split_task_group, ["ecg5000_raw", "params:ecg5000.split"], "ecg5000_splits", name="split_ecg5000", tags=INGEST),
            Node(
                prepare_forecast_classify,
                ["ecg5000_splits", "params:ecg5000.forecast"],
                "ecg5000_forecast_classify",
                name="prepare_ecg5000_forecast_classify",
                tags=INGEST,
            ),
            Node(
                report_forecast_classify,
                "ecg5000_forecast_classify",
                "ecg5000_forecast_classify_report",
                name="report_ecg5000_forecast_classify",
                tags=REPORT,
            ),
        ],
        ["data", "foreclassnet"],
        namespace="ingest_ecg5000",
    )
