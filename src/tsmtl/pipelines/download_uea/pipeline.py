"""``download_uea``: the UEA problems (T-Rep); one node, ``download.uea_problems`` (see :mod:`tsmtl.pipelines.download`)."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_uea
from tsmtl.pipelines.tags import INGEST, paper_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                fetch_uea,
                ["params:download.uea", "params:uea.datasets", "params:download.dest"],
                "uea_download_report",
                name="uea_problems",
                tags=INGEST,
            )
        ],
        "data",
        namespace="download",
    )
