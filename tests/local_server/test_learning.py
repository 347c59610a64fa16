"""The local server really trains: losses fall, and checkpoints continue bit for bit."""

from __future__ import annotations

import time
from pathlib import Path

import tinkerlite.local
from tinkerlite.local import checkpoint_format
from tinkerlite.types import Datum, ModelInput

from ._helpers import Raw, get, post

# A small bundled SFT set: byte-tokenized sentences framed by <|bos|> (256) and <|eos|> (257).
TEXTS = [
    "The cat sat on the mat.",
    "A bird can fly high.",
    "Fish swim in the sea.",
    "The sun is hot today.",
    "Rain falls from clouds.",
    "Dogs like to run fast.",
    "Snow is cold and white.",
    "Trees grow tall and green.",
]


def sft_set() -> list[Datum]:
    out = []
    for text in TEXTS:
        toks = [256, *text.encode(), 257]
        out.append(
            Datum(
                model_input=ModelInput.from_ints(toks[:-1]),
                loss_fn_inputs={"target_tokens": toks[1:], "weights": [1.0] * (len(toks) - 1)},
            )
        )
    return out


def test_sft_halves_mean_nll_within_60s(server: str) -> None:
    data = sft_set()
    n_tokens = sum(d.model_input.length for d in data)
    c = Raw(server)
    t0 = time.monotonic()
    mid = c.create_model(rank=8)
    seq = 1
    first = c.fwdbwd(mid, seq, data, forward_only=True).metrics["loss:sum"] / n_tokens
    seq += 1
    for _ in range(15):
        c.fwdbwd(mid, seq, data)
        c.optim(mid, seq + 1, lr=1e-2)
        seq += 2
    last = c.fwdbwd(mid, seq, data, forward_only=True).metrics["loss:sum"] / n_tokens
    elapsed = time.monotonic() - t0
    assert last <= 0.5 * first, (first, last)
    assert elapsed <= 60, elapsed


def _weights(state_dir: Path, path: str) -> dict[str, object]:
    run, kind, name = path[len("tinker://") :].split("/")
    return checkpoint_format.loads((state_dir / "runs" / run / kind / f"{name}.npz").read_bytes())


def _same(a: dict[str, object], b: dict[str, object]) -> bool:
    import numpy as np

    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)  # type: ignore[arg-type]


def test_checkpoint_round_trip_is_bit_identical_across_restart(tmp_path: Path) -> None:
    data = sft_set()[:4]
    with tinkerlite.local.serve(state_dir=str(tmp_path)) as url:
        c = Raw(url)
        mid = c.create_model(rank=4)
        c.fwdbwd(mid, 1, data)
        c.optim(mid, 2, lr=1e-2)
        c.fwdbwd(mid, 3, data)
        c.optim(mid, 4, lr=1e-2)
        saved = c.save(mid, 5, "mid")["path"]
        c.fwdbwd(mid, 6, data)
        c.optim(mid, 7, lr=1e-2)
        uninterrupted = c.save(mid, 8, "after")["path"]
    # A new server on the same state dir lists the checkpoints and continues from one exactly.
    with tinkerlite.local.serve(state_dir=str(tmp_path)) as url:
        listed = get(url, f"training_runs/{mid}/checkpoints").json()["checkpoints"]
        assert sorted(x["checkpoint_id"] for x in listed) == ["weights/after", "weights/mid"]
        c = Raw(url)
        r = post(
            url,
            "load_weights",
            {"session_id": c.session_id, "model_seq_id": 0, "path": saved, "optimizer": True, "type": "load_weights"},
        )
        assert r.status == 200
        loaded = c.result(r.json()["request_id"])
        mid2 = loaded["model_id"]
        assert mid2 == f"{c.session_id}:train:0"
        c.model_seq = 1  # the load took model_seq_id 0
        c.fwdbwd(mid2, 1, data)
        c.optim(mid2, 2, lr=1e-2)
        resumed = c.save(mid2, 3, "after")["path"]
        # Legacy form: create_model, then load_weights (seq 1) without the optimizer: moments reset,
        # so the next step differs from the uninterrupted run.
        mid3 = c.create_model(rank=4)
        r = post(url, "load_weights", {"model_id": mid3, "seq_id": 1, "path": saved, "optimizer": False})
        assert "error" not in c.result(r.json()["request_id"])
        c.fwdbwd(mid3, 2, data)
        c.optim(mid3, 3, lr=1e-2)
        no_opt = c.save(mid3, 4, "after")["path"]
    a, b, n = _weights(tmp_path, uninterrupted), _weights(tmp_path, resumed), _weights(tmp_path, no_opt)
    assert _same(a, b)
    assert not _same(a, n)


def test_checkpoint_of_wrong_base_model_is_refused(server: str) -> None:
    c = Raw(server)
    mid = c.create_model(rank=4)
    path = c.save(mid, 1, "x")["path"]
    other = c.create_model(rank=2)  # different LoRA shape
    r = post(server, "load_weights", {"model_id": other, "seq_id": 1, "path": path, "optimizer": True})
    res = c.result(r.json()["request_id"])
    assert res["category"] == "user" and "error" in res


def test_importance_sampling_raises_toy_reward_within_60s(server: str) -> None:
    """RL loop: sample one token, reward capital letters, train with importance_sampling on the advantages."""
    prompt = [258, *b"Answer with a capital letter:", 259]
    n = len(prompt)
    c = Raw(server)
    t0 = time.monotonic()
    mid = c.create_model(rank=8)
    seq = 1
    rewards = []
    for step in range(8):
        r = post(server, "save_weights_for_sampler", {"model_id": mid, "seq_id": seq, "sampling_session_seq_id": step})
        sid = c.result(r.json()["request_id"])["sampling_session_id"]
        seq += 1
        res = c.sample(
            {
                "sampling_session_id": sid,
                "seq_id": 0,
                "num_samples": 64,
                "prompt": {"chunks": [{"type": "encoded_text", "tokens": prompt}]},
                "sampling_params": {"max_tokens": 1, "seed": 100 + step, "stop": []},
            }
        )
        rs = [1.0 if 65 <= s.tokens[0] <= 90 else 0.0 for s in res.sequences]
        mean = sum(rs) / len(rs)
        rewards.append(mean)
        pad = [0.0] * (n - 1)
        data = [
            Datum(
                model_input=ModelInput.from_ints(prompt),
                loss_fn_inputs={
                    "target_tokens": [0] * (n - 1) + [s.tokens[0]],
                    "logprobs": [*pad, (s.logprobs or [0.0])[0]],
                    "advantages": [*pad, rw - mean],
                },
            )
            for s, rw in zip(res.sequences, rs, strict=True)
        ]
        c.fwdbwd(mid, seq, data, loss_fn="importance_sampling")
        c.optim(mid, seq + 1, lr=5e-2)
        seq += 2
    elapsed = time.monotonic() - t0
    assert rewards[0] < 0.2, rewards  # capital letters are rare under the random base model
    assert min(rewards[-2:]) >= rewards[0] + 0.4, rewards
    assert elapsed <= 60, elapsed
