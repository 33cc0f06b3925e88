from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import report_splits, select_tasks, split_task_group


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(select_tasks, ["ucr_archive", "params:ucr.groups"], ["ucr_raw_tasks", "ucr_availability"], name="select_ucr_tasks"),
            Node(split_task_group, ["ucr_raw_tasks", "params:ucr.split"], "ucr_task_splits", name="split_ucr_tasks"),
            Node(report_splits, "ucr_task_splits", "ucr_task_report", name="report_ucr_splits"),
        ]
    )
