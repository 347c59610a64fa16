"""SDK 0.38's wire additions on the local server: the Dimuon optimizer family (``optimizer_config`` on
create_model, ``optimizer_params`` on optim_step) and the ``gspo`` / ``stable_reinforce`` losses, with
provenance spans travelling in the protobuf request. Bad names are user errors (400 or a failed future
naming the field), never 500."""

from __future__ import annotations

from typing import Any

import pytest

import tinkerlite
from tinkerlite import types
from tinkerlite.errors import ValidationError

from ._helpers import BASE, Raw, post, sft_data


def _create(raw: Raw, optimizer_config: dict[str, Any] | None) -> tuple[int, Any]:
    body: dict[str, Any] = {
        "session_id": raw.session_id,
        "model_seq_id": raw.model_seq,
        "base_model": BASE,
        "lora_config": {"rank": 4},
        "type": "create_model",
    }
    raw.model_seq += 1
    if optimizer_config is not None:
        body["optimizer_config"] = optimizer_config
    r = post(raw.url, "create_model", body)
    return r.status, r.json()


def _optim(raw: Raw, model_id: str, seq: int, **body: Any) -> dict[str, Any]:
    r = post(raw.url, "optim_step", {"model_id": model_id, "seq_id": seq, "type": "optim_step", **body})
    assert r.status == 200, r
    out: dict[str, Any] = raw.result(r.json()["request_id"])
    return out


def test_dimuon_model_trains_and_reports_its_optimizer(server: str) -> None:
    raw = Raw(server)
    status, reply = _create(raw, {"type": "dimuon", "version": 1})
    assert status == 200
    model_id = raw.result(reply["request_id"])["model_id"]
    info = post(server, "get_info", {"model_id": model_id, "type": "get_info"}).json()
    assert info["optimizer_config"] == {"type": "dimuon", "version": 1}
    data = sft_data()
    losses = []
    seq = 1
    for _ in range(6):
        losses.append(raw.fwdbwd(model_id, seq, data).metrics["loss:sum"])
        res = _optim(raw, model_id, seq + 1, optimizer_params={"type": "dimuon", "learning_rate": 0.02})
        assert set(res["metrics"]) == {"grad_norm:mean", "learning_rate:mean"}, res
        seq += 2
    assert losses[-1] < 0.8 * losses[0], losses
    # Adam hyperparameters on a Dimuon model, unknown Dimuon keys, a missing learning rate: failed futures.
    for body, needle in (
        ({"adam_params": {"learning_rate": 1e-3}}, "created with the dimuon optimizer"),
        ({"optimizer_params": {"type": "dimuon", "learning_rate": 1e-3, "beta2": 0.9}}, "beta2"),
        ({"optimizer_params": {"type": "dimuon"}}, "learning_rate is required"),
        ({"optimizer_params": {"type": "dimuon", "learning_rate": 1e-3, "beta1": 1.5}}, "beta1"),
        ({"optimizer_params": {"type": "lion", "learning_rate": 1e-3}}, "optimizer_params.type"),
    ):
        res = _optim(raw, model_id, seq, **body)
        assert needle in str(res), (body, res)
        seq += 1


def test_adam_model_rejects_dimuon_params_and_bad_configs_are_400(server: str) -> None:
    raw = Raw(server)
    model_id = raw.create_model()
    res = _optim(raw, model_id, 1, optimizer_params={"type": "dimuon", "learning_rate": 1e-3})
    assert "created with the adamw optimizer" in str(res)
    for cfg, needle in (
        ({"type": "sgd"}, "optimizer_config.type"),
        ({"type": "dimuon", "version": 2}, "optimizer_config.version"),
        ("dimuon", "optimizer_config must be an object"),
    ):
        status, reply = _create(raw, cfg)  # type: ignore[arg-type]
        assert status == 400 and needle in reply["detail"], (cfg, status, reply)


def _rl_datum(provenance: bool, extra: dict[str, Any] | None = None) -> types.Datum:
    prompt, sampled = [5, 6, 7, 8], [9, 10, 11]
    n = len(prompt) - 1 + len(sampled)
    datum = types.Datum(
        model_input=types.ModelInput.from_ints(prompt + sampled[:-1]),
        loss_fn_inputs={
            "target_tokens": [0] * (len(prompt) - 1) + sampled,
            "logprobs": [0.0] * (len(prompt) - 1) + [-6.0, -6.2, -5.9],
            "advantages": [0.0] * (len(prompt) - 1) + [1.0] * len(sampled),
            **(extra or {}),
        },
    )
    assert datum.model_input.length == n
    if not provenance:
        return datum
    return datum.with_provenance(
        model_input=[
            types.PromptProvenanceSpan(sequence_id="s-1", length=len(prompt)),
            types.SampledProvenanceSpan(sequence_id="s-1", length=len(sampled) - 1),
        ],
        loss_fn_inputs=[
            types.PromptProvenanceSpan(sequence_id="s-1", offset=1, length=len(prompt) - 1),
            types.SampledProvenanceSpan(sequence_id="s-1", length=len(sampled)),
        ],
    )


def test_new_losses_through_the_client(server: str) -> None:
    service = tinkerlite.ServiceClient(base_url=server, api_key="tml-local")
    try:
        tc = service.create_lora_training_client(base_model=BASE, rank=4).result()
        out = tc.forward_backward([_rl_datum(True)], "stable_reinforce", {"kl_coeff": 0.05}).result()
        assert out.metrics["loss:sum"] != 0
        lp = [float(x) for x in out.loss_fn_outputs[0]["logprobs"].dense_flat()]
        assert len(lp) == 6 and all(v < 0 for v in lp)
        with pytest.raises(Exception, match="loss_fn_input_spans"):
            tc.forward_backward([_rl_datum(False)], "stable_reinforce").result()
        mask = {"sequence_ratio_mask": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]}
        gspo = tc.forward_backward([_rl_datum(False, mask)], "gspo").result()
        assert gspo.metrics["loss:sum"] != 0
        # Unknown names stop in the client, before anything is sent, in one line naming key and values.
        with pytest.raises(ValidationError) as info:
            tc.forward_backward([_rl_datum(False)], "grpo")
        msg = str(info.value)
        assert "\n" not in msg and msg.startswith("loss_fn:") and "stable_reinforce" in msg and "gspo" in msg
    finally:
        service.close()


def test_unknown_loss_on_the_wire_is_a_user_error(server: str) -> None:
    raw = Raw(server)
    model_id = raw.create_model()
    rid = raw.submit_fwdbwd(model_id, 1, sft_data(1), loss_fn="grpo")
    res = raw.result(rid)
    assert "unknown loss function 'grpo'" in str(res) and "stable_reinforce" in str(res), res
    assert "internal error" not in str(res)


def _family(info: Any) -> str:
    cfg = info.optimizer_config
    return str(cfg["type"] if isinstance(cfg, dict) else cfg.type)


def test_full_state_resume_keeps_the_dimuon_family(server: str) -> None:
    service = tinkerlite.ServiceClient(base_url=server, api_key="tml-local")
    try:
        tc = service.create_lora_training_client(
            base_model=BASE, rank=4, optimizer=types.DimuonOptimizerConfig()
        ).result()
        data = sft_data(2)
        tc.forward_backward(data, "cross_entropy").result()
        tc.optim_step(types.DimuonParams(learning_rate=0.02)).result()
        path = tc.save_state("dimuon-state").result().path
        resumed = service.create_training_client_from_state_with_optimizer(path).result()
        assert _family(resumed.get_info()) == "dimuon"
        steps = []
        for client in (tc, resumed):
            client.forward_backward(data, "cross_entropy").result()
            client.optim_step(types.DimuonParams(learning_rate=0.02)).result()
            steps.append(client.forward(data, "cross_entropy").result().metrics["loss:sum"])
        assert steps[0] == pytest.approx(steps[1], rel=1e-6)
        fresh = service.create_training_client_from_state(path).result()  # weights only: a fresh AdamW
        assert _family(fresh.get_info()) == "adamw"
    finally:
        service.close()
