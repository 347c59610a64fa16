"""Bench: the pipelined SFT loop under 100 ms of injected latency, and the official cookbook's loop.

    python bench/bench_sft.py [--steps 24] [--latency 0.1] [--no-cookbook]

Everything talks HTTP to one local server (``python -m tinkerlite serve``) in its own process; the
latency is a forwarding proxy, also in its own process, that sleeps ``--latency`` seconds before
passing each request on (every request pays it once: submits, ``retrieve_future`` polls, saves).

Workload: the built-in tiny model, the bundled tiny_chat.jsonl rendered with ``role_colon``,
batch 16, max_length 256, LoRA rank 8, no evals, no periodic saves. The figure is the steady-state
step rate: steps per second between the first and the last step's completion (setup, client creation
and the final save excluded). Rows:

1. tinkerlite, zero latency, ``submit_ahead`` 0 and 1 — the reference rate;
2. tinkerlite, ``--latency`` per request, ``submit_ahead`` 0 (unpipelined) and 1, 2, 4;
3. the official cookbook's ``supervised/train.py`` (tinker-cookbook 0.6.1 with tinker 0.38.0, in the
   throwaway venv ``~/.cache/tinkerlite/official-venvs/cookbook-0.6.1-dpo``), one run at zero latency and one at
   ``--latency``,
   fed the very same Datums (so no HF tokenizer is needed; its ``get_tokenizer`` and the pricing fetch
   are replaced by offline stand-ins that only matter for its logging).

``--only-cookbook-records`` instead checks what the cookbook's ``checkpoints.jsonl`` records claim
against what the saved weights contain (compared with an unpipelined reference loop, array by array).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

API_KEY = "tml-bench"
MODEL = "tinkerlite/tiny-chat"
BATCH, MAX_LENGTH, RANK, LR = 16, 256, 8, 1e-3


def _default_depth() -> int:
    """``supervised.train.Config.submit_ahead``'s default: what a user who does not set it gets."""
    import inspect

    from tinkerlite.supervised.train import Config

    return int(inspect.signature(Config).parameters["submit_ahead"].default)


DEFAULT_DEPTH = _default_depth()
# The cookbook venv that also has the cookbook's data-module imports (datasets, blobfile, termcolor).
COOKBOOK_VENV = "cookbook-0.6.1-dpo"
COOKBOOK_REQUIREMENTS = [
    "tinker==0.38.0", "torch==2.13.0", "numpy", "chz", "pillow", "typing_extensions",
    "datasets", "blobfile", "termcolor",
]  # fmt: skip


def _start(args: list[str], ready: str) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(ready, line)
        if m:
            return proc, m.group(1)
    raise RuntimeError(f"{args} did not start: {proc.communicate()[0]}")


def start_server(state_dir: str) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "tinkerlite", "serve", "--port", "0", "--state-dir", state_dir, "--api-key", API_KEY]
    return _start(cmd, r"listening on (http://\S+)")


def start_proxy(upstream: str, latency: float) -> tuple[subprocess.Popen[str], str]:
    code = (
        "import sys, time\n"
        "from tests.supervised_e2e.proxy import RecordingProxy\n"
        f"p = RecordingProxy({upstream!r}, latency_s={latency!r}).__enter__()\n"
        "print('proxy at', p.url, flush=True)\n"
        "while True: time.sleep(3600)\n"
    )
    return _start([sys.executable, "-c", code], r"proxy at (http://\S+)")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def builder(batch_size: int | None = None) -> Any:
    from tinkerlite._resources import example_data_path
    from tinkerlite.supervised.data import FromConversationFileBuilder
    from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig

    return FromConversationFileBuilder(
        common_config=ChatDatasetBuilderCommonConfig(
            model_name_for_tokenizer=MODEL,
            renderer_name="role_colon",
            max_length=MAX_LENGTH,
            batch_size=batch_size or BATCH,
        ),
        file_path=str(example_data_path("tiny_chat.jsonl")),
        test_size=0,
    )


def run_tinkerlite(url: str, steps: int, submit_ahead: int, log_dir: str) -> dict[str, float]:
    from tinkerlite.supervised.train import Config, run

    config = Config(
        log_path=log_dir, model_name=MODEL, recipe_name="bench_sft", dataset_builder=builder(), learning_rate=LR,
        lr_schedule="linear",
        num_epochs=10, max_steps=steps, lora_rank=RANK, base_url=url, api_key=API_KEY, save_every=0,
        eval_every=0, submit_ahead=submit_ahead, show_progress=False,
    )  # fmt: skip
    t0 = time.perf_counter()
    run(config)
    wall = time.perf_counter() - t0
    rows = [json.loads(x) for x in Path(log_dir, "metrics.jsonl").read_text().splitlines()]
    between = sum(r["time/total"] for r in rows if "train_mean_nll" in r and r["step"] > 0)  # first to last finish
    return {"steps_per_s": (steps - 1) / between, "wall_s": wall, "nll": rows[-1]["train_mean_nll"]}


COOKBOOK_DRIVER = r"""
import asyncio, json, sys, time
import chz, tinker
from tinker_cookbook.supervised import train
from tinker_cookbook.supervised.types import SupervisedDataset, SupervisedDatasetBuilder
from tinker_cookbook.utils import ml_log

spec = json.loads(sys.argv[1])
batches = json.load(open(spec["datums"]))

def to_datum(d):
    return tinker.Datum(
        model_input=tinker.ModelInput.from_ints(d["tokens"]),
        loss_fn_inputs={"weights": tinker.TensorData(data=d["weights"], dtype="float32", shape=[len(d["weights"])]),
                        "target_tokens": tinker.TensorData(
                            data=d["targets"], dtype="int64", shape=[len(d["targets"])])},
    )

class Fixed(SupervisedDataset):
    def __init__(self):
        self.batches = [[to_datum(d) for d in b] for b in batches]
    def get_batch(self, index):
        return self.batches[index]
    def __len__(self):
        return len(self.batches)
    def set_epoch(self, seed=0):
        pass

@chz.chz
class FixedBuilder(SupervisedDatasetBuilder):
    def __call__(self):
        return Fixed(), None

class OfflineTokenizer:  # only used for log lines and bits-per-byte; the datums are already tokenized
    all_special_ids = []
    def decode(self, tokens, **kw):
        return "".join(chr(32 + t % 90) for t in tokens)
    def is_special_token(self, t):
        return False

train.get_tokenizer = lambda name: OfflineTokenizer()
train.fetch_model_pricing = lambda name: None
finish_times = []
_setup = ml_log.setup_logging
def setup_logging(*a, **kw):
    logger = _setup(*a, **kw)
    inner = logger.log_metrics
    def log_metrics(metrics, step=None, *a2, **kw2):
        if "train_mean_nll" in metrics:
            finish_times.append(time.perf_counter())
        return inner(metrics, step, *a2, **kw2)
    logger.log_metrics = log_metrics
    return logger
train.ml_log.setup_logging = setup_logging

config = train.Config(
    recipe_name="bench_sft", log_path=spec["log_path"], model_name=spec["model"], dataset_builder=FixedBuilder(),
    learning_rate=spec["lr"],
    lr_schedule="linear", num_epochs=1, lora_rank=spec["rank"], base_url=spec["url"],
    save_every=spec.get("save_every", 0), eval_every=0, submit_ahead=spec.get("submit_ahead", 1),
)
t0 = time.perf_counter()
asyncio.run(train.main(config))
wall = time.perf_counter() - t0
n = len(finish_times)
print(json.dumps({"steps_per_s": (n - 1) / (finish_times[-1] - finish_times[0]), "wall_s": wall, "steps": n}))
"""


def fixed_batches(steps: int) -> list[list[Any]]:
    ds, _ = builder()()
    ds.set_epoch(seed=0)
    return [ds.get_batch(i % len(ds)) for i in range(steps)]


def run_cookbook(python: str, url: str, steps: int, log_dir: str, **extra: Any) -> dict[str, float]:
    batches = [
        [
            {"tokens": d.model_input.to_ints(), "weights": list(d.loss_fn_inputs["weights"].data),
             "targets": list(d.loss_fn_inputs["target_tokens"].data)}
            for d in data
        ]
        for data in fixed_batches(steps)
    ]  # fmt: skip
    datums = Path(log_dir) / "datums.json"
    datums.parent.mkdir(parents=True, exist_ok=True)
    datums.write_text(json.dumps(batches))
    spec = {"datums": str(datums), "log_path": str(Path(log_dir) / "log"), "model": MODEL, "lr": LR, "rank": RANK,
            "url": url, **extra}  # fmt: skip
    env = dict(os.environ, TINKER_API_KEY=API_KEY, TINKER_BASE_URL=url)
    out = subprocess.run(
        [python, "-c", COOKBOOK_DRIVER, json.dumps(spec)], env=env, capture_output=True, text=True, timeout=900
    )
    if out.returncode != 0:
        raise RuntimeError(f"cookbook run failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def check_cookbook_records(python: str, url: str, state_dir: str, tmp: str, steps: int = 6) -> None:
    """Which steps do the cookbook's checkpoint records say their weights contain, and which do they?

    A record's ``batch`` is "the next batch to execute" on resume, so its weights should contain exactly
    ``epoch * n_batches + batch`` steps. The reference is an unpipelined loop (train, wait, save) over the
    same Datums with the same LR schedule and Adam settings; weights are compared array by array.
    """
    from tests.supervised_e2e.helpers import checkpoint_arrays
    from tinkerlite.client.service_client import ServiceClient
    from tinkerlite.types import AdamParams
    from tinkerlite.utils.lr_scheduling import compute_schedule_lr_multiplier

    sc = ServiceClient(base_url=url, api_key=API_KEY)
    try:
        tc = sc.create_lora_training_client(base_model=MODEL, rank=RANK).result()
        ref = [checkpoint_arrays(state_dir, tc.save_state("ref0").result().path)]
        for step, data in enumerate(fixed_batches(steps)):
            tc.forward_backward(data, loss_fn="cross_entropy").result()
            lr = LR * compute_schedule_lr_multiplier("linear", step, steps)
            tc.optim_step(AdamParams(learning_rate=lr, beta1=0.9, beta2=0.95, eps=1e-8)).result()
            ref.append(checkpoint_arrays(state_dir, tc.save_state(f"ref{step + 1}").result().path))
    finally:
        sc.close()
    for submit_ahead in (0, 1):
        log_dir = os.path.join(tmp, f"cb-records-{submit_ahead}")
        run_cookbook(python, url, steps, log_dir, save_every=1, submit_ahead=submit_ahead)
        records = [json.loads(x) for x in Path(log_dir, "log", "checkpoints.jsonl").read_text().splitlines()]
        for r in records:
            arrays = checkpoint_arrays(state_dir, r["state_path"])
            contains = [k for k, a in enumerate(ref) if a == arrays]
            claimed = r["epoch"] * steps + r["batch"] if not r.get("final") else steps
            print(
                f"  cookbook submit_ahead={submit_ahead} record {r['name']}: resume would start at step "
                f"{claimed}; weights contain {contains[0] if contains else '?'} steps"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=16, help="conversations per step (server work per step)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved repetitions of each tinkerlite row (median)")
    ap.add_argument("--depths", default="0,1,2,4", help="submit_ahead values timed at --latency (the default added)")
    ap.add_argument("--no-cookbook", action="store_true")
    ap.add_argument("--only-cookbook-records", action="store_true", help="just check the cookbook's resume records")
    args = ap.parse_args()
    global BATCH
    BATCH = args.batch
    tmp = tempfile.mkdtemp(prefix="bench-sft-")
    state = os.path.join(tmp, "state")
    server, url = start_server(state)
    proxy, slow_url = start_proxy(url, args.latency)
    results: dict[str, dict[str, float]] = {}
    paired_ratio: dict[str, float] = {}
    per_round: dict[str, list[float]] = {}
    best: dict[str, float] = {}
    if args.only_cookbook_records:
        from tests.official_env import ensure_venv

        try:
            check_cookbook_records(str(ensure_venv(COOKBOOK_VENV, COOKBOOK_REQUIREMENTS)), url, state, tmp)
        finally:
            stop(proxy)
            stop(server)
        return
    try:

        def row(name: str, r: dict[str, float]) -> None:
            results[name] = r
            print(f"{name:<44} {r['steps_per_s']:6.3f} steps/s   wall {r['wall_s']:6.1f} s", flush=True)

        lat = f"{args.latency * 1000:.0f} ms"
        run_tinkerlite(url, 4, DEFAULT_DEPTH, os.path.join(tmp, "warmup"))  # first-use costs (imports, base weights)
        # The machine is shared and noisy: rows are interleaved round by round and the median is kept.
        depths = sorted({int(x) for x in args.depths.split(",")} | {DEFAULT_DEPTH})
        rows = [(f"tinkerlite 0 ms, submit_ahead={sa}", url, sa) for sa in sorted({0, 1, DEFAULT_DEPTH})]
        rows += [(f"tinkerlite {lat}, submit_ahead={sa}", slow_url, sa) for sa in depths]
        samples: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in rows}
        for rnd in range(args.rounds):
            for i, (name, u, sa) in enumerate(rows):
                samples[name].append(run_tinkerlite(u, args.steps, sa, os.path.join(tmp, f"r{rnd}-{i}")))
        ref_name = f"tinkerlite 0 ms, submit_ahead={DEFAULT_DEPTH}"
        for name, _, _ in rows:
            rates = sorted(s["steps_per_s"] for s in samples[name])
            walls = sorted(s["wall_s"] for s in samples[name])
            row(name, {"steps_per_s": rates[len(rates) // 2], "wall_s": walls[len(walls) // 2]})
            best[name] = rates[-1]
            # Same-round ratio to the zero-latency row at the default depth: drift on the shared machine cancels.
            pairs = zip(samples[name], samples[ref_name], strict=True)
            per_round[name] = [a["steps_per_s"] / b["steps_per_s"] for a, b in pairs]
            paired = sorted(per_round[name])
            paired_ratio[name] = paired[len(paired) // 2]
            print(
                f"{'':<44} samples: {', '.join(f'{r:.3f}' for r in rates)}; best {rates[-1]:.3f}; "
                f"same-round ratios {', '.join(f'{r:.1%}' for r in per_round[name])}"
            )
        if not args.no_cookbook:
            from tests.official_env import ensure_venv

            py = str(ensure_venv(COOKBOOK_VENV, COOKBOOK_REQUIREMENTS))
            row("official cookbook 0 ms (submit_ahead=1)", run_cookbook(py, url, args.steps, os.path.join(tmp, "cb0")))
            cb_slow = run_cookbook(py, slow_url, args.steps, os.path.join(tmp, "cbl"))
            row(f"official cookbook {lat} (submit_ahead=1)", cb_slow)
    finally:
        stop(proxy)
        stop(server)

    ref_row = f"tinkerlite 0 ms, submit_ahead={DEFAULT_DEPTH}"
    ref = results[ref_row]["steps_per_s"]
    print(f"\nratios to the zero-latency rate at the default depth, submit_ahead={DEFAULT_DEPTH} ({ref:.3f} steps/s):")
    for name, r in results.items():
        print(f"  {name:<44} {r['steps_per_s'] / ref:6.1%}")
    for sa in depths:
        name = f"tinkerlite {lat}, submit_ahead={sa}"
        tag = " (the default)" if sa == DEFAULT_DEPTH else ""
        print(
            f"{name}{tag}: same-round ratio to the 0 ms rate: median {paired_ratio[name]:.1%}, "
            f"worst {min(per_round[name]):.1%} of {len(per_round[name])} rounds (target >= 95% every run); "
            f"best run / best 0 ms run {best[name] / best[ref_row]:.1%} (the least disturbed runs)"
        )
    for tag in ("0 ms", lat):
        cb = results.get(f"official cookbook {tag} (submit_ahead=1)")
        tl = results.get(f"tinkerlite {tag}, submit_ahead=1")
        if cb and tl:
            print(f"tinkerlite / cookbook at {tag}, submit_ahead=1: {tl['steps_per_s'] / cb['steps_per_s']:.2f}x")


if __name__ == "__main__":
    main()
