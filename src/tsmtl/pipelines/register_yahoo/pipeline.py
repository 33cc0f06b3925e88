from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import register_yahoo
from tsmtl.pipelines.tags import INGEST, paper_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                register_yahoo,
                ["params:download.yahoo", "params:download.dest"],
                "yahoo_s5_register_report",
                name="register_yahoo_s5",
                tags=INGEST,
            )
        ],
        "data",
    )
