"""The checkpoint playground: sample from a run's checkpoints through tinkerlite's own client.

Where the weights live decides the service: ``TINKER_BASE_URL`` (with ``TINKER_API_KEY``) from the
environment names a service (``tinkerlite serve`` or the real one); otherwise a run trained against the
embedded server has its state in ``<log_path>/server`` (:mod:`tinkerlite.local_endpoint`), and the
playground starts one embedded server over that state the first time it is used, kept until the viewer
stops. The prompt is rendered with the run's renderer; each sampled token comes back with its logprob and
the top alternatives, read by scoring the prompt plus the sample once with ``topk_prompt_logprobs``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

__all__ = ["Playground", "PlaygroundError"]

MAX_SAMPLES = 16
MAX_TOKENS = 512
MAX_TOPK = 10


class PlaygroundError(ValueError):
    """A playground request that cannot be served (bad field, no service for the run)."""


def _field(body: dict[str, Any], name: str, kind: type, default: Any, lo: float, hi: float) -> Any:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        raise PlaygroundError(f"{name}: expected a number, got {value!r}")
    if not lo <= value <= hi:
        raise PlaygroundError(f"{name}: {value} is outside [{lo}, {hi}]")
    return kind(value)


class Playground:
    """One sampling service per run state dir, started on first use; :meth:`close` stops them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stack = contextlib.ExitStack()
        self._clients: dict[str, Any] = {}

    def close(self) -> None:
        with self._lock:
            for c in self._clients.values():
                with contextlib.suppress(Exception):
                    c.close()
            self._clients.clear()
            self._stack.close()

    def endpoint(self, run_dir: str) -> str:
        """Which service this run's checkpoints are sampled on, in words (for the page)."""
        if os.environ.get("TINKER_BASE_URL"):
            return f"service {os.environ['TINKER_BASE_URL']} (TINKER_BASE_URL)"
        if os.path.isdir(os.path.join(run_dir, "server")):
            return f"embedded local server over {os.path.join(run_dir, 'server')}"
        return "none: set TINKER_BASE_URL and TINKER_API_KEY to sample this run's checkpoints"

    def _service(self, run_dir: str) -> Any:
        from ..client import ServiceClient

        env_url = os.environ.get("TINKER_BASE_URL")
        key = env_url or os.path.realpath(os.path.join(run_dir, "server"))
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                return client
            if env_url:
                client = ServiceClient(base_url=env_url, api_key=os.environ.get("TINKER_API_KEY"))
            else:
                if not os.path.isdir(key):
                    raise PlaygroundError(self.endpoint(run_dir))
                from .._optional import require
                from ..local import serve
                from ..local_endpoint import LOCAL_API_KEY

                require("numpy", "sampling from the embedded server's checkpoints", extra="local")
                url = self._stack.enter_context(serve(api_key=LOCAL_API_KEY, state_dir=key))
                client = ServiceClient(base_url=url, api_key=LOCAL_API_KEY)
            self._clients[key] = client
            return client

    def sample(self, run_dir: str, config: dict[str, Any] | None, body: dict[str, Any]) -> dict[str, Any]:
        """Sample ``num_samples`` completions of ``prompt`` from ``model_path`` (a ``tinker://`` sampler path;
        empty: the run's base model), each token with its logprob and top alternatives."""
        from ..model_info import get_recommended_renderer_name
        from ..renderers import get_renderer
        from ..tokenizers import get_tokenizer
        from ..types import ModelInput, SamplingParams

        config = config or {}
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise PlaygroundError("prompt: expected a non-empty string")
        model_path = body.get("model_path") or None
        if model_path is not None and (not isinstance(model_path, str) or not model_path.startswith("tinker://")):
            raise PlaygroundError(f"model_path: expected a tinker:// sampler path, got {model_path!r}")
        n = _field(body, "num_samples", int, 1, 1, MAX_SAMPLES)
        temperature = _field(body, "temperature", float, 1.0, 0.0, 5.0)
        max_tokens = _field(body, "max_tokens", int, 32, 1, MAX_TOKENS)
        topk = _field(body, "topk", int, 5, 0, MAX_TOPK)
        stop = body.get("stop")
        if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
            raise PlaygroundError("stop: expected a list of strings")
        model_name = config.get("model_name")
        if not isinstance(model_name, str):
            raise PlaygroundError("this run's config.json names no model_name")
        tokenizer = get_tokenizer(model_name)
        renderer_name = config.get("renderer_name") or get_recommended_renderer_name(model_name)
        renderer = get_renderer(renderer_name, tokenizer)
        model_input = renderer.build_generation_prompt([{"role": "user", "content": prompt}])
        prompt_tokens = model_input.to_ints()
        service = self._service(run_dir)
        if model_path:
            sampler = service.create_sampling_client(model_path=model_path).result()
        else:
            sampler = service.create_sampling_client(base_model=model_name).result()
        stops = stop if stop else renderer.get_stop_sequences()
        params = SamplingParams(max_tokens=max_tokens, temperature=temperature, stop=stops)
        result = sampler.sample(prompt=model_input, num_samples=n, sampling_params=params).result()
        samples = []
        for seq in result.sequences:
            alts: list[Any] = []
            if topk and seq.tokens:
                scored = sampler.sample(
                    prompt=ModelInput.from_ints([*prompt_tokens, *seq.tokens]),
                    num_samples=1,
                    sampling_params=SamplingParams(max_tokens=1, temperature=1.0),
                    include_prompt_logprobs=True,
                    topk_prompt_logprobs=topk,
                ).result()
                rows = scored.topk_prompt_logprobs or []
                alts = list(rows[len(prompt_tokens) :])
            logprobs = list(seq.logprobs or [None] * len(seq.tokens))
            tokens = []
            for i, (tok, lp) in enumerate(zip(seq.tokens, logprobs, strict=True)):
                row = alts[i] if i < len(alts) and alts[i] else []
                tokens.append(
                    {
                        "id": tok,
                        "t": tokenizer.decode([tok]),
                        "lp": lp,
                        "top": [{"t": tokenizer.decode([a]), "lp": alp} for a, alp in row],
                    }
                )
            samples.append(
                {"text": tokenizer.decode(list(seq.tokens)), "stop_reason": seq.stop_reason, "tokens": tokens}
            )
        return {
            "model_path": model_path,
            "base_model": model_name,
            "renderer": renderer_name,
            "prompt_rendered": tokenizer.decode(prompt_tokens),
            "endpoint": self.endpoint(run_dir),
            "samples": samples,
        }
