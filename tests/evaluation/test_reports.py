import numpy as np
import pandas as pd
import pytest

from tsmtl.evaluation.paper_tables import METHODS, RESNET2D_TABLE_I_AVERAGE_RANKS, resnet2d_table_i
from tsmtl.evaluation.reports import accuracy_markdown, accuracy_rank_table


def _paper_as_results():
    paper = resnet2d_table_i()
    long = paper.reset_index().melt(id_vars=["group", "task"], var_name="method", value_name="accuracy")
    return paper, long


def test_paper_table_reproduces_its_own_average_ranks():
    paper, results = _paper_as_results()
    table, average, paper_average = accuracy_rank_table(results, METHODS, paper)
    for method, printed in RESNET2D_TABLE_I_AVERAGE_RANKS.items():
        assert average[method] == pytest.approx(printed, abs=0.005)
        assert paper_average[method] == pytest.approx(printed, abs=0.005)
    # CricketX row: 0.80, 0.75, 0.80, 0.75, 0.95 -> 2.5, 4.5, 2.5, 4.5, 1.0
    row = table.loc[("Cricket", "CricketX")]
    assert [row[f"{m} rank"] for m in METHODS] == [2.5, 4.5, 2.5, 4.5, 1.0]


def test_subset_of_methods_and_tasks_is_ranked_like_with_like():
    results = pd.DataFrame(
        {
            "group": ["ECG"] * 4,
            "task": ["ECG200", "ECG200", "TwoLeadECG", "TwoLeadECG"],
            "method": ["1NN-DTW", "ResNet2D w/ MTL"] * 2,
            "accuracy": [0.9, 0.8, 0.5, 0.7],
        }
    )
    table, average, paper_average = accuracy_rank_table(results, METHODS, resnet2d_table_i())
    assert average.to_dict() == {"1NN-DTW": 1.5, "ResNet2D w/ MTL": 1.5}
    # paper on ECG200 (0.82 vs 0.93) and TwoLeadECG (1.00 vs 1.00): ranks (2, 1) and (1.5, 1.5)
    assert paper_average.to_dict() == {"1NN-DTW": 1.75, "ResNet2D w/ MTL": 1.25}
    assert table.loc[("ECG", "ECG200"), "ResNet2D w/ MTL (paper)"] == 0.93
    text = accuracy_markdown(table, average, paper_average, METHODS, ["# title", "- feeding: x"])
    assert "| ECG | ECG200 | 0.90 (1.0) [0.82] | 0.80 (2.0) [0.93] |" in text
    assert "- feeding: x" in text and "Average rank (paper, same tasks)" in text
    assert "[the paper's Table I accuracy]" in text


def test_markdown_legend_without_paper_numbers():
    results = pd.DataFrame({"group": "Embedded", "task": "GunPoint", "method": ["ResNet1D", "ResNet2D"], "accuracy": [0.9, 0.8]})
    table, average, paper_average = accuracy_rank_table(results, METHODS, resnet2d_table_i())
    text = accuracy_markdown(table, average, paper_average, METHODS)
    assert "| Embedded | GunPoint | 0.90 (1.0) | 0.80 (2.0) |" in text
    assert "Table I accuracy]" not in text and "not in the paper's Table I" in text


def test_ranks_use_rounded_accuracies():
    results = pd.DataFrame(
        {"group": "g", "task": "t", "method": ["ResNet1D", "ResNet2D"], "accuracy": [0.801, 0.799]}
    )
    _, average, _ = accuracy_rank_table(results, METHODS, None, rank_decimals=2)
    np.testing.assert_allclose(average.to_numpy(), [1.5, 1.5])
    _, average, _ = accuracy_rank_table(results, METHODS, None, rank_decimals=None)
    np.testing.assert_allclose(average.to_numpy(), [1.0, 2.0])
