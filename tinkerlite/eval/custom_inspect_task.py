"""The cookbook's ``eval.custom_inspect_task``: an LLM-as-a-judge inspect task, graded by a Tinker model.

Run it with::

    python -m tinkerlite.eval.run_inspect_evals model_path=tinker://your-model-path \\
        tasks=tinkerlite.eval.custom_inspect_task:example_lm_as_judge \\
        renderer_name=role_colon model_name=Qwen/Qwen3.5-9B-Base

The grader is ``Qwen/Qwen3.5-9B`` sampled through Tinker (renderer ``qwen3_5_disable_thinking``), as in
the cookbook. One deliberate difference: the cookbook creates ``service_client``, ``sampling_client``,
``api`` and ``GRADER_MODEL`` when the module is imported (so importing it needs the service and the
model's tokenizer); here they are created on first use, by the same code, so the module imports offline
and a caller may set ``GRADER_MODEL`` (or ``sampling_client``) to a judge of its own first. Needs the
``inspect`` extra.
"""

from __future__ import annotations

import threading
from typing import Any

import tinkerlite as tinker

from ._inspect_gate import load
from .inspect_utils import InspectAPIFromTinkerSampling

_inspect_ai, _dataset, _model, _scorer, _solver = load(
    __name__, "inspect_ai", "inspect_ai.dataset", "inspect_ai.model", "inspect_ai.scorer", "inspect_ai.solver"
)

GRADER_BASE_MODEL = "Qwen/Qwen3.5-9B"
GRADER_RENDERER = "qwen3_5_disable_thinking"

QA_DATASET = _dataset.MemoryDataset(
    name="qa_dataset",
    samples=[
        _dataset.Sample(input="What is the capital of France?", target="Paris"),
        _dataset.Sample(input="What is the capital of Italy?", target="Rome"),
    ],
)

_LAZY = ("service_client", "sampling_client", "api", "GRADER_MODEL")
_lock = threading.RLock()  # re-entrant: building one value builds the ones it needs


def _build(name: str) -> Any:
    """Create the lazy module value ``name`` (and those it depends on), as the cookbook does at import."""
    g = globals()
    with _lock:
        if name in g:
            return g[name]
        if name == "service_client":
            value: Any = tinker.ServiceClient()
        elif name == "sampling_client":
            value = _build("service_client").create_sampling_client(base_model=GRADER_BASE_MODEL).result()
        elif name == "api":
            value = InspectAPIFromTinkerSampling(
                renderer_name=GRADER_RENDERER,
                model_name=GRADER_BASE_MODEL,
                sampling_client=_build("sampling_client"),
                verbose=False,
            )
        else:
            value = _model.Model(api=_build("api"), config=_model.GenerateConfig())
        g[name] = value
        return value


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return _build(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@_inspect_ai.task  # type: ignore[untyped-decorator,misc,unused-ignore]
def example_lm_as_judge() -> Any:
    """Example task scored by an LLM judge (``model_graded_qa``) against the target answers.

    The judge is ``GRADER_MODEL`` (the cookbook's note: without ``model=`` the judge would be the model
    under evaluation; ``--model-grader`` picks another when running inspect directly).
    """
    return _inspect_ai.Task(
        name="llm_as_judge",
        dataset=QA_DATASET,
        solver=_solver.generate(),
        scorer=_scorer.model_graded_qa(
            instructions="Grade strictly against the target text as general answer key and rubric. "
            "Respond 'GRADE: C' if correct or 'GRADE: I' otherwise.",
            partial_credit=False,
            model=_build("GRADER_MODEL"),
        ),
    )

