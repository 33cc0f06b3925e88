from kedro.pipeline import Node, Pipeline

from .nodes import report_ett_splits, split_ett_files


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(split_ett_files, ["ett_archive", "params:ett"], "ett_splits", name="split_ett_files"),
            Node(report_ett_splits, "ett_splits", "ett_report", name="report_ett_splits"),
        ]
    )
