"""Regenerate tests/golden/rl_goldens.json by running the OFFICIAL cookbook's RL data processing and metrics.

    python tests/golden/make_rl_goldens.py

creates (once) the throwaway venv ``~/.cache/tinkerlite/official-venvs/cookbook-0.6.1`` with tinker==0.38.0,
torch==2.13.0 and
``tinker-cookbook==0.6.1 --no-deps`` plus what ``rl/data_processing.py``, ``rl/metrics.py`` and
``rl/metric_util.py`` import, then re-runs itself there with ``--official``. Inputs are generated from a
fixed seed with the stdlib only and stored in the file next to the official outputs, so the tinkerlite
test (tests/rl/test_goldens.py) rebuilds the same trajectories and compares.

Covered: ``compute_advantages``, ``assemble_training_data`` (merging, non-prefix splits, parse-error
masked turns, provenance with and without sequence ids), ``remove_constant_reward_groups``,
``compute_kl_sample_train``, ``incorporate_kl_penalty`` (with and without discounting), ``compute_post_kl``
and ``compute_trajectory_metrics``. Reference logprobs are fed through a fake sampling client that
answers ``sample(..., include_prompt_logprobs=True)`` with stored numbers.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "rl_goldens.json"
VENV_NAME = "cookbook-0.6.1"
REQUIREMENTS = [
    "tinker==0.38.0",
    "torch==2.13.0",
    "numpy",
    "chz",
    "pillow",
    "typing_extensions",
]
COOKBOOK = "tinker-cookbook==0.6.1"


def official_python() -> Path:
    sys.path.insert(0, str(REPO))
    from tests.official_env import ensure_venv

    py = ensure_venv(VENV_NAME, REQUIREMENTS)
    probe = subprocess.run([str(py), "-c", "import tinker_cookbook"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check", COOKBOOK], check=True
        )
    return py


# ---- inputs (stdlib only; the test rebuilds objects from these specs) ------------------------------------


def _lp(rng: random.Random, n: int) -> list[float]:
    return [round(-rng.expovariate(1.5), 6) for _ in range(n)]


def _toks(rng: random.Random, n: int) -> list[int]:
    return [rng.randrange(0, 256) for _ in range(n)]


def make_trajectory(rng: random.Random, kind: str, seq_prefix: str) -> dict[str, Any]:
    """A trajectory spec: transitions with observation tokens, action tokens/logprobs, reward, metrics."""
    transitions: list[dict[str, Any]] = []
    n_turns = {"single": 1, "merge": 3, "split": 3, "masked": 3, "noseq": 2, "partial_seq": 3}[kind]
    seq: list[int] = []
    for t in range(n_turns):
        new_ob = _toks(rng, rng.randint(1, 6))
        if kind == "split" and t == 1:
            ob = new_ob  # not an extension: starts a new datum
        else:
            ob = seq + new_ob
        ac_n = rng.randint(0 if kind == "partial_seq" and t == 2 else 1, 5)
        ac = _toks(rng, ac_n)
        sid: str | None = f"{seq_prefix}-{t}"
        if kind == "noseq" or (kind == "partial_seq" and t == 1):
            sid = None
        metrics: dict[str, float] = {"format": float(rng.random() < 0.8)}
        if kind == "masked" and t == 1:
            metrics["parse_error_masked"] = 1.0
        if rng.random() < 0.5:
            metrics["turn_score"] = round(rng.random(), 4)
        transitions.append(
            {
                "ob": ob,
                "ac_tokens": ac,
                "ac_logprobs": _lp(rng, ac_n),
                "reward": rng.choice([0.0, 0.0, 0.5, 1.0, -0.25]),
                "episode_done": t == n_turns - 1,
                "metrics": metrics,
                "sequence_id": sid,
                "prompt_cache_hit_tokens": rng.randrange(0, 3),
            }
        )
        seq = ob + ac
    return {"transitions": transitions, "final_ob": seq}


def make_inputs(seed: int = 20261125) -> dict[str, Any]:
    rng = random.Random(seed)
    kinds = ["single", "merge", "split", "masked", "noseq", "partial_seq"]
    groups = []
    for g in range(7):
        size = rng.randint(2, 5)
        trajs = [make_trajectory(rng, rng.choice(kinds), f"g{g}t{i}") for i in range(size)]
        if g == 3:  # a constant-reward group
            for tr in trajs:
                for step in tr["transitions"]:
                    step["reward"] = 0.0
            final = [1.0] * size
        else:
            final = [rng.choice([0.0, 0.25, 1.0]) for _ in range(size)]
        groups.append(
            {
                "trajectories": trajs,
                "final_rewards": final,
                "metrics": [{"correct": float(rng.random() < 0.5)} for _ in range(size)],
                "tags": ["math", "easy"] if g % 2 == 0 else ["math"],
            }
        )
    groups.append(
        {
            "trajectories": [make_image_trajectory(rng, f"img{i}") for i in range(3)],
            "final_rewards": [0.0, 1.0, 0.5],
            "metrics": [{} for _ in range(3)],
            "tags": ["vision"],
        }
    )
    return {"seed": seed, "groups": groups}


def make_image_trajectory(rng: random.Random, seq_prefix: str) -> dict[str, Any]:
    """Two merging turns whose first observation holds an image chunk ({"image": n_tokens, "data": hex})."""
    image = {"image": rng.randint(2, 4), "data": bytes(rng.randrange(256) for _ in range(8)).hex()}
    first_ob: list[Any] = [*_toks(rng, 2), image, *_toks(rng, 3)]
    a1 = _toks(rng, 2)
    second_ob = [*first_ob, *a1, *_toks(rng, 2)]
    a2 = _toks(rng, 3)
    transitions = [
        {
            "ob": ob,
            "ac_tokens": ac,
            "ac_logprobs": _lp(rng, len(ac)),
            "reward": 0.5,
            "episode_done": k == 1,
            "metrics": {},
            "sequence_id": f"{seq_prefix}-{k}",
            "prompt_cache_hit_tokens": 0,
        }
        for k, (ob, ac) in enumerate(((first_ob, a1), (second_ob, a2)))
    ]
    return {"transitions": transitions, "final_ob": [*second_ob, *a2]}


# ---- the official side ---------------------------------------------------------------------------------


def _stub_unused_imports() -> list[str]:
    """Empty stand-ins for heavy modules the cookbook imports at package level but the functions under test
    never touch (``supervised/data.py``'s ``blobfile``/``datasets``); recorded in the output."""
    import importlib.util
    import types

    stubbed = []
    for name in ("blobfile", "datasets"):
        if importlib.util.find_spec(name) is None:
            mod = types.ModuleType(name)
            mod.__file__ = f"<stub {name}>"

            def _missing(attr: str) -> Any:
                if attr.startswith("__"):
                    raise AttributeError(attr)
                return type(attr, (), {})

            mod.__getattr__ = _missing  # type: ignore[method-assign]
            sys.modules[name] = mod
            stubbed.append(name)
    return stubbed


def run_official(inputs: dict[str, Any]) -> dict[str, Any]:
    import importlib.metadata

    stubbed = _stub_unused_imports()
    from types import SimpleNamespace

    import tinker
    import torch
    from tinker_cookbook.completers import TokensWithLogprobs
    from tinker_cookbook.rl import data_processing as dp
    from tinker_cookbook.rl import metrics as rm
    from tinker_cookbook.rl.types import Trajectory, TrajectoryGroup, Transition

    try:
        from tinker_cookbook.rl.metric_util import compute_trajectory_metrics
    except Exception as e:  # pragma: no cover - depends on optional deps of the venv
        print(f"metric_util unavailable: {e!r}", file=sys.stderr)
        compute_trajectory_metrics = None

    def model_input(items: list[Any]) -> Any:
        chunks: list[Any] = []
        for item in items:
            if isinstance(item, dict):
                chunks.append(
                    tinker.types.ImageChunk(
                        data=bytes.fromhex(item["data"]), format="png", expected_tokens=item["image"]
                    )
                )
            elif chunks and isinstance(chunks[-1], tinker.EncodedTextChunk):
                chunks[-1] = tinker.EncodedTextChunk(tokens=[*chunks[-1].tokens, item])
            else:
                chunks.append(tinker.EncodedTextChunk(tokens=[item]))
        return tinker.ModelInput(chunks=chunks)

    def traj(spec: dict[str, Any]) -> Trajectory:
        trs = [
            Transition(
                ob=model_input(s["ob"]),
                ac=TokensWithLogprobs(
                    tokens=s["ac_tokens"],
                    maybe_logprobs=s["ac_logprobs"],
                    sequence_id=s["sequence_id"],
                    prompt_cache_hit_tokens=s["prompt_cache_hit_tokens"],
                ),
                reward=s["reward"],
                episode_done=s["episode_done"],
                metrics=dict(s["metrics"]),
            )
            for s in spec["transitions"]
        ]
        return Trajectory(transitions=trs, final_ob=model_input(spec["final_ob"]))

    groups = [
        TrajectoryGroup([traj(t) for t in g["trajectories"]], list(g["final_rewards"]), [dict(m) for m in g["metrics"]])
        for g in inputs["groups"]
    ]
    out: dict[str, Any] = {
        "versions": {
            "tinker-cookbook": importlib.metadata.version("tinker-cookbook"),
            "tinker": importlib.metadata.version("tinker"),
            "torch": torch.__version__,
        },
        "stubbed_modules": stubbed,
    }
    advs = dp.compute_advantages(groups)
    out["advantages"] = [a.tolist() for a in advs]
    kept = dp.remove_constant_reward_groups(groups)
    out["remove_constant_reward_groups"] = [groups.index(g) for g in kept]

    def dump_datum(d: Any) -> dict[str, Any]:
        spans = None
        if d.model_input_spans is not None:
            spans = {
                name: [[type(s).__name__, s.sequence_id, s.offset, s.length] for s in getattr(d, f"{name}_spans")]
                for name in ("model_input", "loss_fn_input")
            }
        return {
            "model_input": [
                list(c.tokens) if isinstance(c, tinker.EncodedTextChunk) else {"image": c.length}
                for c in d.model_input.chunks
            ],
            "loss_fn_inputs": {k: v.tolist() for k, v in d.loss_fn_inputs.items()},
            "spans": spans,
        }

    for include in (True, False):
        data, meta = dp.assemble_training_data(groups, advs, include_provenance=include)
        key = "assemble" if include else "assemble_no_provenance"
        out[key] = {"data": [dump_datum(d) for d in data], "metadata": meta}

    data, _ = dp.assemble_training_data(groups, advs)
    rng = random.Random(inputs["seed"] + 1)
    train_lp = [[round(-rng.expovariate(1.2), 6) for _ in range(d.model_input.length)] for d in data]
    out["training_logprobs"] = train_lp
    out["kl_sample_train"] = rm.compute_kl_sample_train(data, [torch.tensor(x) for x in train_lp])

    # Reference/post-update scores: one per full sequence (input + last target), position 0 None.
    base_lp = [[None] + [round(-rng.expovariate(1.0), 6) for _ in range(d.model_input.length)] for d in data]
    out["reference_prompt_logprobs"] = base_lp

    class FakeSampler:
        def __init__(self, answers: list[list[float | None]]) -> None:
            self.answers = answers
            self.seen: list[Any] = []

        def sample(self, prompt: Any, num_samples: int, sampling_params: Any, include_prompt_logprobs: bool) -> Any:
            assert include_prompt_logprobs
            tokens = [
                list(c.tokens) if isinstance(c, tinker.EncodedTextChunk) else {"image": c.length} for c in prompt.chunks
            ]
            idx = len(self.seen)
            self.seen.append(tokens)
            resp = SimpleNamespace(
                prompt_logprobs=self.answers[idx], prompt_cache_hit_tokens=0, sequences=[SimpleNamespace(tokens=[0])]
            )

            async def coro() -> Any:
                return resp

            return SimpleNamespace(coroutine=coro)

    import asyncio

    sampler = FakeSampler(base_lp)
    post_kl, _usage = asyncio.run(rm.compute_post_kl(data, sampler))
    out["post_kl"] = post_kl
    out["scored_sequences"] = sampler.seen
    for coef, gamma in ((0.1, 0.0), (0.05, 0.9)):
        fresh, _ = dp.assemble_training_data(groups, advs)
        kl_metrics, _u = asyncio.run(rm.incorporate_kl_penalty(fresh, FakeSampler(base_lp), coef, gamma))
        out[f"kl_penalty_{coef}_{gamma}"] = {
            "metrics": kl_metrics,
            "advantages": [d.loss_fn_inputs["advantages"].tolist() for d in fresh],
        }
    out["discounted_future_sum"] = {
        "x": [1.0, -2.0, 0.5, 3.0, 0.0, 1.5],
        "gamma": 0.7,
        "out": rm.discounted_future_sum_vectorized(torch.tensor([1.0, -2.0, 0.5, 3.0, 0.0, 1.5]), 0.7).tolist(),
    }
    if compute_trajectory_metrics is not None:
        out["trajectory_metrics"] = compute_trajectory_metrics(groups, [g["tags"] for g in inputs["groups"]])
        out["trajectory_metrics_untagged"] = compute_trajectory_metrics(groups, [[] for _ in groups])
    return out


def main() -> None:
    if "--official" in sys.argv:
        inputs = make_inputs()
        result = {"inputs": inputs, "official": run_official(inputs)}
        OUT.write_text(json.dumps(result, indent=None, separators=(",", ":")) + "\n")
        print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
        return
    py = official_python()
    subprocess.run([str(py), __file__, "--official"], check=True)


if __name__ == "__main__":
    main()
