from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.common import (
    prepare_forecast_classify,
    report_forecast_classify,
    split_task_group,
)

from .nodes import build_earnings_moves


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(build_earnings_moves, ["stock_prices", "stock_earnings", "params:stocks"], ["earnings_moves", "earnings_events"], name="build_earnings_moves"),
            Node(split_task_group, ["earnings_moves", "params:stocks.split"], "earnings_moves_splits", name="split_earnings_moves"),
            Node(prepare_forecast_classify, ["earnings_moves_splits", "params:stocks.forecast"], "earnings_forecast_classify", name="prepare_earnings_forecast_classify"),
            Node(report_forecast_classify, "earnings_forecast_classify", "earnings_forecast_classify_report", name="report_earnings_forecast_classify"),
        ]
    )
