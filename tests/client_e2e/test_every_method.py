"""Every public client method against the local server over real HTTP (loopback)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from typing import Any

import pytest

import tinkerlite as tinker
from tinkerlite import types
from tinkerlite.local import serve

KEY = "tml-e2e-test"
MODEL = "tinkerlite/tiny-chat"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tinker.ServiceClient]:
    with serve(api_key=KEY, state_dir=str(tmp_path_factory.mktemp("state"))) as url:
        sc = tinker.ServiceClient(base_url=url, api_key=KEY)
        yield sc
        sc.close()


def _datum(tokens: list[int]) -> types.Datum:
    return types.Datum(
        model_input=types.ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={"target_tokens": tokens[1:], "weights": [1.0] * (len(tokens) - 1)},
    )


DATA = [_datum(list(b"hello world, hello tinker")), _datum(list(b"tiny models learn quickly"))]


def test_training_client_methods(service: tinker.ServiceClient) -> None:
    tc = service.create_lora_training_client(base_model=MODEL, rank=8, seed=1).result(timeout=60)
    info = tc.get_info()
    assert info.model_data.model_name == MODEL
    tok = tc.get_tokenizer()
    assert tok.decode(tok.encode("abc")) == "abc"

    before = tc.forward(DATA, "cross_entropy").result(timeout=60)
    assert [o["logprobs"].resolved_shape for o in before.loss_fn_outputs] == [[24], [24]]
    fb = tc.forward_backward(DATA, "cross_entropy").result(timeout=60)
    assert fb.metrics["loss:sum"] > 0
    for _ in range(3):
        tc.forward_backward(DATA, "cross_entropy")
        tc.optim_step(types.AdamParams(learning_rate=1e-2)).result(timeout=60)
    after = tc.forward(DATA, "cross_entropy").result(timeout=60)
    assert sum(sum(o["logprobs"].data) for o in after.loss_fn_outputs) > sum(
        sum(o["logprobs"].data) for o in before.loss_fn_outputs
    )

    # A custom loss without torch: C = -sum(logprobs) has dC/dlp = -1 everywhere (= cross_entropy).
    def loss_fn(data: list[types.Datum], logprobs: list[Any]) -> tuple[float, dict[str, float], list[list[float]]]:
        flat = [list(lp.data) if hasattr(lp, "data") else list(lp) for lp in logprobs]
        return -sum(map(sum, flat)), {"custom:sum": 1.0}, [[-1.0] * len(lp) for lp in flat]

    custom = tc.forward_backward_custom(DATA, loss_fn).result(timeout=60)
    assert "loss:sum" in custom.metrics and "surrogate_loss:sum" in custom.metrics
    assert custom.metrics["loss:sum"] == pytest.approx(custom.metrics["surrogate_loss:sum"], rel=1e-4)
    tc.optim_step(types.AdamParams(learning_rate=1e-3)).result(timeout=60)

    state = tc.save_state("e2e-state").result(timeout=60).path
    assert state.startswith("tinker://") and "/weights/e2e-state" in state
    sampler_path = tc.save_weights_for_sampler("e2e-sampler").result(timeout=60).path
    assert "/sampler_weights/e2e-sampler" in sampler_path

    reference = tc.forward(DATA, "cross_entropy").result(timeout=60)
    restored = service.create_training_client_from_state_with_optimizer(state).result(timeout=60)
    again = restored.forward(DATA, "cross_entropy").result(timeout=60)
    assert [o["logprobs"].data for o in again.loss_fn_outputs] == [
        o["logprobs"].data for o in reference.loss_fn_outputs
    ]
    weights_only = service.create_training_client_from_state(state).result(timeout=60)
    assert weights_only.get_info().model_data.model_name == MODEL
    tc.load_state(state).result(timeout=60)
    tc.load_state_with_optimizer(state).result(timeout=60)

    # Sampling: from the training client snapshot, a saved path, and the base model.
    sc1 = tc.save_weights_and_get_sampling_client().result(timeout=60)
    sc2 = service.create_sampling_client(model_path=sampler_path).result(timeout=60)
    sc3 = service.create_sampling_client(base_model=MODEL).result(timeout=60)
    prompt = types.ModelInput.from_ints(list(b"hello "))
    params = types.SamplingParams(max_tokens=8, temperature=0.7, seed=5)
    for client in (sc1, sc2, sc3):
        res = client.sample(prompt, num_samples=2, sampling_params=params).result(timeout=60)
        assert len(res.sequences) == 2
        assert all(len(s.tokens) <= 8 and s.logprobs is not None for s in res.sequences)
        assert all(s.sequence_id for s in res.sequences)
        again_res = client.sample(prompt, num_samples=2, sampling_params=params).result(timeout=60)
        assert [s.tokens for s in again_res.sequences] == [s.tokens for s in res.sequences]  # same seed
        lps = client.compute_logprobs(prompt).result(timeout=60)
        assert lps[0] is None and all(isinstance(x, float) and x <= 0 for x in lps[1:])
    assert sc3.get_base_model() == MODEL

    async def many() -> list[types.SampleResponse]:
        return list(await asyncio.gather(*(sc3.sample_async(prompt, 1, params) for _ in range(16))))

    assert len(asyncio.run(many())) == 16

    # REST
    rest = service.create_rest_client()
    run = rest.get_training_run(tc.model_id).result(timeout=60)
    assert run.training_run_id == tc.model_id and run.base_model == MODEL
    runs = rest.list_training_runs().result(timeout=60)
    assert tc.model_id in {r.training_run_id for r in runs.training_runs}
    ckpts = rest.list_checkpoints(tc.model_id).result(timeout=60)
    paths = {c.tinker_path for c in ckpts.checkpoints}
    assert state in paths and sampler_path in paths
    winfo = rest.get_weights_info_by_tinker_path(state).result(timeout=60)
    assert winfo.base_model == MODEL and winfo.is_lora and winfo.lora_rank == 8
    rest.set_checkpoint_ttl_from_tinker_path(sampler_path, 3600).result(timeout=60)
    rest.publish_checkpoint_from_tinker_path(sampler_path).result(timeout=60)
    rest.unpublish_checkpoint_from_tinker_path(sampler_path).result(timeout=60)
    rest.delete_checkpoint_from_tinker_path(sampler_path).result(timeout=60)
    left = {c.tinker_path for c in rest.list_checkpoints(tc.model_id).result(timeout=60).checkpoints}
    assert sampler_path not in left and state in left
    caps = service.get_server_capabilities()
    assert MODEL in {m.model_name for m in caps.supported_models}
    assert rest.list_sessions().result(timeout=60).sessions
    assert all(math.isfinite(x) for x in fb.metrics.values())
