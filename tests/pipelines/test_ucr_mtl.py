"""A tiny end-to-end ``ucr_mtl`` run on a MemoryDataset catalog: all five methods, two groups, repeated splits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kedro.io import DataCatalog, MemoryDataset, Version
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from tsmtl.data.types import TimeSeriesData
from tsmtl.evaluation.paper_tables import METHODS
from tsmtl.kedro_datasets import TorchStateDictDataset
from tsmtl.models.sharing import ModelConfig, build_multitask_model
from tsmtl.pipelines.ucr_mtl.pipeline import create_experiment_pipeline
from tsmtl.tasks import TaskSpec
from tsmtl.training.saved_models import evaluate_record, rebuild_model

TABLE_I_METHODS = [
    {"id": "1nn_dtw", "name": "1NN-DTW", "kind": "1nn_dtw", "params": {"window": None, "n_jobs": 1}},
    {"id": "resnet1d", "name": "ResNet1D", "backbone": "resnet1d", "multitask": False},
    {"id": "resnet2d", "name": "ResNet2D", "backbone": "resnet2d", "multitask": False},
    {"id": "resnet1d_mtl", "name": "ResNet1D w/ MTL", "backbone": "resnet1d", "multitask": True, "sharing": "hard", "weighting": "equal"},
    {"id": "resnet2d_mtl", "name": "ResNet2D w/ MTL", "backbone": "resnet2d", "multitask": True, "sharing": "hard", "weighting": "equal"},
]


def _task(name, n_per_class, length, seed, gap=False, short=False):
    """A raw task as the archive gives it (one part, merged and split by the pipeline)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([1, 2], n_per_class)
    X = rng.normal(size=(len(y), 1, length)).cumsum(axis=-1) + y[:, None, None]
    lengths = np.full(len(y), length)
    if short:  # unequal lengths inside the task, NaN padding after them
        lengths[::3] = length - 4
        for i in np.where(lengths < length)[0]:
            X[i, :, lengths[i]:] = np.nan
    if gap:
        X[:, :, 2:4] = np.nan
    return {"all": TimeSeriesData(X=X, y=y, lengths=lengths, name=name)}


SPLIT = {"protocol": "merge_60_20_20", "seed": 0}


class KeptMemoryDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, to inspect an intermediate output after the run."""

    def _release(self) -> None:
        pass


def _run(tasks, groups, options, state_dicts=None) -> DataCatalog:
    """The experiment on MemoryDatasets; ``state_dicts``: a path to save ``ucr_mtl_state_dicts`` with the project's dataset."""
    saved = {}
    if state_dicts is not None:
        saved["ucr_mtl_state_dicts"] = TorchStateDictDataset(filepath=str(state_dicts), version=Version(None, None))
    catalog = DataCatalog(
        datasets={
            **saved,
            "ucr_raw_tasks": MemoryDataset(tasks),
            "params:ucr.groups": MemoryDataset(groups),
            "params:ucr.split": MemoryDataset(SPLIT),
            "params:ucr_mtl": MemoryDataset(options),
            "params:ucr_mtl.feeding": MemoryDataset(options["feeding"]),
            "params:ucr_mtl.seed": MemoryDataset(options["seed"]),
            "params:device": MemoryDataset("cpu"),
            "ucr_mtl_fed_groups": KeptMemoryDataset(),
        }
    )
    SequentialRunner().run(create_experiment_pipeline(), catalog)
    return catalog


def _options(tmp_path, select=None, methods=TABLE_I_METHODS, split_seeds=None):
    return {
        "profile": "test",
        "groups": None,
        "methods": methods,
        "select": select,
        "seed": 0,
        "split_seeds": split_seeds,
        "fanout": {"n_jobs": 1},
        "feeding": {"znormalise": True, "gaps": "interpolate", "length": "native", "resample_length": None},
        "training": {"epochs": 1, "batch_size": 8, "lr": 1e-2, "progress": False},
        "backbones": {
            "resnet1d": {"widths": [4, 8, 8]},
            "resnet2d": {"n_templates": 2, "template_length": 8, "width": 4, "n_blocks": 3},
            "fcn": {"widths": [4, 8, 4], "kernel_sizes": [5, 3, 3]},
        },
        "tsne": {"group": "SemgHand"},
        "checkpoint_dir": str(tmp_path / "models"),
        "resume": True,
    }


def test_other_data_of_the_same_shape_trains_from_scratch(tmp_path):
    """Re-ingest other series of the same sizes and split seed, run ucr_mtl again -> every fit trains anew."""
    groups = {"Cricket": ["CricketX", "CricketY"]}

    def tasks(seed):
        return {"CricketX": _task("CricketX", 10, 24, seed), "CricketY": _task("CricketY", 10, 24, seed + 1)}

    options = _options(tmp_path, ["resnet1d", "resnet1d_mtl"])
    models = tmp_path / "models" / "split_0"
    fits = [models / "resnet1d_mtl" / "Cricket", models / "resnet1d" / "CricketX", models / "resnet1d" / "CricketY"]
    _run(tasks(0), groups, options)
    first = {folder: set(folder.iterdir()) for folder in fits}
    second = _run(tasks(10), groups, options)["ucr_mtl_results"].load()
    for folder in fits:  # every fit of the new data trained in a folder of its own
        new = set(folder.iterdir()) - first[folder]
        assert len(new) == 1, f"{folder}: a checkpoint of the other data was resumed"
        assert (new.pop() / "best.pt").is_file()
    # the same data again resumes every finished fit (nothing rewritten) and reproduces the table
    stamps = {p: p.stat().st_mtime_ns for folder in fits for p in folder.glob("*/last.pt")}
    third = _run(tasks(10), groups, options)["ucr_mtl_results"].load()
    assert {p: p.stat().st_mtime_ns for folder in fits for p in folder.glob("*/last.pt")} == stamps
    assert third["accuracy"].tolist() == second["accuracy"].tolist()


def test_repeated_splits_report_mean_and_std_and_the_significance_plot(tmp_path):
    tasks = {name: _task(name, 10, 20, seed) for seed, name in enumerate(["CricketX", "CricketY", "CricketZ"])}
    options = _options(tmp_path, ["1nn_dtw", "resnet1d", "resnet1d_mtl"], split_seeds=[3, 7])
    catalog = _run(tasks, {"Cricket": ["CricketX", "CricketY", "CricketZ"]}, options)
    results = catalog["ucr_mtl_results"].load()
    assert sorted(results["split_seed"].unique()) == [3, 7]
    assert len(results) == 2 * 3 * 3  # split seeds x methods x tasks
    # each split seed is the ingest protocol with that seed: the test cases differ between seeds
    fed = catalog["ucr_mtl_fed_groups"].load()
    assert set(fed) == {3, 7}
    assert fed[3]["Cricket"]["CricketX"]["test"].meta["split_seed"] == 3
    assert not np.array_equal(fed[3]["Cricket"]["CricketX"]["test"].X, fed[7]["Cricket"]["CricketX"]["test"].X)
    # the table's cells are the mean and the sample std over the seeds, computed here by hand
    table = catalog["ucr_mtl_accuracy_report"].load().set_index("task")
    by_hand = results[(results["task"] == "CricketY") & (results["method"] == "ResNet1D")]["accuracy"]
    assert table.loc["CricketY", "ResNet1D"] == pytest.approx(by_hand.mean())
    assert table.loc["CricketY", "ResNet1D std"] == pytest.approx(by_hand.std(ddof=1))
    assert (table["n_splits"] == 2).all()
    markdown = catalog["ucr_mtl_accuracy_markdown"].load()
    assert f"{by_hand.mean():.2f} ± {by_hand.std(ddof=1):.2f}" in markdown
    assert "split seeds [3, 7]" in markdown and "Pairwise Wilcoxon signed-rank tests over the 3 tasks" in markdown
    assert "**Average rank** | | **" in markdown and markdown.count(" ± ") >= 3 * 3 + 3
    assert isinstance(catalog["ucr_mtl_significance_plot"].load(), Figure)
    # different training seeds per split: the fits of split 3 use seed 0 + 3
    assert (tmp_path / "models" / "split_3" / "resnet1d_mtl" / "Cricket").is_dir()


def test_ucr_mtl_end_to_end(tmp_path):
    splits = {
        "CricketX": _task("CricketX", 10, 24, 0),
        "CricketY": _task("CricketY", 10, 24, 1, short=True),
        "DodgerLoopDay": _task("DodgerLoopDay", 10, 16, 2, gap=True),
    }
    groups = {"Cricket": ["CricketX", "CricketY", "CricketZ"], "DodgerLoop": ["DodgerLoopDay"]}
    options = _options(tmp_path)
    catalog = _run(splits, groups, options, state_dicts=tmp_path / "ucr_mtl_state_dicts.pt")

    results = catalog["ucr_mtl_results"].load()
    assert len(results) == 3 * 5  # three present tasks, five methods
    assert set(results["method"]) == set(METHODS)
    assert results["accuracy"].between(0, 1).all()
    table = catalog["ucr_mtl_accuracy_report"].load()
    assert (table["feeding"] == "znormalise=True, gaps=interpolate, length=native").all()
    assert set(table["task"]) == {"CricketX", "CricketY", "DodgerLoopDay"}
    ranks = table[[f"{m} rank" for m in METHODS]].to_numpy()
    np.testing.assert_allclose(ranks.sum(axis=1), 15.0)  # 1+2+3+4+5 on every task
    assert table.loc[table["task"] == "CricketX", "ResNet2D w/ MTL (paper)"].item() == 0.95
    markdown = catalog["ucr_mtl_accuracy_markdown"].load()
    assert "feeding: znormalise=True" in markdown and "**Average rank**" in markdown
    # the split line comes from what the splits record; one split seed: the ingest's (ucr.split.seed)
    assert "- split: TRAIN+TEST merged, stratified 60/20/20, seed 0; split seeds [0] " in markdown
    assert " ± " not in markdown.split("## Pairwise")[0]  # one split: no spread to report
    assert isinstance(catalog["ucr_mtl_tsne_plot"].load(), Figure)
    # checkpoints: one folder per split seed, single-task model and MTL group
    models = tmp_path / "models" / "split_0"
    assert (models / "resnet2d_mtl" / "Cricket").is_dir() and (models / "resnet1d" / "DodgerLoopDay").is_dir()
    # the multitask fits as a versioned weights-only torch file: each record rebuilds its model, whose test
    # accuracy on the fed test split is the one the results report
    (saved,) = (tmp_path / "ucr_mtl_state_dicts.pt").glob("*/ucr_mtl_state_dicts.pt")
    records = TorchStateDictDataset(filepath=str(tmp_path / "ucr_mtl_state_dicts.pt"), version=Version(None, None)).load()
    assert set(records) == {"ResNet1D w/ MTL", "ResNet2D w/ MTL"}
    fed = catalog["ucr_mtl_fed_groups"].load()[0]
    for method, by_group in records.items():
        assert set(by_group) == {"Cricket", "DodgerLoop"}
        for group, record in by_group.items():
            assert record["method"] == method and record["group"] == group and record["split_seed"] == 0
            scores = evaluate_record(record, {task: split["test"] for task, split in fed[group].items()})
            for task in fed[group]:
                row = results[(results["method"] == method) & (results["task"] == task)]
                assert scores[f"accuracy/{task}"] == row["accuracy"].item() == record["scores"]["test"][f"accuracy/{task}"]
    # the rebuilt model holds the saved weights, not a fresh initialisation
    record = records["ResNet2D w/ MTL"]["Cricket"]
    rebuilt = rebuild_model(record).state_dict()
    assert rebuilt.keys() == record["state_dict"].keys()
    assert all(torch.equal(rebuilt[name], tensor) for name, tensor in record["state_dict"].items())
    specs = {task: TaskSpec(**fields) for task, fields in record["tasks"].items()}
    fresh = build_multitask_model(ModelConfig(**record["model"]), record["in_channels"], specs).state_dict()
    assert any(not torch.equal(fresh[name], tensor) for name, tensor in record["state_dict"].items())


def test_a_sixth_method_is_one_yaml_entry(tmp_path):
    """A new backbone x sharing x weighting joins Table I from the parameters alone."""
    sixth = {"id": "fcn_mtl_uw", "name": "FCN w/ MTL (uncertainty)", "backbone": "fcn", "multitask": True, "sharing": "attention", "weighting": "uncertainty"}
    splits = {"CricketX": _task("CricketX", 10, 24, 0), "CricketY": _task("CricketY", 10, 24, 1, short=True)}
    options = _options(tmp_path, select=["1nn_dtw", "resnet1d_mtl", "fcn_mtl_uw"], methods=[*TABLE_I_METHODS, sixth])
    catalog = _run(splits, {"Cricket": ["CricketX", "CricketY"]}, options)
    table = catalog["ucr_mtl_accuracy_report"].load()
    assert "FCN w/ MTL (uncertainty)" in table.columns and "FCN w/ MTL (uncertainty) rank" in table.columns
    assert "FCN w/ MTL (uncertainty) (paper)" not in table.columns  # not a Table I column
    np.testing.assert_allclose(table[[c for c in table.columns if c.endswith(" rank")]].sum(axis=1), 6.0)  # 1+2+3
    markdown = catalog["ucr_mtl_accuracy_markdown"].load()
    assert "| Group | Task | 1NN-DTW | ResNet1D w/ MTL | FCN w/ MTL (uncertainty) |" in markdown
    assert (tmp_path / "models" / "split_0" / "fcn_mtl_uw" / "Cricket").is_dir()


def test_bad_method_lists_fail_before_any_work(tmp_path):
    splits = {"CricketX": _task("CricketX", 10, 24, 0)}
    groups = {"Cricket": ["CricketX"]}
    for methods, message in [
        (["resnet1d"], "methods are mappings"),
        ([{"name": "X", "backbone": "resnet1d", "sharing": "cross_stitch", "multitask": True}], "unknown sharing"),
        ([{"name": "X", "kind": "knn"}], "unknown kind"),
        ([{"name": "X"}], "needs a backbone"),
    ]:
        with pytest.raises(Exception, match=message):
            _run(splits, groups, _options(tmp_path, methods=methods))
    with pytest.raises(Exception, match="unknown methods \\['resnet3d'\\]"):
        _run(splits, groups, _options(tmp_path, select=["resnet3d"]))


def test_select_takes_a_list_or_the_space_separated_string_of_kedro_params():
    from tsmtl.experiments.ucr_mtl import parse_methods, select_methods

    methods = parse_methods(TABLE_I_METHODS)
    assert [m.id for m in select_methods(methods, "resnet2d_mtl 1nn_dtw")] == ["1nn_dtw", "resnet2d_mtl"]
    assert [m.id for m in select_methods(methods, ["ResNet1D"])] == ["resnet1d"]
    assert len(select_methods(methods, None)) == 5
