"""The cookbook's ``rl.train`` / ``rl.rollouts`` / ``display`` functions called as cookbook code calls them.

Unit parts use a recording stand-in for the training client (to count what is sent); the loops run
against the local server (built-in tiny model), driven directly with the cookbook's arguments.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tinkerlite.display import format_trajectory, to_ints
from tinkerlite.errors import ValidationError
from tinkerlite.rl import train
from tinkerlite.rl._train_steps import _Shutdown
from tinkerlite.rl.data_processing import FlatOb, assemble_training_data, compute_advantages
from tinkerlite.rl.rollouts import (
    do_group_rollout_and_filter_constant_reward,
    get_rollout_executor,
    set_rollout_executor,
)
from tinkerlite.rl.types import TrajectoryGroup
from tinkerlite.types import ImageChunk, ModelInput, TensorData

from .conftest import group, trajectory, transition

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class _Done:
    """An awaitable already-finished future (what the SDK's APIFuture looks like to ``await``)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Iterator[Any]:
        return self._get().__await__()

    async def _get(self) -> Any:
        return self.value

    def result(self) -> Any:
        return self.value


class _Out:
    def __init__(self, loss_fn_outputs: list[dict[str, Any]], metrics: dict[str, float]) -> None:
        self.loss_fn_outputs, self.metrics = loss_fn_outputs, metrics


class _RecordingTrainer:
    """Counts forward_backward / optim_step calls; logprobs come back as the datum's sampled ones."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.batch_sizes: list[int] = []

    def forward_backward(self, data: list[Any], loss_fn: str, loss_fn_config: Any = None) -> _Done:
        assert all("mask" not in d.loss_fn_inputs for d in data)  # stripped before sending
        self.calls.append("fwd")
        self.batch_sizes.append(len(data))
        outs = [{"logprobs": d.loss_fn_inputs["logprobs"]} for d in data]
        return _Done(_Out(outs, {"loss:sum": 1.0}))

    def optim_step(self, adam: Any) -> _Done:
        self.calls.append("optim")
        return _Done(_Out([], {"optim/grad_norm": 0.5}))



# A real tokenizer for the step functions: they log groups through print_group, which decodes when the
# rl logger is at INFO (as an earlier test in the same session may leave it).
from tinkerlite.tokenizers.byte_level import ByteChatTokenizer as _ByteTokenizer  # noqa: E402

_TOK = _ByteTokenizer()

def _groups(n: int) -> list[TrajectoryGroup]:
    return [
        group(
            [
                trajectory(transition([1, 2], [3, 4], lps=[-0.1, -0.2], reward=float(i % 2))),
                trajectory(transition([1, 2], [5], lps=[-0.3], reward=1.0)),
            ]
        )
        for i in range(n)
    ]


class _Builder:
    def __init__(self, tag: str = "toy") -> None:
        self.tag = tag

    def logging_tags(self) -> list[str]:
        return [self.tag]


def test_train_step_pipelines_substeps_and_returns_training_logprobs() -> None:
    groups = _groups(3)
    data, _ = assemble_training_data(groups, compute_advantages(groups))
    tc = _RecordingTrainer()
    metrics: dict[str, Any] = {}
    out = asyncio.run(train.train_step(data, tc, 1e-3, 2, "importance_sampling", metrics=metrics))
    # two substeps: the second pair is submitted before the first result is awaited
    assert tc.calls == ["fwd", "optim", "fwd", "optim"] and sum(tc.batch_sizes) == len(data)
    assert len(out) == len(data) and all(isinstance(t, TensorData) for t in out)
    assert [t.tolist() for t in out] == [d.loss_fn_inputs["logprobs"].tolist() for d in data]
    assert metrics == {"optim/grad_norm": 0.5}  # the cookbook's: only the last optim_step's metrics
    assert asyncio.run(train.train_step([], tc, 1e-3, 1, "ppo")) == []


def test_stable_reinforce_without_provenance_fails_before_anything_is_sent() -> None:
    groups = _groups(1)
    data, _ = assemble_training_data(groups, compute_advantages(groups), include_provenance=False)
    tc = _RecordingTrainer()
    with pytest.raises(ValidationError, match="provenance"):
        asyncio.run(train.train_step(data, tc, 1e-3, 1, "stable_reinforce"))
    assert tc.calls == []


def test_prepare_minibatch_datums_metrics_and_usage(caplog: pytest.LogCaptureFixture) -> None:
    from tinkerlite.rl.metric_util import compute_trajectory_metrics
    from tinkerlite.tokenizers.byte_level import ByteChatTokenizer as ByteTokenizer

    groups = _groups(3)
    builders = [_Builder("a"), _Builder("b"), _Builder("a")]
    with caplog.at_level(logging.INFO, logger="tinkerlite.rl.train"):
        data, metrics, usage = asyncio.run(
            train.prepare_minibatch(
                builders, groups, ByteTokenizer(), None, kl_penalty_coef=0.0, kl_discount_factor=0.0
            )
        )
    expected, _ = assemble_training_data(groups, compute_advantages(groups))
    assert [d.model_input.to_ints() for d in data] == [d.model_input.to_ints() for d in expected]
    assert [d.loss_fn_inputs["advantages"].tolist() for d in data] == [
        d.loss_fn_inputs["advantages"].tolist() for d in expected
    ]
    assert metrics == compute_trajectory_metrics(groups, [b.logging_tags() for b in builders])
    assert (usage.sampled, usage.prefill_uncached, usage.trained) == (9, 12, 0)
    printed = [r.getMessage() for r in caplog.records if "Trajectory Group" in r.getMessage()]
    assert len(printed) == 2  # the first two groups, as the cookbook prints
    assert "trajectory idx=0, reward=0" in printed[0] and "---- datum ----" in printed[0]


def test_print_group_shows_four_trajectories_spanning_the_rewards(caplog: pytest.LogCaptureFixture) -> None:
    from tinkerlite.tokenizers.byte_level import ByteChatTokenizer as ByteTokenizer

    g = group([trajectory(transition([1], [2], reward=float(r))) for r in (5, 1, 3, 0, 4, 2)])
    with caplog.at_level(logging.INFO, logger="tinkerlite.rl.train"):
        train.print_group(g, ByteTokenizer())
    text = caplog.records[-1].getMessage()
    # numpy's argsort + linspace(0, 5, 4).astype(int) -> sorted positions 0, 1, 3, 5 -> rewards 0, 1, 3, 5
    assert [line.split("reward=")[1].split()[0] for line in text.splitlines() if "reward=" in line] == [
        "0",
        "1",
        "3",
        "5",
    ]


def test_gather_with_progress_keeps_input_order() -> None:
    async def after(delay: float, value: int) -> int:
        await asyncio.sleep(delay)
        return value

    out = asyncio.run(train.gather_with_progress((after(0.03 - i * 0.01, i) for i in range(3)), desc="x"))
    assert out == [0, 1, 2]


def _wrapped(g: TrajectoryGroup, step: int = 0) -> train.WrappedTrajectoryGroup:
    return train.WrappedTrajectoryGroup(
        trajectory_group=g,
        env_group_builder=_Builder(),  # type: ignore[arg-type]
        sampling_client_step=step,
        metrics={"time/trajectory_group_worker_loop/total": 0.1},
    )


class _Checkpoints:
    def __init__(self, due: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.due, self.saved = due, []  # type: ignore[var-annotated]

    def should_save_periodic(self, step: int) -> bool:
        return step in self.due

    async def save_periodic_async(self, step: int, loop_state: dict[str, Any]) -> dict[str, str]:
        self.saved.append((step, loop_state))
        return {"sampler_path": f"tinker://x/sampler_weights/{step:06d}", "state_path": "s"}


class _SamplerMaker(_RecordingTrainer):
    def __init__(self) -> None:
        super().__init__()
        self.samplers: list[str] = []

    def save_weights_and_get_sampling_client(self, record_stability_info: bool = False) -> _Done:
        self.samplers.append(f"snapshot(stability={record_stability_info})")
        return _Done(self.samplers[-1])

    def create_sampling_client(self, path: str, record_stability_info: bool = False) -> _Done:
        self.samplers.append(path)
        return _Done(path)


def _config(tmp_path: Path, **kw: Any) -> train.Config:
    defaults: dict[str, Any] = dict(
        learning_rate=1e-3,
        dataset_builder=None,
        model_name="tinkerlite/tiny-chat",
        recipe_name="test",
        max_tokens=4,
        log_path=str(tmp_path),
    )
    defaults.update(kw)
    return train.Config(**defaults)


@pytest.mark.parametrize(
    ("groups_per_batch", "num_minibatches", "num_substeps"), [(4, 2, 1), (8, 2, 2), (6, 3, 2), (4, 1, 4)]
)
def test_stream_minibatch_sends_the_cookbooks_number_of_steps(
    tmp_path: Path, groups_per_batch: int, num_minibatches: int, num_substeps: int
) -> None:
    from tinkerlite.rl.stream_minibatch import StreamMinibatchConfig

    config = _config(
        tmp_path,
        num_substeps=num_substeps,
        stream_minibatch_config=StreamMinibatchConfig(
            groups_per_batch=groups_per_batch, num_minibatches=num_minibatches
        ),
    )
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for g in _groups(groups_per_batch):
        queue.put_nowait(_wrapped(g))
    tc = _SamplerMaker()
    ckpt = _Checkpoints(due={1})
    client, metrics, trained = asyncio.run(
        train.do_train_step_streaming_and_get_sampling_client(config, 0, queue, tc, ckpt, None, _TOK)  # type: ignore[misc]
    )
    # one forward_backward per minibatch, one optim_step per substep, each optim after its substep's fwds
    expected = (["fwd"] * num_minibatches + ["optim"]) * num_substeps
    assert tc.calls == expected
    assert len(trained) == groups_per_batch and queue.empty()
    assert client == "tinker://x/sampler_weights/000001" and ckpt.saved[0][0] == 1  # checkpoint named i + 1
    assert {"optim/kl_sample_train_v1", "sampling_client/step_max", "env/all/reward/total"} <= set(metrics)


def test_stream_minibatch_counts_filtered_groups_and_stops_at_shutdown(tmp_path: Path) -> None:
    from tinkerlite.rl.stream_minibatch import StreamMinibatchConfig

    config = _config(tmp_path, stream_minibatch_config=StreamMinibatchConfig(groups_per_batch=4, num_minibatches=2))
    a, b, c = _groups(3)
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in (_wrapped(a), None, _wrapped(b), _wrapped(c)):
        queue.put_nowait(item)
    tc = _SamplerMaker()
    _, _, trained = asyncio.run(
        train.do_train_step_streaming_and_get_sampling_client(config, 3, queue, tc, _Checkpoints(), None, _TOK)  # type: ignore[misc]
    )
    # the None fills a slot of the first minibatch, which trains one group; the second trains two
    assert tc.calls == ["fwd", "fwd", "optim"] and tc.batch_sizes == [2, 4] and len(trained) == 3
    assert tc.samplers == ["snapshot(stability=False)"]

    # A shutdown sentinel before any group: nothing is trained, None comes back, the sentinel stays queued.
    queue = asyncio.Queue()
    queue.put_nowait(_Shutdown())
    tc = _SamplerMaker()
    assert (
        asyncio.run(
            train.do_train_step_streaming_and_get_sampling_client(config, 0, queue, tc, _Checkpoints(), None, _TOK)  # type: ignore[misc]
        )
        is None
    )
    assert tc.calls == [] and queue.qsize() == 1

    bad = _config(tmp_path, stream_minibatch_config=StreamMinibatchConfig(groups_per_batch=4, num_minibatches=3))
    with pytest.raises(ValidationError, match="num_minibatches"):
        asyncio.run(
            train.do_train_step_streaming_and_get_sampling_client(bad, 0, queue, tc, _Checkpoints(), None, _TOK)  # type: ignore[misc]
        )


def test_sampling_client_reuse_and_checkpoint_cadence() -> None:
    groups = _groups(2)
    data, _ = assemble_training_data(groups, compute_advantages(groups))
    lps = [d.loss_fn_inputs["logprobs"] for d in data]
    finished = asyncio.Event()
    finished.set()
    reuse = train.SamplingClientReuse("old-sampler", finished)
    tc = _SamplerMaker()
    client, metrics = asyncio.run(
        train.compute_full_batch_metrics_and_get_sampling_client(
            tc, _Checkpoints(), 3, data, lps, False, sampling_client_reuse=reuse
        )
    )
    assert client == "old-sampler" and reuse.reused and tc.samplers == []
    assert metrics["optim/kl_sample_train_v1"] == pytest.approx(0.0)
    # a checkpoint due at this step exports new weights even when reuse is allowed
    reuse = train.SamplingClientReuse("old-sampler", finished)
    ckpt = _Checkpoints(due={3})
    client, _ = asyncio.run(
        train.compute_full_batch_metrics_and_get_sampling_client(
            tc, ckpt, 3, data, lps, False, sampling_client_reuse=reuse
        )
    )
    assert client.endswith("000003") and not reuse.reused and ckpt.saved[0][1] == {"batch": 3}
    # not due, or at the start batch: a sampler-only snapshot
    client, _ = asyncio.run(train.save_checkpoint_and_get_sampling_client(tc, _Checkpoints(due={2}), 2, start_batch=2))
    assert client == "snapshot(stability=False)"


class _ConstantBuilder:
    def __init__(self, rewards: list[float]) -> None:
        self.rewards = rewards
        self.cleaned = 0

    async def make_envs(self) -> list[Any]:
        from tinkerlite.rl.types import Env, StepResult

        class _Env(Env):
            async def initial_observation(self) -> tuple[ModelInput, list[int]]:
                return ModelInput.from_ints([1, 2]), []

            async def step(self, action: list[int], *, extra: Any = None) -> StepResult:
                return StepResult(0.0, True, ModelInput.empty(), [])

        return [_Env() for _ in self.rewards]

    async def compute_group_rewards(self, trajs: list[Any], envs: list[Any]) -> list[tuple[float, dict[str, float]]]:
        return [(r, {}) for r in self.rewards]

    async def cleanup(self) -> None:
        self.cleaned += 1

    def logging_tags(self) -> list[str]:
        return ["c"]


class _FakeSampler:
    """A picklable stand-in sampling client: always samples tokens [7, 8]."""

    async def sample_async(self, prompt: Any, num_samples: int, sampling_params: Any, **kw: Any) -> Any:
        from tinkerlite.types import SampledSequence, SampleResponse

        return SampleResponse(sequences=[SampledSequence(stop_reason="stop", tokens=[7, 8], logprobs=[-0.1, -0.2])])


def test_group_rollout_filter_and_executor() -> None:
    rollout = do_group_rollout_and_filter_constant_reward
    keep = asyncio.run(rollout(_FakeSampler(), _ConstantBuilder([0.0, 1.0]), 4, 1.0, True))
    assert keep is not None and keep.get_total_rewards() == [0.0, 1.0]
    assert keep.trajectories_G[0].transitions[0].ac.tokens == [7, 8]
    constant = _ConstantBuilder([1.0, 1.0])
    assert asyncio.run(rollout(_FakeSampler(), constant, 4, 1.0, True)) is None
    assert constant.cleaned == 1
    assert asyncio.run(rollout(_FakeSampler(), _ConstantBuilder([1.0, 1.0]), 4, 1.0, False)) is not None

    async def via_executor() -> Any:
        with ThreadPoolExecutor(2) as pool:
            set_rollout_executor(pool)
            try:
                assert get_rollout_executor() is pool
                return await rollout(_FakeSampler(), _ConstantBuilder([0.0, 2.0]), 4, 1.0, True)
            finally:
                set_rollout_executor(None)

    out = asyncio.run(via_executor())
    assert out is not None and out.get_total_rewards() == [0.0, 2.0]
    assert get_rollout_executor() is None
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        with pytest.raises(ValueError, match="fork"):
            set_rollout_executor(pool)


def test_display_to_ints_and_format_trajectory(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinkerlite.tokenizers.byte_level import ByteChatTokenizer as ByteTokenizer

    tok = ByteTokenizer()
    assert to_ints(ModelInput.from_ints([1, 2]).chunks[0], tok) == [1, 2]
    image = ImageChunk(data=b"\x89PNG", format="png", expected_tokens=3)
    assert to_ints(image, tok) == [ord("@")] * 3
    flat: FlatOb = [1, image]
    assert len(flat) == 2
    traj = trajectory(
        transition(list(b"Hi "), list(b"42"), reward=0.5, metrics={"m": 1.0}),
        transition(list(b"Hi 42 more"), list(b"7"), reward=1.0, done=True),
    )
    monkeypatch.setenv("NO_COLOR", "1")
    text = format_trajectory(traj, tok)
    assert text.splitlines()[0] == "=" * 60 and text.splitlines()[-1] == "=" * 60
    assert (
        "------ Transition 0 ------\nObservation:: Hi \nAction:: 42\nReward:: 0.5\n"
        "Episode done:: False\nMetrics:: {'m': 1.0}" in text
    )
    last = format_trajectory(traj, tok, only_last_transition=True)
    assert "Transition 0" not in last and "------ Transition 1 ------" in last
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\033[1m\033[32mObservation:\033[0m: Hi " in format_trajectory(traj, tok)


# ---- the loops driven directly, as cookbook code calls them, against the local server ----------------


def _direct_run(url: str, log_path: Path, loop: Any, **config_kw: Any) -> tuple[list[dict[str, Any]], Any]:
    from tinkerlite import ServiceClient
    from tinkerlite.checkpoint_utils import CheckpointManager
    from tinkerlite.rl.envs.digits import DigitsDatasetBuilder
    from tinkerlite.rl.metric_util import RLTestSetEvaluator
    from tinkerlite.rl.rollouts import RolloutErrorCounter
    from tinkerlite.utils.cost_estimation import CostTracker
    from tinkerlite.utils.ml_log import setup_logging

    from ._loop_helpers import KEY, MODEL

    builder = DigitsDatasetBuilder(batch_size=4, group_size=2, n_batches=3)
    config = _config(log_path, dataset_builder=builder, save_every=2, eval_every=2, lora_rank=4, **config_kw)

    async def go() -> Any:
        service = ServiceClient(base_url=url, api_key=KEY)
        try:
            training_client = await service.create_lora_training_client_async(MODEL, rank=4)
            dataset, test = await builder()
            ml_logger = setup_logging(str(log_path), config=config, do_configure_logging_module=False)
            mgr = CheckpointManager(training_client, service, str(log_path), save_every=2, store=ml_logger.store)
            assert test is not None
            await loop(
                start_batch=0,
                end_batch=3,
                num_batches=3,
                config=config,
                training_client=training_client,
                kl_reference_client=None,
                evaluators=[RLTestSetEvaluator(test, max_tokens=4)],
                dataset=dataset,
                ml_logger=ml_logger,
                tokenizer=training_client.get_tokenizer(),
                error_counter=RolloutErrorCounter(),
                strategy=None,
                checkpoint_mgr=mgr,
                cost_tracker=CostTracker(None),
            )
            ml_logger.close()
        finally:
            service.close()

    asyncio.run(go())
    rows = [json.loads(line) for line in (log_path / "metrics.jsonl").read_text().splitlines()]
    records = [json.loads(line) for line in (log_path / "checkpoints.jsonl").read_text().splitlines()]
    return rows, records


COOKBOOK_SYNC_STEP_KEYS = {
    "progress/batch",
    "optim/lr",
    "progress/done_frac",
    "env/all/reward/total",
    "optim/kl_sample_train_v1",
    "optim/kl_sample_train_v2",
    "optim/entropy",
    "tokens/sampled",
    "tokens/trained",
    "tokens/cumulative/sampled",
}


def test_do_sync_training_called_directly(url: str, tmp_path: Path) -> None:
    rows, records = _direct_run(url, tmp_path, train.do_sync_training)
    steps = [r for r in rows if "env/all/reward/total" in r]
    assert [r["step"] for r in steps] == [0, 1, 2]
    for r in steps:
        assert COOKBOOK_SYNC_STEP_KEYS <= set(r), COOKBOOK_SYNC_STEP_KEYS - set(r)
        assert "time/sample" not in r and "tokens/discarded/sampled" not in r  # tinkerlite's additions stay out
        assert r["time/total"] > 0  # the iteration's wall time, from its trace window
    assert steps[0]["progress/done_frac"] == pytest.approx(1 / 3)
    # evaluations before steps 0 and 2, and on the final weights (step 3, a row of its own)
    evals = [r["step"] for r in rows if "test/env/all/reward/total" in r]
    assert evals == [0, 2, 3]
    assert [r["name"] for r in records] == ["000002"]  # save_every=2 through the CheckpointManager
    it0 = tmp_path / "iteration_000000"
    summaries = (it0 / "train_rollout_summaries.jsonl").read_text().splitlines()
    assert len(summaries) == 4 * 2  # every trajectory of the batch, through the store
    html = (it0 / "train.html").read_text()
    # written while sampling: the cookbook's explanation and its Group Rollout / Trajectory Details sections
    assert "generated by logtree during RL training" in html
    assert html.count("Group Rollout") == 4 and "Episode totals" in html
    assert (it0 / "train_logtree.json").exists() and (it0 / "eval_test.html").exists()


def test_do_sync_training_with_stream_minibatch_called_directly(url: str, tmp_path: Path) -> None:
    from tinkerlite.rl.stream_minibatch import StreamMinibatchConfig

    rows, _ = _direct_run(
        url,
        tmp_path,
        train.do_sync_training_with_stream_minibatch,
        stream_minibatch_config=StreamMinibatchConfig(groups_per_batch=4, num_minibatches=2),
    )
    steps = [r for r in rows if "env/all/reward/total" in r]
    assert [r["step"] for r in steps] == [0, 1, 2]
    assert all(r["sampling_client/step_max"] == r["step"] for r in steps)  # on-policy


def test_do_async_training_called_directly(url: str, tmp_path: Path) -> None:
    rows, records = _direct_run(
        url,
        tmp_path,
        train.do_async_training,
        async_config=train.AsyncConfig(max_steps_off_policy=1, groups_per_batch=4, loss_fn="importance_sampling"),
    )
    steps = [r for r in rows if "env/all/reward/total" in r]
    assert [r["step"] for r in steps] == [0, 1, 2]
    for r in steps:  # typically at most max_steps_off_policy; a slow rollout may be trained later (cookbook)
        assert 0 <= r["async/staleness_min"] <= r["async/staleness_max"] <= 2 and "training_client/step" in r
    assert records[0]["name"] == "000000"  # the async loop checkpoints its starting weights
    assert any("eval/snapshot/training_step" in r for r in rows)  # evaluations are event rows


def test_stream_minibatch_config_trains_in_main(url: str, tmp_path: Path) -> None:
    from tinkerlite.rl.stream_minibatch import StreamMinibatchConfig

    from ._loop_helpers import metrics_rows, rl_config

    out = train.run(
        rl_config(
            url,
            tmp_path,
            n_batches=3,
            num_substeps=2,
            stream_minibatch_config=StreamMinibatchConfig(groups_per_batch=8, num_minibatches=2),
        )
    )
    assert out["steps_run"] == 3
    rows = [r for r in metrics_rows(tmp_path) if "env/all/reward/total" in r]
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert all("loss:sum" in r and "tokens/discarded/sampled" in r for r in rows)  # tinkerlite's additions
    assert (tmp_path / "iteration_000002" / "train_rollout_summaries.jsonl").exists()


class _LoggingDigitsEnv:
    """A digits env that writes into the logtree transcript from ``step`` (as cookbook envs do)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def initial_observation(self) -> Any:
        return await self.inner.initial_observation()

    async def step(self, action: list[int], *, extra: Any = None) -> Any:
        from tinkerlite.utils import logtree

        result = await self.inner.step(action, extra=extra)
        logtree.log_text(f"env graded a reply of {len(action)} tokens: reward {result.reward:.2f}")
        return result


def test_env_logging_during_rollouts_lands_in_the_transcript(url: str, tmp_path: Path) -> None:
    from functools import partial

    from tinkerlite.rl.envs.digits import DigitsDataset, DigitsDatasetBuilder, DigitsEnv
    from tinkerlite.rl.problem_env import ProblemGroupBuilder
    from tinkerlite.utils.config import configclass

    from ._loop_helpers import rl_config

    class _Dataset(DigitsDataset):
        def get_batch(self, index: int) -> list[Any]:
            make = partial(DigitsEnv, "Digits:", self.tokenizer)
            return [ProblemGroupBuilder(lambda: _LoggingDigitsEnv(make()), 2) for _ in range(3)]

    @configclass
    class _Builder(DigitsDatasetBuilder):
        async def __call__(self) -> Any:
            train_ds, _ = await super().__call__()
            assert isinstance(train_ds, DigitsDataset)
            return _Dataset(3, 2, train_ds.tokenizer, 2), None

    out = train.run(rl_config(url, tmp_path, _Builder(batch_size=3, group_size=2, n_batches=2), num_groups_to_log=2))
    assert out["steps_run"] == 2
    html = (tmp_path / "iteration_000001" / "train.html").read_text()
    assert "generated by logtree during RL training" in html
    assert html.count(">Group Rollout</h") == 2  # num_groups_to_log of the 3 groups
    assert html.count("env graded a reply of") == 2 * 2  # every env of the logged groups, from inside step()
    assert "Transcript" in html and "Episode totals" in html
    assert json.loads((tmp_path / "iteration_000001" / "train_logtree.json").read_text())


def test_main_runs_rollouts_through_a_rollout_executor(url: str, tmp_path: Path) -> None:
    from ._loop_helpers import rl_config

    with ThreadPoolExecutor(2) as pool:
        out = asyncio.run(train.main(rl_config(url, tmp_path, n_batches=2), rollout_executor=pool))
    assert out["steps_run"] == 2 and len(out["reward_history"]) == 2
    assert get_rollout_executor() is None
    with pytest.raises(RuntimeError):  # main shut the executor down, as the cookbook's does
        pool.submit(int)


def test_run_evaluations_parallel_labels_transcripts_and_merges_metrics(tmp_path: Path) -> None:
    from tinkerlite.eval.evaluators import SamplingClientEvaluator
    from tinkerlite.rl.metric_util import RLTestSetEvaluator
    from tinkerlite.rl.types import RLDataset
    from tinkerlite.utils.ml_log import setup_logging

    class _OneBatch(RLDataset):
        def get_batch(self, index: int) -> list[Any]:
            return [_ConstantBuilder([0.0, 1.0]), _ConstantBuilder([1.0, 1.0])]

        def __len__(self) -> int:
            return 1

    class _Plain(SamplingClientEvaluator):
        async def __call__(self, sampling_client: Any) -> dict[str, float]:
            return {"plain/score": 0.25}

    ml = setup_logging(str(tmp_path), config=None, do_configure_logging_module=False)
    rl_eval = RLTestSetEvaluator(_OneBatch(), max_tokens=4, name="my eval!")
    metrics = asyncio.run(
        train.run_evaluations_parallel([rl_eval, _Plain()], _FakeSampler(), _config(tmp_path), 5, store=ml.store)
    )
    ml.close()
    assert metrics["plain/score"] == 0.25 and metrics["my eval!/env/all/reward/total"] == pytest.approx(0.75)
    d = tmp_path / "iteration_000005"
    # the RL evaluator's files take its sanitized name; the plain one its index
    assert "Running evaluation my eval! 5" in (d / "eval_my_eval.html").read_text()
    recs = (d / "eval_my_eval_rollout_summaries.jsonl").read_text().splitlines()
    assert len(recs) == 4 and json.loads(recs[0])["split"] == "eval/my_eval"
    assert "Running evaluation  5" in (d / "eval_1.html").read_text()


def test_main_refuses_the_cookbooks_conflicting_configs_before_anything_runs(tmp_path: Path) -> None:
    from tinkerlite.exceptions import ConfigurationError

    from ._loop_helpers import rl_config

    bad_async = train.AsyncConfig(max_steps_off_policy=1, groups_per_batch=2)  # trains stable_reinforce
    with pytest.raises(ConfigurationError, match=r"AsyncConfig\.loss_fn"):
        asyncio.run(train.main(rl_config("http://127.0.0.1:9", tmp_path / "a", async_config=bad_async, loss_fn="ppo")))
    with pytest.raises(ConfigurationError, match="kl_discount_factor"):
        asyncio.run(
            train.main(
                rl_config(
                    "http://127.0.0.1:9",
                    tmp_path / "b",
                    loss_fn="stable_reinforce",
                    kl_penalty_coef=0.1,
                    kl_discount_factor=0.9,
                )
            )
        )
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # refused before logging started


def test_rebinding_rollouts_do_group_rollout_overrides_the_rollouts_of_a_run(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tinkerlite.rl.rollouts as rollouts

    from ._loop_helpers import rl_config

    original = rollouts.do_group_rollout
    seen: list[int] = []

    async def recording(env_group_builder: Any, policy: Any, strategy: Any = None, termination: Any = None) -> Any:
        group = await original(env_group_builder, policy, strategy=strategy, termination=termination)
        seen.append(len(group.trajectories_G))
        return group

    monkeypatch.setattr(rollouts, "do_group_rollout", recording)  # the cookbook's documented override
    out = train.run(rl_config(url, tmp_path, n_batches=2))
    assert out["steps_run"] == 2 and seen == [4] * 16  # 8 groups of 4 per step
