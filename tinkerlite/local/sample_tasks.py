"""Sampling jobs as the scheduler runs them: one request alone, or several of one sampler together.

A :class:`SampleTask` is a validated request bound to its sampler's model. Calling it runs it alone;
:func:`run_sample_tasks` runs a batch of them through :func:`~tinkerlite.local.sampling.sample_group`,
which decodes requests of equal prompt length and row count as one group with results bit-identical to
their solo runs, so batching changes throughput, never a token or a log-prob.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tinkerlite.types import SampledSequence, SampleResponse

from ._service_records import SampleJob

__all__ = ["SampleTask", "run_sample_tasks"]


@dataclass(frozen=True)
class SampleTask:
    model: Any  # TinyTransformer (a sampler's read-only snapshot)
    job: SampleJob
    should_stop: Callable[[list[int]], bool] | None = None

    def __call__(self) -> SampleResponse:
        (out,) = run_sample_tasks([self])
        if isinstance(out, Exception):
            raise out
        assert isinstance(out, SampleResponse)
        return out

    def request(self) -> Any:
        from . import sampling

        job = self.job
        params = sampling.SamplingParams(
            max_tokens=job.max_tokens,
            temperature=job.temperature,
            top_k=job.top_k,
            top_p=job.top_p,
            seed=job.seed,
            stop_token_ids=job.stop_token_ids,
        )
        return sampling.SampleRequest(
            job.prompt, job.num_samples, params, job.prompt_logprobs, job.topk_prompt_logprobs, self.should_stop
        )

    def respond(self, res: Any) -> SampleResponse:
        """The wire response for ``res`` (a ``sampling.SampleResult``)."""
        job = self.job
        seqs = [SampledSequence(s.stop_reason, list(s.tokens), list(s.logprobs)) for s in res.sequences]
        plp, topk = res.prompt_logprobs, res.topk_prompt_logprobs
        if job.prompt_logprobs_last_n is not None:
            # Only the last n positions are scored; the SDK checks that earlier ones are null.
            keep_from = max(0, len(job.prompt) - job.prompt_logprobs_last_n)
            if plp is not None:
                plp = [None if i < keep_from else v for i, v in enumerate(plp)]
            if topk is not None:
                topk = [None if i < keep_from else v for i, v in enumerate(topk)]
        return SampleResponse(seqs, plp, topk)


def run_sample_tasks(tasks: Sequence[Callable[[], object]]) -> list[object]:
    """Run sampling tasks of one model together: a response, or the exception, per task."""
    from .sample_procs import pool

    typed = [t for t in tasks if isinstance(t, SampleTask)]
    if len(typed) != len(tasks):
        raise TypeError("run_sample_tasks takes SampleTask jobs only")
    results = pool().sample_group(typed[0].model, [t.request() for t in typed])
    return [r if isinstance(r, Exception) else t.respond(r) for t, r in zip(typed, results, strict=True)]
