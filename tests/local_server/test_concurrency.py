"""4 clients × 2 models in parallel: every model ends exactly where it would have alone."""

from __future__ import annotations

import threading

from ._helpers import Raw, sft_data


def train(url: str, offset: int, steps: int = 3) -> list[list[list[float]]]:
    """Train two models of one session on different data; return each model's final log-probs."""
    c = Raw(url)
    models = [c.create_model(rank=2), c.create_model(rank=2)]
    data = [sft_data(2, 8, offset=offset), sft_data(2, 8, offset=offset + 50)]
    seq = 1
    for _ in range(steps):
        for m, d in zip(models, data, strict=True):
            rid = c.submit_fwdbwd(m, seq, d)
            c.optim(m, seq + 1, lr=2e-2)
            c.result(rid, proto=True)
        seq += 2
    return [
        [o["logprobs"].tolist() for o in c.fwdbwd(m, seq, d, forward_only=True).loss_fn_outputs]
        for m, d in zip(models, data, strict=True)
    ]


def test_four_clients_two_models_no_cross_talk(server: str) -> None:
    reference = [train(server, k * 7) for k in range(4)]
    results: dict[int, list[list[list[float]]]] = {}
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            results[k] = train(server, k * 7)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors
    for k in range(4):
        assert results[k] == reference[k], f"client {k} diverged from its solo run"
    # Different data really gave different models (the comparison above is not vacuous).
    assert reference[0][0] != reference[1][0]
