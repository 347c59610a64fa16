"""Benchmark the DPO loss + gradient: tinkerlite's closed form (pure and numpy) vs torch autograd.

Workload (issue 8): 64 (chosen, rejected) pairs × 1024 target tokens each, i.e. what one
``forward_backward_custom`` call of a DPO step computes client-side between its forward pass and its
surrogate backward pass: sequence log-probs, the loss, the five metrics and ∂loss/∂logprobs per token.

* tinkerlite rows call :func:`tinkerlite.preference.dpo_loss.make_dpo_loss_fn` on lists of log-probs and
  Datums with float32 weights, and return the gradients as Python lists (what the client sends).
* torch rows run the official cookbook's ``compute_dpo_loss`` (tinker-cookbook 0.6.1, torch 2.13.0
  CPU, in the throwaway venv ``~/.cache/tinkerlite/official-venvs/cookbook-0.6.1-dpo``) after the per-datum
  ``torch.dot`` with the weights, as its ``dpo_loss_fn`` does, then ``loss.backward()``. ``autograd only`` starts from
  ready tensors; ``lists in/out`` also builds the tensors from lists and converts the grads back, as
  the SDK's ``forward_backward_custom`` does.

Medians of ``--repeats`` interleaved rounds (tinkerlite and torch alternate; wall and CPU time), one
thread each (``torch.set_num_threads(1)``; numpy without BLAS threading
matters little here: the work is elementwise).

    python bench/bench_dpo.py                 # creates the venv on first use (tests/official_env.py)
    python bench/bench_dpo.py --no-official   # tinkerlite only
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._interleave import Worker, interleave, median_pair, ratio_line, timed  # noqa: E402
from tinkerlite.backend import available_backends, set_backend  # noqa: E402
from tinkerlite.preference.dpo_loss import make_dpo_loss_fn  # noqa: E402
from tinkerlite.types import Datum, ModelInput, TensorData  # noqa: E402

OFFICIAL_SCRIPT = r"""
import json, statistics, sys, time
import torch
from tinker_cookbook.preference.train_dpo import compute_dpo_loss

torch.set_num_threads(1)
d = json.load(open(sys.argv[1])); beta = d["beta"]
lps, refs, ws = d["logprobs"], d["refs"], d["weights"]
ref_t = [torch.tensor(r) for r in refs]
w_t = [torch.tensor(w) for w in ws]

def step(tensors):
    c = [torch.dot(tensors[i].float(), w_t[i].float()) for i in range(0, len(tensors), 2)]
    r = [torch.dot(tensors[i].float(), w_t[i].float()) for i in range(1, len(tensors), 2)]
    cr = [torch.dot(ref_t[i].float(), w_t[i].float()) for i in range(0, len(tensors), 2)]
    rr = [torch.dot(ref_t[i].float(), w_t[i].float()) for i in range(1, len(tensors), 2)]
    loss, metrics = compute_dpo_loss(c, r, cr, rr, beta)
    loss.backward()
    return loss, metrics

pre = [torch.tensor(lp, requires_grad=True) for lp in lps]

def autograd_only():
    for t in pre:
        t.grad = None
    step(pre)

def lists_in_out():
    ts = [torch.tensor(lp, dtype=torch.float32, requires_grad=True) for lp in lps]
    loss, metrics = step(ts)
    grads = [t.grad.reshape(-1).tolist() for t in ts]
    return float(loss.item()), grads

loss, grads = lists_in_out()
_serve({"autograd only": autograd_only, "lists in/out": lists_in_out}, {"loss": loss, "grad0": grads[0][-1]})
"""


def make_inputs(n_pairs: int, n_tokens: int, seed: int = 0, fractional: bool = False) -> dict[str, Any]:
    rng = random.Random(seed)
    lps, refs, ws = [], [], []
    for _ in range(2 * n_pairs):
        prompt = rng.randrange(16, 128)
        lp = [-rng.expovariate(1.0) for _ in range(n_tokens)]
        lps.append(lp)
        refs.append([x + rng.gauss(0, 0.05) for x in lp])
        # A prompt mask (what DPO datums carry), or with --fractional per-token weights in (0, 1]
        # (the pure backend's general path, no prompt-mask shortcut).
        ws.append(
            [0.0] * prompt
            + ([rng.uniform(0.1, 1.0) for _ in range(n_tokens - prompt)] if fractional else [1.0] * (n_tokens - prompt))
        )
    return {"beta": 0.1, "logprobs": lps, "refs": refs, "weights": ws}


def official_python() -> Path:
    """The same pinned venv as the goldens (tests/golden/make_dpo_goldens.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_dpo_goldens", REPO / "tests" / "golden" / "make_dpo_goldens.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    py: Path = module.official_python()
    return py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=64)
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-official", action="store_true")
    ap.add_argument("--fractional", action="store_true", help="weights in (0, 1] instead of a 0/1 prompt mask")
    args = ap.parse_args()
    inputs = make_inputs(args.pairs, args.tokens, fractional=args.fractional)
    n = len(inputs["logprobs"])
    data = [
        Datum(
            model_input=ModelInput.from_ints([0] * args.tokens),
            loss_fn_inputs={
                "target_tokens": TensorData([1] * args.tokens, "int64", [args.tokens]),
                "weights": TensorData(inputs["weights"][i], "float32", [args.tokens]),
            },
        )
        for i in range(n)
    ]
    loss_fn = make_dpo_loss_fn(inputs["refs"], inputs["beta"])
    print(
        f"DPO loss + gradient, {args.pairs} pairs x {args.tokens} tokens, medians of {args.repeats} interleaved "
        f"rounds; load average {os.getloadavg()}"
    )
    ours: dict[str, Any] = {}

    def run_ours(name: str) -> Callable[[], tuple[float, float]]:
        def run() -> tuple[float, float]:
            set_backend(name)
            t = timed(lambda: ours.__setitem__(name, loss_fn(data, inputs["logprobs"])))
            return t

        return run

    contenders: dict[str, Callable[[], tuple[float, float]]] = {
        f"tinkerlite {name}": run_ours(name) for name in available_backends()
    }
    with ExitStack() as stack:
        worker: Worker | None = None
        if not args.no_official:
            py = official_python()
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            path = Path(tmp) / "in.json"
            path.write_text(json.dumps(inputs))
            worker = stack.enter_context(Worker(py, OFFICIAL_SCRIPT, [str(path)], env=dict(os.environ)))
            for k in ("autograd only", "lists in/out"):
                contenders[f"torch {k}"] = partial(worker.timed, k)
        runs = interleave(contenders, args.repeats)
        if worker is not None:
            print(
                f"loss: tinkerlite {ours['pure'][0]:.9f}  torch {worker.info['loss']:.9f}  (grad[0][-1]: "
                f"{ours['pure'][2][0][-1]:.3e} vs {worker.info['grad0']:.3e})"
            )
    for name, samples in runs.items():
        wall, cpu = median_pair(samples)
        print(f"  {name:<24} {wall * 1e3:9.2f} ms wall  {cpu * 1e3:9.2f} ms CPU")
    if "torch lists in/out" in runs:
        for name in [n for n in runs if n.startswith("tinkerlite")]:
            print("  " + ratio_line(f"{name} / torch lists in/out", runs[name], runs["torch lists in/out"]))


if __name__ == "__main__":
    main()
