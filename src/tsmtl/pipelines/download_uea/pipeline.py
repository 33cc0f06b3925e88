from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_uea


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(fetch_uea, ["params:download.uea", "params:uea.datasets", "params:download.dest"], "uea_download_report", name="download_uea_problems"),
        ]
    )
