"""Sampling routes of the local server: sampling sessions, samplers, and ``asample`` with its checks."""

from __future__ import annotations

import re
from typing import Any

from tinkerlite.errors import ValidationError
from tinkerlite.types import ModelInput

from .http_types import HTTPError, Request, Response, json_response
from .limits import check_sample_cost
from .route_base import RouteBase
from .service import SampleJob

__all__ = ["SamplingRoutes"]


class SamplingRoutes(RouteBase):
    def create_sampling_session(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        sid = self._session(body.get("session_id"))
        seq = self._int(body, "sampling_session_seq_id")
        sampler_id = self.service.create_sampling_session(
            sid, seq, self._str(body, "base_model", required=False), self._str(body, "model_path", required=False)
        )
        return json_response({"sampling_session_id": sampler_id, "type": "create_sampling_session"})

    def get_sampler(self, req: Request, m: re.Match[str]) -> Response:
        s = self.service.sampler(m["sid"])
        out: dict[str, Any] = {"sampler_id": s.sampler_id, "base_model": s.spec.name}
        if s.model_path:
            out["model_path"] = s.model_path
        return json_response(out)

    def asample(self, req: Request, m: re.Match[str]) -> Response:
        body = self._json(req)
        sampler = self.service.sampler_for_request(
            body.get("sampling_session_id"),
            self._str(body, "base_model", required=False),
            self._str(body, "model_path", required=False),
        )
        job = self._sample_job(body, sampler.spec.eos_token_ids)
        check_sample_cost(self.options.limits, job, sampler.spec.max_seq_len)
        key = None
        if body.get("sampling_session_id") is not None and body.get("seq_id") is not None:
            key = (sampler.sampler_id, self._int(body, "seq_id", hi=(1 << 63) - 1))
        fut = self.service.sample(sampler, key, job)
        ids = [f"{fut.request_id}:{i}" for i in range(job.num_samples)]
        return self._future(fut, None, sample_sequence_ids=ids)

    def _sample_job(self, body: dict[str, Any], eos: tuple[int, ...]) -> SampleJob:
        prompt_obj = body.get("prompt")
        try:
            prompt = ModelInput.from_json(prompt_obj).to_ints()
        except (ValidationError, ValueError, TypeError) as e:
            raise HTTPError(400, f"prompt: {e}") from None
        if not prompt:
            raise HTTPError(400, "prompt must hold at least one token")
        sp = self._dict(body, "sampling_params")
        max_tokens = sp.get("max_tokens")
        if max_tokens is not None:
            max_tokens = self._int(sp, "max_tokens", hi=1 << 20)
        seed = sp.get("seed")
        if seed is not None:
            seed = self._int(sp, "seed", hi=(1 << 64) - 1)
        temperature = self._float(sp, "temperature", 1.0, lo=0.0)
        top_p = self._float(sp, "top_p", 1.0, lo=0.0, hi=1.0)
        if top_p == 0.0:
            raise HTTPError(400, "top_p must lie in (0, 1]")
        top_k = sp.get("top_k", -1)
        if top_k is None:
            top_k = -1
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < -1:
            raise HTTPError(400, f"top_k must be -1 or a non-negative integer, got {top_k!r}")
        if top_k == 0:
            top_k = -1
        stop = sp.get("stop")
        stop_ids: tuple[int, ...] = eos
        stop_strings: tuple[str, ...] = ()
        if stop is not None:
            items = [stop] if isinstance(stop, str) else stop
            if not isinstance(items, list):
                raise HTTPError(400, "sampling_params.stop must be a string, a list of strings or a list of token ids")
            if all(isinstance(x, str) for x in items):
                stop_ids, stop_strings = (), tuple(x for x in items if x)
            elif all(isinstance(x, int) and not isinstance(x, bool) for x in items):
                stop_ids = tuple(items)
            else:
                raise HTTPError(400, "sampling_params.stop must not mix strings and token ids")
        for key in ("topk_sample_logprobs", "prompt_alt_tokens_k"):
            if body.get(key) not in (None, 0, False):
                raise HTTPError(400, f"{key} is not supported by the local server")
        if body.get("target_prompt_logprobs") is not None:
            raise HTTPError(400, "target_prompt_logprobs is not supported by the local server")
        last_n = body.get("prompt_logprobs_last_n")
        if last_n is not None:
            last_n = self._int(body, "prompt_logprobs_last_n", hi=1 << 30)
        num_samples = self._int(body, "num_samples", default=1, lo=1, hi=self.service.limits.max_num_samples)
        topk = self._int(body, "topk_prompt_logprobs", default=0, hi=self.service.limits.max_topk)
        return SampleJob(
            prompt=prompt,
            num_samples=num_samples,
            max_tokens=max_tokens,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            seed=seed,
            stop_token_ids=stop_ids,
            stop_strings=stop_strings,
            prompt_logprobs=self._bool(body, "prompt_logprobs", False),
            topk_prompt_logprobs=topk,
            prompt_logprobs_last_n=last_n,
        )
