"""tsmtl.parallel: the fan-out returns what a sequential loop returns, in order, from other processes."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from tsmtl.data.types import TimeSeriesData
from tsmtl.experiments.ucr_mtl import parse_methods, plan_runs, run_experiment
from tsmtl.parallel import FanOut, run_jobs
from tsmtl.training.fit import TrainingConfig
from tsmtl.training.saved_models import evaluate_record


def square_with_worker(value: int) -> tuple[int, int, int]:
    """Module level (picklable): the value squared, the worker's pid and its torch thread count."""
    return value * value, os.getpid(), torch.get_num_threads()


def fail_on_three(value: int) -> int:
    if value == 3:
        raise ValueError("three is refused")
    return value


def test_fanout_parameters_are_checked():
    assert FanOut.from_params(None) == FanOut()
    assert FanOut.from_params({"n_jobs": 2, "backend": "dask", "dask_address": "tcp://h:8786"}).dask_address == "tcp://h:8786"
    with pytest.raises(ValueError, match="unknown fanout keys \\['njobs'\\]"):
        FanOut.from_params({"njobs": 2})
    with pytest.raises(ValueError, match="backend must be one of"):
        FanOut(backend="threads")
    with pytest.raises(ValueError, match="n_jobs must be >= 1 or -1"):
        FanOut(n_jobs=0)
    assert FanOut(n_jobs=8).workers(3) == 3  # never more workers than jobs
    assert FanOut(n_jobs=-1).workers(1000) == (os.cpu_count() or 1)
    assert FanOut(threads_per_worker=None).threads(os.cpu_count() or 1) == 1  # workers x threads = cores


def test_one_job_at_a_time_runs_in_this_process():
    out = run_jobs(square_with_worker, [1, 2, 3], FanOut(n_jobs=1))
    assert [o[0] for o in out] == [1, 4, 9] and {o[1] for o in out} == {os.getpid()}


def test_processes_return_the_results_in_job_order_from_limited_workers():
    out = run_jobs(square_with_worker, list(range(6)), FanOut(n_jobs=2, threads_per_worker=1))
    assert [o[0] for o in out] == [v * v for v in range(6)]
    pids = {o[1] for o in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert {o[2] for o in out} == {1}  # each worker holds its share of the cores


def test_a_failed_job_is_named():
    with pytest.raises(RuntimeError, match="job value 3 failed: three is refused"):
        run_jobs(fail_on_three, [1, 3, 5], FanOut(n_jobs=2), describe=lambda v: f"value {v}")


def test_under_torchrun_every_rank_runs_the_jobs_itself(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    out = run_jobs(square_with_worker, [1, 2], FanOut(n_jobs=2))
    assert {o[1] for o in out} == {os.getpid()}


def test_dask_local_cluster_gives_the_sequential_results():
    pytest.importorskip("distributed")
    out = run_jobs(square_with_worker, list(range(5)), FanOut(n_jobs=2, backend="dask", threads_per_worker=1))
    assert [o[0] for o in out] == [v * v for v in range(5)]
    assert os.getpid() not in {o[1] for o in out} and {o[2] for o in out} == {1}


def _group(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    tasks = {}
    for t, name in enumerate(["A", "B"]):
        y = np.repeat([0, 1], 12)
        X = rng.normal(size=(24, 1, 20)).cumsum(axis=-1) + y[:, None, None] * (1 + t)
        data = {split: TimeSeriesData(X=X[i::3], y=y[i::3], lengths=np.full(8, 20), name=name) for i, split in enumerate(["train", "val", "test"])}
        tasks[name] = data
    return {"G": tasks}


def test_the_experiment_fanned_out_over_processes_equals_the_sequential_one(tmp_path):
    """The same fits (1NN-DTW, single-task and MTL networks, two split seeds) in 2 worker processes: same rows."""
    methods = parse_methods(
        [
            {"id": "dtw", "name": "1NN-DTW", "kind": "1nn_dtw", "params": {"window": 0.2}},
            {"id": "r1", "name": "ResNet1D", "backbone": "resnet1d", "backbone_params": {"widths": [4, 4, 4]}},
            {"id": "r1m", "name": "ResNet1D w/ MTL", "backbone": "resnet1d", "multitask": True, "backbone_params": {"widths": [4, 4, 4]}},
        ]
    )
    training = TrainingConfig.from_params({"epochs": 2, "batch_size": 4, "lr": 1e-2, "progress": False})
    groups_by_seed = {0: _group(0), 1: _group(1)}
    runs = plan_runs(groups_by_seed, methods, training, device="cpu", seed=0, checkpoint_dir=None, resume=False, features_group="G")
    assert len(runs) == 2 * (2 + 2 + 1)  # seeds x (DTW per task + single-task per task + one MTL group)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the workers' setting: identical float reductions
    try:
        sequential, features, models = run_experiment(runs)
    finally:
        torch.set_num_threads(threads)
    parallel, parallel_features, parallel_models = run_experiment(runs, FanOut(n_jobs=2, threads_per_worker=1))
    columns = ["split_seed", "group", "task", "method", "fit", "accuracy", "val_accuracy", "best_epoch"]
    assert parallel[columns].equals(sequential[columns])
    assert len(features) == 1 and features[0]["split_seed"] == 0  # t-SNE features: first split seed only
    np.testing.assert_allclose(parallel_features[0]["tasks"]["A"]["features"], features[0]["tasks"]["A"]["features"], rtol=1e-5)
    # the fitted MTL model of the first split seed comes back from the worker with the same weights
    assert set(models) == set(parallel_models) == {"ResNet1D w/ MTL"}
    record, parallel_record = models["ResNet1D w/ MTL"]["G"], parallel_models["ResNet1D w/ MTL"]["G"]
    assert record["split_seed"] == parallel_record["split_seed"] == 0
    assert record["state_dict"].keys() == parallel_record["state_dict"].keys()
    for name, tensor in record["state_dict"].items():
        torch.testing.assert_close(parallel_record["state_dict"][name], tensor, rtol=1e-5, atol=1e-6)
    # ... and it rebuilds a model whose test accuracy is the reported one
    scores = evaluate_record(parallel_record, {task: split["test"] for task, split in groups_by_seed[0]["G"].items()})
    reported = parallel[(parallel["method"] == "ResNet1D w/ MTL") & (parallel["split_seed"] == 0)].set_index("task")["accuracy"]
    assert {task: scores[f"accuracy/{task}"] for task in ("A", "B")} == reported.to_dict()


def write_pid_and_sleep(folder: str) -> None:
    """A long job: records its worker's pid, then sleeps far longer than the test waits."""
    import time
    from pathlib import Path

    (Path(folder) / f"{os.getpid()}.pid").write_text("")
    time.sleep(120)


def test_workers_stop_when_the_run_is_killed(tmp_path):
    """``kill -9`` on the run: its worker processes exit too, instead of finishing their fits."""
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys; sys.path.insert(0, sys.argv[2]);"
        "from test_parallel import write_pid_and_sleep;"
        "from tsmtl.parallel import FanOut, run_jobs;"
        "run_jobs(write_pid_and_sleep, [sys.argv[1]] * 2, FanOut(n_jobs=2, threads_per_worker=1))"
    )
    run = subprocess.Popen([sys.executable, "-c", script, str(tmp_path), os.path.dirname(__file__)])
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("*.pid"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    workers = [int(p.stem) for p in tmp_path.glob("*.pid")]
    assert len(workers) == 2, "the workers never started"
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 15
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in workers if os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().split()[2]]
    assert not alive, f"workers {alive} outlived the killed run"
