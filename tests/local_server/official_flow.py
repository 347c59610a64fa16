"""Drives the official ``tinker`` SDK against a tinkerlite local server (run with the SDK's venv python).

Usage: ``TINKER_BASE_URL=... TINKER_API_KEY=tml-... python official_flow.py``. Prints ``FLOW OK`` and a
JSON line of facts on success; any failed check raises. Not a pytest module: it runs in a throwaway
venv that has the official SDK (and no tinkerlite).
"""

from __future__ import annotations

import json
import math
import sys

import tinker
from tinker import types

BASE = "tinkerlite/tiny-chat"


def make_data(n: int = 6, length: int = 12) -> list[types.Datum]:
    data = []
    for i in range(n):
        toks = [(i * 7 + j * 3) % 200 + 32 for j in range(length + 1)]
        data.append(
            types.Datum(
                model_input=types.ModelInput.from_ints(toks[:-1]),
                loss_fn_inputs={"target_tokens": toks[1:], "weights": [1.0] * length},
            )
        )
    return data


def total_loss(out: types.ForwardBackwardOutput) -> float:
    assert "loss:sum" in out.metrics, out.metrics
    return float(out.metrics["loss:sum"])


def logprobs(out: types.ForwardBackwardOutput) -> list[list[float]]:
    return [o["logprobs"].tolist() for o in out.loss_fn_outputs]


def resolved(x):
    """0.38 returns client futures from the creation methods; 0.25 returns the clients."""
    if "Future" in type(x).__name__ and callable(getattr(x, "result", None)):
        return x.result()
    return x


def main() -> None:
    facts: dict[str, object] = {"sdk": tinker.__version__}
    sc = tinker.ServiceClient()
    rc = sc.create_rest_client()
    caps = (
        rc.get_server_capabilities().result()
        if hasattr(rc, "get_server_capabilities")
        else sc.get_server_capabilities()
    )
    names = [m.model_name for m in caps.supported_models]
    assert BASE in names, names
    tc = resolved(sc.create_lora_training_client(base_model=BASE, rank=8))
    info = tc.get_info()
    assert info.model_data.model_name == BASE, info
    assert info.model_data.tokenizer_id == "tinkerlite/byte-chat", info
    data = make_data()

    fb = tc.forward_backward(data, "cross_entropy").result()
    assert len(fb.loss_fn_outputs) == len(data)
    for o, d in zip(fb.loss_fn_outputs, data, strict=True):
        assert "logprobs" in o
        assert len(o["logprobs"].tolist()) == d.model_input.length
    loss0 = total_loss(fb)
    tc.optim_step(types.AdamParams(learning_rate=5e-2)).result()
    fwd = tc.forward(data, "cross_entropy").result()
    loss1 = total_loss(fwd)
    assert loss1 < loss0, (loss0, loss1)
    facts.update(loss0=loss0, loss1=loss1)

    state_path = tc.save_state("state-1").result().path
    assert state_path.startswith("tinker://") and "/weights/state-1" in state_path, state_path
    tc2 = resolved(sc.create_training_client_from_state_with_optimizer(state_path))
    fwd2 = tc2.forward(data, "cross_entropy").result()
    a, b = logprobs(fwd), logprobs(fwd2)
    assert a == b, "reloaded model gives different logprobs"
    # One more identical step on both must give identical results (optimizer state restored).
    for client in (tc, tc2):
        client.forward_backward(data, "cross_entropy").result()
        client.optim_step(types.AdamParams(learning_rate=5e-2)).result()
    assert logprobs(tc.forward(data, "cross_entropy").result()) == logprobs(tc2.forward(data, "cross_entropy").result())

    named = tc.save_weights_for_sampler("sampler-1").result().path
    assert "/sampler_weights/sampler-1" in named, named
    from_path = resolved(sc.create_sampling_client(model_path=named))
    sampler = resolved(tc.save_weights_and_get_sampling_client())
    prompt = types.ModelInput.from_ints([258, 72, 105, 259])
    res = sampler.sample(
        prompt=prompt, num_samples=2, sampling_params=types.SamplingParams(max_tokens=8, seed=3, temperature=1.0)
    ).result()
    assert len(res.sequences) == 2
    for s in res.sequences:
        assert 1 <= len(s.tokens) <= 8 and s.logprobs is not None and len(s.logprobs) == len(s.tokens)
        assert all(math.isfinite(x) for x in s.logprobs)
    again = sampler.sample(
        prompt=prompt, num_samples=2, sampling_params=types.SamplingParams(max_tokens=8, seed=3, temperature=1.0)
    ).result()
    assert [s.tokens for s in again.sequences] == [s.tokens for s in res.sequences], "same seed, different tokens"
    lps = sampler.compute_logprobs(prompt).result()
    assert len(lps) == prompt.length and lps[0] is None and all(isinstance(x, float) for x in lps[1:]), lps
    facts["sampled"] = [s.tokens for s in res.sequences]
    # A sampler made from the saved path holds the same weights: same seed, same tokens.
    res2 = from_path.sample(
        prompt=prompt, num_samples=2, sampling_params=types.SamplingParams(max_tokens=8, seed=3, temperature=1.0)
    ).result()
    assert [s.tokens for s in res2.sequences] == [s.tokens for s in res.sequences]
    run_id = state_path[len("tinker://") :].split("/")[0]
    listed = rc.list_checkpoints(run_id).result()
    kinds = sorted(c.checkpoint_type for c in listed.checkpoints)
    assert kinds == ["sampler", "training"], kinds
    runs = rc.list_training_runs().result()
    assert any(r.training_run_id == run_id for r in runs.training_runs)
    if hasattr(sc, "close"):
        sc.close("success", detail="official flow done").result()
    print("FLOW OK")
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
    sys.stdout.flush()
