from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import (
    make_missing_variants,
    report_splits,
    select_tasks,
    split_task_group,
)
from tsmtl.pipelines.tags import INGEST, REPORT, paper_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                select_tasks,
                ["uea_archive", "params:uea.datasets"],
                ["uea_raw_tasks", "uea_availability"],
                name="select_uea_datasets",
                tags=INGEST,
            ),
            Node(
                split_task_group, ["uea_raw_tasks", "params:uea.split"], "uea_task_splits", name="split_uea_datasets", tags=INGEST
            ),
            Node(report_splits, "uea_task_splits", "uea_task_report", name="report_uea_splits", tags=REPORT),
            Node(
                make_missing_variants,
                ["uea_task_splits", "params:uea.missing"],
                "uea_missing_splits",
                name="make_missing_variants",
                tags=INGEST,
            ),
            Node(report_splits, "uea_missing_splits", "uea_missing_report", name="report_missing_variants", tags=REPORT),
        ],
        ["data", "trep"],
        namespace="ingest_uea",
    )
