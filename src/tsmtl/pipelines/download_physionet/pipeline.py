from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_physionet


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(fetch_physionet, ["params:download.physionet", "params:download.dest"], "physionet_download_report", name="download_physionet_sets"),
        ]
    )
