"""Regenerate tests/golden/dpo_goldens.json: the OFFICIAL cookbook's DPO step (torch autograd) and its
on-policy distillation KL step, on stored inputs.

    python tests/golden/make_dpo_goldens.py

creates (once) the throwaway venv ``~/.cache/tinkerlite/official-venvs/cookbook-0.6.1-dpo`` with tinker==0.38.0, CPU
torch==2.13.0 and ``tinker-cookbook==0.6.1 --no-deps`` plus what ``preference/train_dpo.py`` imports
(chz, numpy, pillow, datasets, blobfile, termcolor), then re-runs itself there with ``--official``.

The official side is driven through ``train_dpo.do_update`` itself, not a re-typed formula: a fake
dataset hands it interleaved (chosen, rejected) ``tinker.Datum`` s, a fake reference client answers
``compute_logprobs`` with stored numbers (position 0 ``None``), and a fake training client's
``forward_backward_custom`` does what the SDK does: logprob tensors with ``requires_grad``, the
cookbook's loss closure, ``loss.backward()``. The recorded gradients are ∂loss/∂logprobs per datum.
Inputs come from a fixed seed with the stdlib only and are stored next to the outputs.

Distillation: ``distillation.train_on_policy.incorporate_kl_penalty`` on datums with sampled logprobs,
masks and advantages, each scored by a fake teacher client with stored logprobs, rewrites the
advantages and returns ``teacher_kl`` (overall and per dataset).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "dpo_goldens.json"
VENV_NAME = "cookbook-0.6.1-dpo"
REQUIREMENTS = [
    "tinker==0.38.0",
    "torch==2.13.0",
    "numpy",
    "chz",
    "pillow",
    "typing_extensions",
    "datasets",
    "blobfile",
    "termcolor",
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


# ---- inputs (stdlib only) ----------------------------------------------------------------------------------


def _seq(rng: random.Random, prompt_len: int, completion_len: int, fractional: bool) -> dict[str, Any]:
    n = prompt_len + completion_len
    tokens = [rng.randrange(0, 512) for _ in range(n + 1)]
    weights = [0.0] * prompt_len + [
        (round(rng.uniform(0.2, 1.5), 4) if fractional else 1.0) for _ in range(completion_len)
    ]
    logprobs = [round(-rng.expovariate(0.8), 6) for _ in range(n)]
    ref = [round(lp + rng.gauss(0.0, 0.3), 6) for lp in logprobs]
    return {"tokens": tokens, "weights": weights, "logprobs": logprobs, "ref": ref}


def make_inputs() -> list[dict[str, Any]]:
    rng = random.Random(20261125)
    cases: list[dict[str, Any]] = []
    for beta, n_pairs, fractional, scale in (
        (0.1, 1, False, 1.0),
        (0.1, 4, False, 1.0),
        (0.5, 3, True, 1.0),
        (1.0, 6, False, 1.0),
        (0.05, 8, True, 1.0),
        (2.0, 2, False, 40.0),  # |z| of 60-90: σ(±z) underflows float32, the stable log-sigmoid path on both sides
        (3.0, 2, False, -40.0),
    ):
        pairs = []
        for _ in range(n_pairs):
            p = rng.randrange(1, 6)
            c = _seq(rng, p, rng.randrange(1, 25), fractional)
            r = _seq(rng, p, rng.randrange(1, 25), fractional)
            if scale != 1.0:  # push Δc − Δr far from 0 by moving the policy away from the reference
                c["logprobs"] = [round(x + scale / max(1, len(c["logprobs"])), 6) for x in c["logprobs"]]
            pairs.append({"chosen": c, "rejected": r})
        cases.append({"beta": beta, "pairs": pairs})
    return cases


def make_distill_inputs() -> list[dict[str, Any]]:
    """Datums with sampled logprobs, masks and advantages, teacher answers, and dataset indices."""
    rng = random.Random(7)
    cases = []
    for coef, gamma in ((1.0, 0.0), (0.5, 0.9), (2.0, 0.5)):
        datums = []
        for _ in range(5):
            ob, ac = rng.randrange(1, 6), rng.randrange(1, 10)
            n = ob + ac
            datums.append(
                {
                    "tokens": [rng.randrange(0, 512) for _ in range(n + 1)],
                    "logprobs": [0.0] * (ob - 1) + [round(-rng.expovariate(1.0), 6) for _ in range(ac + 1)],
                    "mask": [0.0] * (ob - 1) + [1.0] * (ac + 1),
                    "advantages": [0.0] * (ob - 1) + [round(rng.uniform(-1, 1), 4)] * (ac + 1),
                    "teacher": [None] + [round(-rng.expovariate(0.5), 6) for _ in range(n)],
                    "dataset": rng.randrange(0, 2),
                }
            )
        cases.append({"coef": coef, "gamma": gamma, "datums": datums})
    return cases


# ---- the official side -------------------------------------------------------------------------------------


def run_official(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_official_case(case) for case in cases]


def _official_case(case: dict[str, Any]) -> dict[str, Any]:
    from types import SimpleNamespace

    import tinker  # type: ignore[import-not-found,unused-ignore]
    import torch  # type: ignore[import-not-found,unused-ignore]
    from tinker_cookbook.preference import train_dpo  # type: ignore[import-not-found,unused-ignore]

    data, ref_answers = [], []
    for pair in case["pairs"]:
        for side in ("chosen", "rejected"):
            s = pair[side]
            toks = s["tokens"]
            data.append(
                tinker.Datum(
                    model_input=tinker.ModelInput.from_ints(toks[:-1]),
                    loss_fn_inputs={
                        "target_tokens": tinker.TensorData(data=toks[1:], dtype="int64", shape=[len(toks) - 1]),
                        "weights": tinker.TensorData(data=s["weights"], dtype="float32", shape=[len(toks) - 1]),
                    },
                )
            )
            ref_answers.append([None, *s["ref"]])
    policy = [s[side]["logprobs"] for s in case["pairs"] for side in ("chosen", "rejected")]
    captured: dict[str, Any] = {}

    class RefClient:
        def __init__(self) -> None:
            self.i = 0

        def compute_logprobs(self, seq: Any) -> Any:
            answer = ref_answers[self.i]
            assert len(seq.to_ints()) == len(answer), (len(seq.to_ints()), len(answer))
            self.i += 1

            async def coro() -> Any:
                return answer

            return SimpleNamespace(coroutine=coro)

    class TrainingClient:
        def forward_backward_custom(self, batch: list[Any], loss_fn: Any) -> Any:
            tensors = [torch.tensor(lp, dtype=torch.float32, requires_grad=True) for lp in policy]
            loss, metrics = loss_fn(batch, tensors)
            loss.backward()
            captured["loss"] = float(loss.item())
            captured["grads"] = [t.grad.tolist() for t in tensors]
            return SimpleNamespace(result=lambda: SimpleNamespace(metrics=dict(metrics)))

        def optim_step(self, params: Any) -> Any:
            captured["lr"] = params.learning_rate
            return SimpleNamespace(result=lambda: None)

    logged: list[dict[str, Any]] = []
    config = SimpleNamespace(
        learning_rate=1e-5,
        lr_schedule="linear",
        adam_beta1=0.9,
        adam_beta2=0.95,
        adam_eps=1e-8,
        eval_every=0,
        infrequent_eval_every=0,
        dpo_beta=case["beta"],
        span_chart_every=0,
    )
    train_dpo.do_update(
        epoch_idx=0,
        batch_idx=1,  # not step 0: that would print examples through the tokenizer
        n_batches=4,
        total_steps=4,
        config=config,
        training_client=TrainingClient(),
        reference_client=RefClient(),
        evaluators=[],
        infrequent_evaluators=[],
        dataset=SimpleNamespace(get_batch=lambda i: data),
        ml_logger=SimpleNamespace(log_metrics=lambda metrics, step: logged.append(dict(metrics)), store=None),
        log_path="/nonexistent",
        tokenizer=None,
        checkpoint_mgr=None,
    )
    m = logged[-1]
    return {
        "loss": captured["loss"],
        "grads": captured["grads"],
        "metrics": {k: m[k] for k in ("dpo_loss", "accuracy", "margin", "chosen_reward", "rejected_reward")},
        "learning_rate": captured["lr"],
        "num_pairs": m["num_pairs"],
    }


def run_official_distill(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``distillation.train_on_policy.incorporate_kl_penalty`` with fake per-datum teacher clients."""
    import asyncio
    from types import SimpleNamespace

    import tinker  # type: ignore[import-not-found,unused-ignore]
    from tinker_cookbook.distillation import train_on_policy  # type: ignore[import-not-found,unused-ignore]

    def teacher(answer: list[Any]) -> Any:
        async def coro() -> Any:
            return answer

        return SimpleNamespace(compute_logprobs=lambda seq: SimpleNamespace(coroutine=coro))

    out = []
    for case in cases:
        data = []
        for d in case["datums"]:
            toks, n = d["tokens"], len(d["tokens"]) - 1
            data.append(
                tinker.Datum(
                    model_input=tinker.ModelInput.from_ints(toks[:-1]),
                    loss_fn_inputs={
                        "target_tokens": tinker.TensorData(data=toks[1:], dtype="int64", shape=[n]),
                        "logprobs": tinker.TensorData(data=d["logprobs"], dtype="float32", shape=[n]),
                        "mask": tinker.TensorData(data=d["mask"], dtype="float32", shape=[n]),
                        "advantages": tinker.TensorData(data=d["advantages"], dtype="float32", shape=[n]),
                    },
                )
            )
        metrics = asyncio.run(
            train_on_policy.incorporate_kl_penalty(
                data,
                [teacher(d["teacher"]) for d in case["datums"]],
                [d["dataset"] for d in case["datums"]],
                case["coef"],
                case["gamma"],
            )
        )
        out.append({"metrics": metrics, "advantages": [list(x.loss_fn_inputs["advantages"].tolist()) for x in data]})
    return out


def main() -> None:
    if "--official" in sys.argv:
        cases = make_inputs()
        distill = make_distill_inputs()
        result = {
            "source": "tinker-cookbook==0.6.1 preference/train_dpo.do_update, torch==2.13.0 autograd (float32)",
            "cases": cases,
            "official": run_official(cases),
            "distill_cases": distill,
            "distill_official": run_official_distill(distill),
        }
        OUT.write_text(json.dumps(result, separators=(",", ":")) + "\n")
        print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
        return
    py = official_python()
    subprocess.run([str(py), __file__, "--official"], check=True)


if __name__ == "__main__":
    main()
