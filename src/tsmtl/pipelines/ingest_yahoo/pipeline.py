from kedro.pipeline import Node, Pipeline

from .nodes import report_yahoo, to_primary


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(to_primary, "yahoo_s5", "yahoo_s5_primary", name="validate_yahoo_s5"),
            Node(report_yahoo, "yahoo_s5_primary", "yahoo_s5_report", name="report_yahoo_s5"),
        ]
    )
