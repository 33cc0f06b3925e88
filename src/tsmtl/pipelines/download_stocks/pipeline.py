from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_stocks


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(fetch_stocks, ["kaggle_credentials", "params:download.stocks", "params:download.dest"], "stocks_download_report", name="download_kaggle_stocks"),
        ]
    )
