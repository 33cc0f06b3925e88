"""Per-step overhead of every task weighting against equal weighting, on the same model and batch.

The anchor is equal weighting (plain ``sum(losses).backward()``), measured in the same run,
interleaved with the others so that machine noise hits all alike; the benchmark prints the
median step time of each weighting and its ratio to the anchor. A step is what the Trainer
does: zero_grad, forward of every task, the weighting's backward, optimizer step.

    python benchmarks/weighting_overhead.py                      # PhysioNet-like: 5 tasks, (256, 19, 12)
    python benchmarks/weighting_overhead.py --sharing attention --tasks 8 --device cuda
    python benchmarks/weighting_overhead.py --smoke --json rows.json   # tiny model, 2 x 2 steps: proves it runs

The table is printed and written as Markdown to ``--out`` (default
``benchmarks/results/weighting_overhead.md``); ``--json PATH`` writes the rows of
``benchmarks/bench_common.py`` (one per weighting; the ratio is the time ratio weighting / equal).

Not a test: absolute times swing 2-3x between runs on a shared CPU; the ratios are the result.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
from bench_common import add_common_arguments, markdown_out, result_row, torch_machine, write_rows

from tsmtl.models.sharing import ModelConfig, build_multitask_model
from tsmtl.tasks import TaskSpec
from tsmtl.training.device import choose_device, seed_everything
from tsmtl.training.multitask import multitask_step
from tsmtl.training.tensors import TaskBatch
from tsmtl.training.weighting import WEIGHTINGS, build_weighting

DEFAULT_OUT = Path(__file__).parent / "results" / "weighting_overhead.md"
SMOKE = {"widths": [8, 8, 8], "tasks": 3, "batch": 16, "steps": 2, "rounds": 2}


def _setup(args, weighting: str, device: torch.device):
    seed_everything(0)
    specs = {"task0": TaskSpec("task0", "binary")}
    specs.update({f"task{i}": TaskSpec(f"task{i}", "regression", args.horizon) for i in range(1, args.tasks)})
    config = ModelConfig(args.backbone, {"widths": args.widths, "kernel_sizes": [5, 3, 3]}, args.sharing, {})
    model = build_multitask_model(config, args.channels, specs).to(device)
    sizes = {task: args.batch * (index + 1) for index, task in enumerate(specs)}  # unequal, for "size"
    weights = build_weighting(weighting, list(specs), task_sizes=sizes).to(device)
    params = [{"params": list(model.parameters())}]
    if list(weights.parameters()):
        params.append({"params": list(weights.parameters()), "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    x = torch.randn(args.batch, args.channels, args.length, device=device)
    lengths = torch.full((args.batch,), args.length, device=device)
    targets = {"task0": (torch.rand(args.batch, device=device) > 0.9).float()}
    targets.update({t: torch.randn(args.batch, args.horizon, device=device) for t in specs if t != "task0"})
    step = multitask_step(specs)
    batch = TaskBatch(x, lengths, targets)

    def run() -> None:
        optimizer.zero_grad(set_to_none=True)
        out = step(model, batch)
        weights.backward(out.losses, model, out.extra)
        optimizer.step()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sharing", default="hard")
    parser.add_argument("--backbone", default="resnet1d")
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 128, 128])
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=1)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--channels", type=int, default=19)
    parser.add_argument("--length", type=int, default=12)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per weighting per round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=None, help=f"Markdown (default {DEFAULT_OUT}; none with --smoke)")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.smoke:
        for key, value in SMOKE.items():
            setattr(args, key, value)
    device = choose_device(args.device)
    names = ["equal", *[w for w in WEIGHTINGS if w != "equal"]]
    runs = {name: _setup(args, name, device) for name in names}
    for run in runs.values():  # warm-up
        for _ in range(3):
            run()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):  # interleaved rounds, the order rotated: noise hits all alike
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            run = runs[name]
            if device.type == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
            for _ in range(args.steps):
                run()
            if device.type == "cuda":
                torch.cuda.synchronize()
            times[name].append((time.perf_counter() - started) / args.steps)
    anchor = statistics.median(times["equal"])
    header = (
        f"device {device}, torch threads {torch.get_num_threads()}; {args.sharing} sharing, {args.backbone} {args.widths}, "
        f"{args.tasks} tasks, batch ({args.batch}, {args.channels}, {args.length}); median of {args.rounds} rounds x {args.steps} steps"
    )
    print(header)  # noqa: T201
    print(f"{'weighting':<12} {'ms/step':>9} {'x equal':>8}")  # noqa: T201
    lines = [
        "# Per-step time of each task weighting against equal weighting",
        "",
        f"{header}; load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| weighting | ms/step | x equal |",
        "|---|---:|---:|",
    ]
    rows = []
    for name in names:
        median = statistics.median(times[name])
        print(f"{name:<12} {1000 * median:9.2f} {median / anchor:8.2f}")  # noqa: T201
        lines.append(f"| {name} | {1000 * median:.2f} | {median / anchor:.2f} |")
        if name != "equal":
            case = f"{name}: {args.sharing} sharing, {args.backbone} {args.widths}, {args.tasks} tasks, batch {args.batch}"
            detail = f"median s/step of {args.rounds} interleaved rounds x {args.steps} steps; device {device}"
            rows.append(result_row("weighting_overhead", case, median, "equal weighting (same run)", anchor, "time ratio",
                                   detail, torch_machine(device)))
    out = markdown_out(args.out, DEFAULT_OUT, args.smoke)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n")
        print(f"written {out}")  # noqa: T201
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
