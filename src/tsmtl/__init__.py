"""tsmtl: multitask learning for time series.

The library (``tsmtl.data``, ``tsmtl.models``, ``tsmtl.training``,
``tsmtl.evaluation``) knows nothing of Kedro; ``tsmtl.pipelines`` wires it into
Kedro pipelines and ``tsmtl.kedro_datasets`` exposes the readers to the catalog.
"""

__version__ = "0.1.0"
