"""One scripted client flow, runnable with the official ``tinker`` SDK or with tinkerlite.

Usage: ``python sdk_flow.py tinker|tinkerlite <base_url>``. Sequential on purpose, so that the
request sequence is deterministic and can be compared across SDKs.
"""

from __future__ import annotations

import faulthandler
import sys
from typing import Any

API_KEY = "tml-test-key-0123456789"


def main(sdk: str, url: str) -> None:
    faulthandler.dump_traceback_later(120, exit=True)  # a hang reports where, instead of timing out silently
    if sdk == "tinker":
        import tinker  # type: ignore[import-not-found]
        from tinker import types

        service_cls: Any = tinker.ServiceClient
    else:
        from tinkerlite import types
        from tinkerlite.client import ServiceClient

        service_cls = ServiceClient

    def datum(toks: list[int], weights: list[float]) -> Any:
        return types.Datum(
            model_input=types.ModelInput.from_ints(toks),
            loss_fn_inputs={
                "target_tokens": types.TensorData(data=[t + 1 for t in toks], dtype="int64", shape=[len(toks)]),
                "weights": types.TensorData(data=weights, dtype="float32", shape=[len(toks)]),
            },
        )

    data = [datum([1, 2, 3], [1.0, 1.0, 0.5]), datum([4, 5], [0.0, 1.0]), datum([6, 7, 8, 9], [1.0, 1.0, 1.0, 1.0])]
    sc = service_cls(base_url=url, api_key=API_KEY, user_metadata={"flow": "parity"})
    tc = sc.create_lora_training_client(base_model="Base/Model", rank=8, seed=7).result()
    fb = tc.forward_backward(data, "cross_entropy")
    opt = tc.optim_step(types.AdamParams(learning_rate=2e-4, weight_decay=0.01))
    fb.result()
    opt.result()
    tc.forward(data[:1], "cross_entropy").result()
    tc.save_state("ckpt-1").result()
    tc.save_weights_for_sampler("s-1").result()
    samp = tc.save_weights_and_get_sampling_client().result()
    prompt = types.ModelInput.from_ints([11, 12, 13])
    samp.sample(prompt, 2, types.SamplingParams(max_tokens=3, temperature=0.7, seed=5)).result()
    samp.compute_logprobs(prompt).result()
    other = sc.create_sampling_client(base_model="Base/Model").result()
    other.sample(prompt, 1, types.SamplingParams(max_tokens=2, stop=[13])).result()
    sc.close("success").result()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
