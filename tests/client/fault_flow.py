"""One client flow against a faulty server, runnable with the official ``tinker`` SDK or tinkerlite.

Usage: ``python fault_flow.py tinker|tinkerlite <base_url>``. Prints one JSON object: for each call,
``"ok"`` or the exception's class name and whether it is a ``ValueError``/``RuntimeError``, so a test
can compare how the two SDKs answer the same server (see ``test_bounded_errors.py``).
"""

from __future__ import annotations

import faulthandler
import json
import sys
from typing import Any

API_KEY = "tml-test-key-0123456789"


def main(sdk: str, url: str) -> None:
    faulthandler.dump_traceback_later(120, exit=True)
    if sdk == "tinker":
        import tinker  # type: ignore[import-not-found]
        from tinker import types

        service_cls: Any = tinker.ServiceClient
    else:
        from tinkerlite import types
        from tinkerlite.client import ServiceClient

        service_cls = ServiceClient

    def datum(n: int) -> Any:
        toks = list(range(1, n + 1))
        return types.Datum(
            model_input=types.ModelInput.from_ints(toks),
            loss_fn_inputs={
                "target_tokens": types.TensorData(data=[t + 1 for t in toks], dtype="int64", shape=[n]),
                "weights": types.TensorData(data=[1.0] * n, dtype="float32", shape=[n]),
            },
        )

    def outcome(fut: Any) -> Any:
        try:
            fut.result()
        except Exception as e:
            return {
                "error": type(e).__name__,
                "ValueError": isinstance(e, ValueError),
                "RuntimeError": isinstance(e, RuntimeError),
            }
        return "ok"

    sc = service_cls(base_url=url, api_key=API_KEY)
    tc = sc.create_lora_training_client(base_model="Base/Model", rank=8).result()
    out: dict[str, Any] = {}
    # the server answers the first forward_backward with a 400
    first = tc.forward_backward([datum(3)], "cross_entropy")
    out["first_fwdbwd"] = outcome(first)
    out["second_fwdbwd"] = outcome(tc.forward_backward([datum(4)], "cross_entropy"))
    out["optim_step"] = outcome(tc.optim_step(types.AdamParams(learning_rate=1e-4)))
    # the server answers every poll for a forward (request type "Forward") with a bare 400
    out["forward_polled_400"] = outcome(tc.forward([datum(2)], "cross_entropy"))
    out["after"] = outcome(tc.forward_backward([datum(2)], "cross_entropy"))
    print(json.dumps(out, sort_keys=True))
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
