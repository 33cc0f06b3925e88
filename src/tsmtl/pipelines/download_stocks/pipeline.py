"""``download_stocks``: the Kaggle stock data (ForeClassNet Sec. 5.2);
one node, ``download.kaggle_stocks`` (see :mod:`tsmtl.pipelines.download`)."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_stocks
from tsmtl.pipelines.tags import INGEST, paper_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                fetch_stocks,
                ["kaggle_credentials", "params:download.stocks", "params:download.dest"],
                "stocks_download_report",
                name="kaggle_stocks",
                tags=INGEST,
            )
        ],
        "data",
        namespace="download",
    )
