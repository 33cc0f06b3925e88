from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.downloads import register_yahoo


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(register_yahoo, ["params:download.yahoo", "params:download.dest"], "yahoo_s5_register_report", name="register_yahoo_s5"),
        ]
    )
