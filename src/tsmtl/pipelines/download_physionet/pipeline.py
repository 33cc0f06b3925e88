"""``download_physionet``: the PhysioNet/CinC 2019 sepsis sets (T-Rep anomaly detection, the MTL overview);
one node, ``download.physionet_sets`` (see :mod:`tsmtl.pipelines.download`)."""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import fetch_physionet
from tsmtl.pipelines.tags import INGEST, paper_pipeline


def create_pipeline(**kwargs) -> Pipeline:
    return paper_pipeline(
        [
            Node(
                fetch_physionet,
                ["params:download.physionet", "params:download.dest"],
                "physionet_download_report",
                name="physionet_sets",
                tags=INGEST,
            )
        ],
        "data",
        namespace="download",
    )
