"""``kedro run --pipelines foreclassnet_simulations``: simulate (Sec. 4), compare, attack, report.

Includes ``simulate_ar_ma`` (the data is generated, nothing to ingest first).
"""

from kedro.pipeline import Node, Pipeline

from tsmtl.pipelines.simulate_ar_ma import create_pipeline as simulate_ar_ma
from tsmtl.pipelines.tags import EVALUATE, REPORT, TRAIN, paper_pipeline

from .nodes import attack_with_fgsm, compare_on_simulations, plot_filter_lengths, report_simulations

P = "params:foreclassnet_simulations"


def create_pipeline(**kwargs) -> Pipeline:
    return simulate_ar_ma() + paper_pipeline(
        [
            Node(
                compare_on_simulations,
                ["ar_ma_forecast_classify", P, "params:simulate_ar_ma", "params:device"],
                ["foreclassnet_simulation_results", "foreclassnet_filter_lengths"],
                name="compare_methods_on_simulations",
                tags=TRAIN,
            ),
            Node(
                attack_with_fgsm,
                ["ar_ma_forecast_classify", P, "params:device"],
                "foreclassnet_adversarial_results",
                name="attack_with_fgsm",
                tags=EVALUATE,
            ),
            Node(
                report_simulations,
                ["foreclassnet_simulation_results", "foreclassnet_adversarial_results", P, "params:simulate_ar_ma"],
                ["foreclassnet_simulations_report", "foreclassnet_simulations_markdown"],
                name="report_foreclassnet_simulations",
                tags=REPORT,
            ),
            Node(
                plot_filter_lengths,
                ["foreclassnet_filter_lengths", f"{P}.foreclassnet"],
                "foreclassnet_filter_lengths_plot",
                name="plot_filter_lengths",
                tags=REPORT,
            ),
        ],
        "foreclassnet",
    )
