"""Bench: advantages + assemble_training_data for 64 groups × 16 trajectories × 512 tokens.

    python bench/bench_rl.py [--repeat 5]

One run times tinkerlite with the pure backend, tinkerlite with the numpy backend, and the official
cookbook (tinker-cookbook 0.6.1, torch CPU) in its throwaway venv
(``~/.cache/tinkerlite/official-venvs/cookbook-0.6.1``,
created on first use by tests/golden/make_rl_goldens.py's recipe) on the same generated trajectories,
and prints the median wall time of each and the speed-ups. Only the two measured calls are timed;
building the trajectory objects is not.

Each trajectory is two turns that merge into one datum (the second observation extends the first
turn's sequence): 128 prompt tokens, 192 sampled, 64 more observation tokens, 128 sampled = 512.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
GROUPS, GROUP_SIZE = 64, 16
TURNS = ((128, 192), (64, 128))  # (new observation tokens, action tokens) per turn: 512 tokens per trajectory


def make_specs(seed: int = 0) -> list[list[dict[str, Any]]]:
    """Per group, per trajectory: the turns as (ob tokens, action tokens, logprobs, reward, sequence id)."""
    rng = random.Random(seed)
    groups = []
    for g in range(GROUPS):
        trajs = []
        for t in range(GROUP_SIZE):
            seq: list[int] = []
            turns = []
            for k, (n_ob, n_ac) in enumerate(TURNS):
                ob = seq + [rng.randrange(1000, 150000) for _ in range(n_ob)]
                ac = [rng.randrange(1000, 150000) for _ in range(n_ac)]
                lps = [-rng.random() * 3 for _ in range(n_ac)]
                turns.append(
                    {"ob": ob, "ac": ac, "lp": lps, "reward": float(rng.random() < 0.5), "sid": f"{g}-{t}-{k}"}
                )
                seq = ob + ac
            trajs.append(turns)
        groups.append(trajs)
    return groups


def _time(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        gc.collect()  # each repetition starts from the same heap (the previous one's datums are garbage)
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def run_tinkerlite(specs: list[list[dict[str, Any]]], backend: str, repeat: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from tinkerlite.backend import set_backend
    from tinkerlite.completers import TokensWithLogprobs
    from tinkerlite.rl.data_processing import assemble_training_data, compute_advantages
    from tinkerlite.rl.types import Trajectory, TrajectoryGroup, Transition
    from tinkerlite.types import ModelInput

    set_backend(backend)
    groups = [
        TrajectoryGroup(
            [
                Trajectory(
                    [
                        Transition(
                            ModelInput.from_ints(tr["ob"]),
                            TokensWithLogprobs(tr["ac"], tr["lp"], sequence_id=tr["sid"]),
                            tr["reward"],
                            k == len(turns) - 1,
                        )
                        for k, tr in enumerate(turns)
                    ],
                    ModelInput.empty(),
                )
                for turns in trajs
            ],
            [0.0] * len(trajs),
            [{} for _ in trajs],
        )
        for trajs in specs
    ]
    result: dict[str, Any] = {}

    def go() -> None:
        advs = compute_advantages(groups)
        data, _ = assemble_training_data(groups, advs)
        result["n"] = len(data)
        result["tokens"] = sum(d.model_input.length for d in data)

    if repeat == 0:
        return {"go": go, "counts": result}
    times = _time(go, repeat)
    return {"times": times, **result}


def run_official(specs: list[list[dict[str, Any]]], repeat: int) -> dict[str, Any]:
    import tinker
    import torch
    from tinker_cookbook.completers import TokensWithLogprobs
    from tinker_cookbook.rl.data_processing import assemble_training_data, compute_advantages
    from tinker_cookbook.rl.types import Trajectory, TrajectoryGroup, Transition

    torch.set_num_threads(1)
    groups = [
        TrajectoryGroup(
            [
                Trajectory(
                    transitions=[
                        Transition(
                            ob=tinker.ModelInput.from_ints(tr["ob"]),
                            ac=TokensWithLogprobs(tokens=tr["ac"], maybe_logprobs=tr["lp"], sequence_id=tr["sid"]),
                            reward=tr["reward"],
                            episode_done=k == len(turns) - 1,
                        )
                        for k, tr in enumerate(turns)
                    ],
                    final_ob=tinker.ModelInput.empty(),
                )
                for turns in trajs
            ],
            [0.0] * len(trajs),
            [{} for _ in trajs],
        )
        for trajs in specs
    ]
    result: dict[str, Any] = {}

    def go() -> None:
        advs = compute_advantages(groups)
        data, _ = assemble_training_data(groups, advs)
        result["n"] = len(data)
        result["tokens"] = sum(d.model_input.length for d in data)

    if repeat == 0:
        return {"go": go, "counts": result, "torch": torch.__version__}
    times = _time(go, repeat)
    return {"times": times, "torch": torch.__version__, **result}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--official-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--backend-only", choices=("pure", "numpy"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    specs = make_specs()
    if args.official_only:
        # Re-executed inside the official venv: stubs as in tests/golden/make_rl_goldens.py.
        sys.path.insert(0, str(REPO / "tests" / "golden"))
        from make_rl_goldens import _stub_unused_imports

        _stub_unused_imports()
        _serve_one(run_official(specs, 0))
        return
    if args.backend_only:
        _serve_one(run_tinkerlite(specs, args.backend_only, 0))
        return
    sys.path.insert(0, str(REPO))
    from bench._interleave import Worker, interleave, median_pair, ratio_line
    from tests.golden.make_rl_goldens import official_python

    # Each contender is its own long-lived process (none inherits another's heap); rounds alternate.
    argv = {"tinkerlite pure": (sys.executable, "--backend-only", "pure")}
    try:
        import numpy  # noqa: F401

        argv["tinkerlite numpy"] = (sys.executable, "--backend-only", "numpy")
    except ImportError:
        print("numpy not installed: skipping the numpy backend")
    official = "official cookbook (torch CPU)"
    argv[official] = (str(official_python()), "--official-only")
    with ExitStack() as stack:
        workers = {
            name: stack.enter_context(Worker(py, None, [__file__, *flags], env=dict(os.environ), cwd=None))
            for name, (py, *flags) in argv.items()
        }
        runs = interleave({name: partial(w.timed, "go") for name, w in workers.items()}, args.repeat)
    print(
        f"{GROUPS} groups x {GROUP_SIZE} trajectories x 512 tokens; medians of {args.repeat} interleaved rounds; "
        f"load average {os.getloadavg()}"
    )
    for name, samples in runs.items():
        wall, cpu = median_pair(samples)
        info = workers[name].info
        print(
            f"  {name:<32} {wall * 1e3:8.1f} ms wall {cpu * 1e3:8.1f} ms CPU "
            f"({info['n']} datums, {info['tokens']} tokens)"
        )
    for name in runs:
        if name != official:
            print("  " + ratio_line(f"{name} / official", runs[name], runs[official]))


def _serve_one(result: dict[str, Any]) -> None:
    """Serve ``result["go"]`` to the driver; the first call's counts become the worker's info."""
    sys.path.insert(0, str(REPO))
    from bench._interleave import serve

    go = result.pop("go")
    go()
    gc.collect()

    def timed_go() -> None:
        gc.collect()  # each repetition starts from the same heap, as before
        go()

    counts = result.pop("counts")
    serve({"go": timed_go}, {**result, **counts})


if __name__ == "__main__":
    main()
