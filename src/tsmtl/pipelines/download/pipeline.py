"""``kedro run --pipelines download``: the download pipelines that need no account, summed (issue #11).

``download_ucr + download_uea + download_ett + download_physionet``, every node in the
``download`` namespace (``download.ucr_problems``, ``download.uea_problems``,
``download.ett_files``, ``download.physionet_sets``), each writing its family's own manifest
(``<family>_download_report``), so the sum and each ``download_<family>`` write the same files.
Left out, each a pipeline of its own: ``download_stocks`` (``download.kaggle_stocks``) needs a
Kaggle API key, and without one its node would stop the run after the families sorted before it;
``register_yahoo`` installs a licence-bound copy you give it and refuses to run without
``download.yahoo.local_path``. With a Kaggle key: ``kedro run --pipelines download,download_stocks``.
"""

from kedro.pipeline import Pipeline

from tsmtl.pipelines.download_ett import create_pipeline as download_ett
from tsmtl.pipelines.download_physionet import create_pipeline as download_physionet
from tsmtl.pipelines.download_ucr import create_pipeline as download_ucr
from tsmtl.pipelines.download_uea import create_pipeline as download_uea


def create_pipeline(**kwargs) -> Pipeline:
    return download_ucr() + download_uea() + download_ett() + download_physionet()
