from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.tags import INGEST, REPORT, paper_pipeline

from .nodes import report_yahoo, to_primary


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(to_primary, "yahoo_s5", "yahoo_s5_primary", name="validate_yahoo_s5", tags=INGEST),
            Node(report_yahoo, "yahoo_s5_primary", "yahoo_s5_report", name="report_yahoo_s5", tags=REPORT),
        ],
        ["data", "trep"],
        namespace="ingest_yahoo",
    )
