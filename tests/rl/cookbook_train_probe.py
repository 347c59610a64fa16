"""Drives the cookbook 0.6.1's rl.train / display functions with a recording training client; prints JSON.

Written against the official packages (``tinker``, ``tinker_cookbook``). tests/rl/test_train_vs_cookbook.py
runs it twice: as is in the official venv, and through ``rewrite_imports`` (the port's one allowed edit) on
tinkerlite, then compares the two outputs. Standard library plus the packages under test only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from typing import Any
from unittest.mock import MagicMock

import tinker
from tinker_cookbook.completers import TokensWithLogprobs
from tinker_cookbook.display import format_trajectory
from tinker_cookbook.rl import train
from tinker_cookbook.rl.types import RLDatasetBuilder, Trajectory, TrajectoryGroup, Transition


class Tok:
    def decode(self, ids: list[int]) -> str:
        return "".join(chr(65 + i % 26) for i in ids)

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [ord(c) for c in text]


class Done:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        return self._get().__await__()

    async def _get(self) -> Any:
        return self.value

    def result(self) -> Any:
        return self.value


class Out:
    def __init__(self, loss_fn_outputs: list[dict[str, Any]], metrics: dict[str, float]) -> None:
        self.loss_fn_outputs, self.metrics = loss_fn_outputs, metrics


class Trainer:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def forward_backward(self, data: list[Any], loss_fn: str, loss_fn_config: Any = None) -> Done:
        self.calls.append(f"fwd:{len(data)}")
        outs = [
            {
                "logprobs": tinker.TensorData(
                    data=[-0.5] * d.model_input.length, dtype="float32", shape=[d.model_input.length]
                )
            }
            for d in data
        ]
        return Done(Out(outs, {"loss:sum": 1.0}))

    def optim_step(self, adam: Any) -> Done:
        self.calls.append(f"optim:{adam.learning_rate}")
        return Done(Out([], {"optim/n": float(len(self.calls))}))

    def save_weights_and_get_sampling_client(self, record_stability_info: bool = False) -> Done:
        self.calls.append(f"snapshot:{record_stability_info}")
        return Done("snapshot")

    def create_sampling_client(self, path: str, record_stability_info: bool = False) -> Done:
        self.calls.append(f"sampler:{path}")
        return Done(path)


class Checkpoints:
    def __init__(self, due: set[int]) -> None:
        self.due = due
        self.saved: list[Any] = []

    def should_save_periodic(self, step: int) -> bool:
        return step in self.due

    async def save_periodic_async(self, step: int, loop_state: dict[str, Any]) -> dict[str, str]:
        self.saved.append([step, sorted(loop_state)])
        return {"sampler_path": f"path-{step}", "state_path": "state"}


class Builder:
    def __init__(self, tag: str) -> None:
        self.tag = tag

    def logging_tags(self) -> list[str]:
        return [self.tag]


def transition(ob: list[int], ac: list[int], reward: float, done: bool, metrics: dict[str, float]) -> Transition:
    lps = [round(-0.1 * (k + 1), 3) for k in range(len(ac))]
    return Transition(
        ob=tinker.ModelInput.from_ints(ob),
        ac=TokensWithLogprobs(tokens=ac, maybe_logprobs=lps),
        reward=reward,
        episode_done=done,
        metrics=metrics,
    )


def groups(n: int) -> list[TrajectoryGroup]:
    out = []
    for g in range(n):
        trajs = []
        for t in range(3 + g % 3):
            first = transition([1, 2, g], [3 + t, 4], 0.1 * t, False, {"m": float(t)})
            second = transition([1, 2, g, 3 + t, 4, 9], [5] * (1 + t % 2), 0.5 * (t % 2), True, {})
            trajs.append(Trajectory(transitions=[first, second], final_ob=tinker.ModelInput.from_ints([0])))
        out.append(
            TrajectoryGroup(trajs, [float((g + t) % 2) for t in range(len(trajs))], [{"g": float(g)}] * len(trajs))
        )
    return out


def rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(float(v), 6) if isinstance(v, (int, float)) else str(v) for k, v in sorted(d.items())}


def config(**kw: Any) -> Any:
    return train.Config(
        learning_rate=0.01,
        dataset_builder=MagicMock(spec=RLDatasetBuilder),
        model_name="test-model",
        recipe_name="probe",
        max_tokens=8,
        log_path="/tmp/probe-unused",
        **kw,
    )


async def main() -> dict[str, Any]:
    out: dict[str, Any] = {}
    gs = groups(4)
    builders = [Builder(f"t{i % 2}") for i in range(4)]
    records: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(re.sub(r"\x1b\[[0-9;]*m", "", record.getMessage()))

    log = logging.getLogger(train.__name__)
    log.addHandler(Capture())
    log.setLevel(logging.INFO)
    log.propagate = False

    data, metrics, usage = await train.prepare_minibatch(builders, gs, Tok(), None, 0.0, 0.0)
    out["prepare"] = {
        "metrics": rounded(metrics),
        "usage": [usage.sampled, usage.prefill_cached, usage.prefill_uncached, usage.trained],
        "datums": [[d.model_input.to_ints(), d.loss_fn_inputs["advantages"].tolist()] for d in data],
        "printed": [r for r in records if "Trajectory Group" in r],
    }
    records.clear()
    tc = Trainer()
    step_metrics: dict[str, Any] = {}
    lps = await train.train_step(data, tc, 0.01, 3, "importance_sampling", metrics=step_metrics)
    out["train_step"] = {"calls": tc.calls, "metrics": rounded(step_metrics), "logprobs": [t.tolist() for t in lps]}

    tc = Trainer()
    ckpt = Checkpoints({4})
    client, full = await train.compute_full_batch_metrics_and_get_sampling_client(
        tc, ckpt, 4, data, lps, False, record_stability_info=True
    )
    out["full_batch"] = {"client": client, "calls": tc.calls, "metrics": rounded(full), "saved": ckpt.saved}

    streaming = []
    for gpb, nmb, nsub, items in ((4, 2, 1, "gggg"), (4, 2, 2, "gggg"), (6, 3, 2, "gg_ggg"), (4, 2, 1, "g_gg")):
        cfg = config(
            num_substeps=nsub,
            stream_minibatch_config=train.StreamMinibatchConfig(groups_per_batch=gpb, num_minibatches=nmb),
        )
        queue: asyncio.Queue[Any] = asyncio.Queue()
        k = 0
        for c in items:
            if c == "_":
                queue.put_nowait(None)
            else:
                grp = groups(k + 1)[k]
                queue.put_nowait(
                    train.WrappedTrajectoryGroup(
                        trajectory_group=grp,
                        env_group_builder=Builder("s"),
                        sampling_client_step=k % 2,
                        metrics={"time/trajectory_group_worker_loop/total": 0.5},
                    )
                )
                k += 1
        tc = Trainer()
        res = await train.do_train_step_streaming_and_get_sampling_client(
            cfg, 2, queue, tc, Checkpoints({3}), None, Tok()
        )
        assert res is not None
        streaming.append({"calls": tc.calls, "trained": len(res[2]), "client": res[0], "metric_keys": sorted(res[1])})
    out["streaming"] = streaming

    g = gs[1]
    train.print_group(g, Tok())
    out["print_group"] = records[-1]
    os.environ["NO_COLOR"] = "1"
    os.environ.pop("FORCE_COLOR", None)
    out["format_trajectory"] = [
        format_trajectory(g.trajectories_G[0], Tok()),
        format_trajectory(g.trajectories_G[1], Tok(), only_last_transition=True),
    ]
    return out


if __name__ == "__main__":
    sys.stdout.write(json.dumps(asyncio.run(main())))
