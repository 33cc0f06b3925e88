"""``download_ett``: the ETT csv files (T-Rep forecasting, the MTL overview);
one node, ``download.ett_files`` (see :mod:`tsmtl.pipelines.download`)."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_ett
from tsmtl.pipelines.tags import INGEST, paper_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                fetch_ett,
                ["params:download.ett", "params:ett.datasets", "params:download.dest"],
                "ett_download_report",
                name="ett_files",
                tags=INGEST,
            )
        ],
        "data",
        namespace="download",
    )
