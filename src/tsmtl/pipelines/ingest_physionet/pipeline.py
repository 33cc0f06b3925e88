from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import report_splits

from .nodes import build_sepsis_splits


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(build_sepsis_splits, ["physionet_raw", "params:physionet"], "physionet_sepsis_splits", name="build_sepsis_splits"),
            Node(report_splits, "physionet_sepsis_splits", "physionet_sepsis_report", name="report_sepsis_splits"),
        ]
    )
