"""``ingest_ucr``: the ResNet2D paper's UCR tasks read and split 60/20/20 (Sec. IV-B); part of ``ucr_mtl``."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import report_splits, select_tasks, split_task_group
from tsmtl.pipelines.tags import INGEST, REPORT, paper_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                select_tasks,
                ["ucr_archive", "params:ucr.groups"],
                ["ucr_raw_tasks", "ucr_availability"],
                name="select_ucr_tasks",
                tags=INGEST,
            ),
            Node(split_task_group, ["ucr_raw_tasks", "params:ucr.split"], "ucr_task_splits", name="split_ucr_tasks", tags=INGEST),
            Node(report_splits, "ucr_task_splits", "ucr_task_report", name="report_ucr_splits", tags=REPORT),
        ],
        ["data", "resnet2d"],
        namespace="ingest_ucr",
    )
