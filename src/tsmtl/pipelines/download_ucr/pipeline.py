from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_ucr


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(fetch_ucr, ["params:download.ucr", "params:ucr.groups", "params:download.dest"], "ucr_download_report", name="download_ucr_problems"),
        ]
    )
