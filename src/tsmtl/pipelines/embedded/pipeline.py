from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import report_splits, split_task_group

from .nodes import prepare_anomaly_windows, report_anomaly_windows


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(split_task_group, ["embedded_classification", "params:embedded.split"], "embedded_task_splits", name="split_embedded_tasks"),
            Node(report_splits, "embedded_task_splits", "embedded_task_report", name="report_embedded_splits"),
            Node(prepare_anomaly_windows, ["embedded_anomaly", "params:embedded.anomaly"], "embedded_anomaly_windows", name="prepare_anomaly_windows"),
            Node(report_anomaly_windows, "embedded_anomaly_windows", "embedded_anomaly_report", name="report_anomaly_windows"),
        ]
    )
