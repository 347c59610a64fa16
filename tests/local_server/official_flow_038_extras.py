"""Run with the official tinker 0.38 SDK against the local server: Dimuon and the 0.38 losses.

Invoked by ``test_official_sdk_038_extras.py`` with the official venv's python; prints one JSON line of
facts last. It imports only the official SDK (never tinkerlite).
"""

from __future__ import annotations

import json

import tinker
from tinker import types

BASE = "tinkerlite/tiny-chat"


def sft_data() -> list[types.Datum]:
    out = []
    for i in range(4):
        toks = [(7 * i + 3 * j) % 200 + 20 for j in range(13)]
        out.append(
            types.Datum(
                model_input=types.ModelInput.from_ints(toks[:-1]),
                loss_fn_inputs={"target_tokens": toks[1:], "weights": [1.0] * 12},
            )
        )
    return out


def rl_datum(prompt: list[int], seq: types.SampledSequence, advantage: float, gspo: bool) -> types.Datum:
    sampled, lps = list(seq.tokens), list(seq.logprobs or [])
    ob = len(prompt) - 1
    inputs: dict[str, list[float] | list[int]] = {
        "target_tokens": [0] * ob + sampled,
        "logprobs": [0.0] * ob + lps,
        "advantages": [0.0] * ob + [advantage] * len(sampled),
    }
    if gspo:
        inputs["sequence_ratio_mask"] = [0.0] * ob + [1.0] * len(sampled)
    datum = types.Datum(model_input=types.ModelInput.from_ints(prompt + sampled[:-1]), loss_fn_inputs=inputs)
    if gspo:
        return datum
    assert seq.sequence_id, "the 0.38 SDK stamps sample_sequence_ids on the sequences"
    return datum.with_provenance(
        model_input=[
            types.PromptProvenanceSpan(sequence_id=seq.sequence_id, length=len(prompt)),
            types.SampledProvenanceSpan(sequence_id=seq.sequence_id, length=len(sampled) - 1),
        ],
        loss_fn_inputs=[
            types.PromptProvenanceSpan(sequence_id=seq.sequence_id, offset=1, length=len(prompt) - 1),
            types.SampledProvenanceSpan(sequence_id=seq.sequence_id, length=len(sampled)),
        ],
    )


def main() -> None:
    sc = tinker.ServiceClient()
    tc = sc.create_lora_training_client(base_model=BASE, rank=4, optimizer=types.DimuonOptimizerConfig())
    losses = []
    for _ in range(5):
        fb = tc.forward_backward(sft_data(), "cross_entropy")
        opt = tc.optim_step(types.DimuonParams(learning_rate=0.02))
        losses.append(fb.result().metrics["loss:sum"])
        assert "grad_norm:mean" in opt.result().metrics
    assert losses[-1] < losses[0], losses

    sampler = tc.save_weights_and_get_sampling_client(record_stability_info=True).result()
    prompt = [20, 21, 22, 23, 24]
    resp = sampler.sample(
        prompt=types.ModelInput.from_ints(prompt),
        num_samples=3,
        sampling_params=types.SamplingParams(max_tokens=5, temperature=1.0, seed=1, stop=[]),
    ).result()
    rl = {}
    for loss_fn, cfg in (("stable_reinforce", {"kl_coeff": 0.02}), ("gspo", None)):
        data = [
            rl_datum(prompt, s, adv, loss_fn == "gspo")
            for s, adv in zip(resp.sequences, (1.0, -0.5, -0.5), strict=True)
        ]
        out = tc.forward_backward(data, loss_fn, cfg).result()
        tc.optim_step(types.DimuonParams(learning_rate=0.01, beta1=0.8)).result()
        assert len(out.loss_fn_outputs) == 3
        rl[loss_fn] = out.metrics["loss:sum"]

    adam = sc.create_lora_training_client(base_model=BASE, rank=4)
    mixed = adam.optim_step(types.DimuonParams(learning_rate=0.01))
    try:
        mixed.result()
        mixed_error = ""
    except Exception as e:  # the server refuses Dimuon hyperparameters for an AdamW model
        mixed_error = str(e)
    print("FLOW OK")
    print(json.dumps({"sdk": tinker.__version__, "losses": losses, "rl": rl, "mixed_error": mixed_error}))


if __name__ == "__main__":
    main()
