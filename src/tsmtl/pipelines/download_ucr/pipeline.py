"""``download_ucr``: the UCR problems (ResNet2D, ForeClassNet's ECG5000, T-Rep's heatmap);
one node, ``download.ucr_problems`` (see :mod:`tsmtl.pipelines.download`)."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_ucr
from tsmtl.pipelines.tags import INGEST, paper_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                fetch_ucr,
                ["params:download.ucr", "params:ucr.groups", "params:download.dest"],
                "ucr_download_report",
                name="ucr_problems",
                tags=INGEST,
            )
        ],
        "data",
        namespace="download",
    )
