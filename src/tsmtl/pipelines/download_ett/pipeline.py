from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_ett


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(fetch_ett, ["params:download.ett", "params:ett.datasets", "params:download.dest"], "ett_download_report", name="download_ett_files"),
        ]
    )
