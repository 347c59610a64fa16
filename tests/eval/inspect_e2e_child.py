"""Runs in the inspect venv (tests/eval/inspect_env.py) for test_inspect_e2e: inspect_ai tasks evaluated
through tinkerlite's inspect integration against an embedded ``tinkerlite.local.serve``.

``python -m tests.eval.inspect_e2e_child MODE LOG_DIR`` prints one JSON line (the last line of stdout)
with what the parent asserts on. MODE is ``evaluator`` (InspectEvaluatorBuilder on a custom task),
``run_main`` (run_inspect_evals.main on a checkpoint path), ``cli`` (its key=value command line),
``registry`` (inspect's get_model with a model_path), ``tools`` (a tool-using task, reasoning content) or
``judge`` (custom_inspect_task's LLM-judge
task with a scripted judge).
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import sys
from typing import Any

import tinkerlite as tinker
from tinkerlite import renderers, types
from tinkerlite.local import serve
from tinkerlite.tokenizer_utils import get_tokenizer

MODEL = "tinkerlite/tiny-chat"
RENDERER = "role_colon"
KEY = "tml-local"
MAX_TOKENS = 12
QUESTIONS = ["What is the capital of France?", "What color is snow?", "Name a prime number.", "What is 2 + 2?"]
NEVER = "zebra-quartz-never-sampled"  # a target the tiny model's 12 greedy tokens cannot contain


def greedy_answers(sampling_client: Any) -> list[dict[str, Any]]:
    """Each question sampled directly (no inspect): the prompt length and the parsed text."""
    renderer = renderers.get_renderer(RENDERER, get_tokenizer(MODEL))
    out = []
    for q in QUESTIONS:
        prompt = renderer.build_generation_prompt([renderers.Message(role="user", content=q)])
        params = types.SamplingParams(max_tokens=MAX_TOKENS, temperature=0.0, stop=renderer.get_stop_sequences())
        seq = sampling_client.sample(prompt=prompt, num_samples=1, sampling_params=params).result().sequences[0]
        text = renderers.get_text_content(renderer.parse_response(seq.tokens)[0])
        out.append({"prompt_tokens": prompt.length, "text": text, "n_tokens": len(seq.tokens)})
    return out


def make_task(targets: list[str]) -> Any:
    from inspect_ai import Task
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.scorer import includes
    from inspect_ai.solver import generate

    samples = [Sample(input=q, target=t, id=i) for i, (q, t) in enumerate(zip(QUESTIONS, targets, strict=True))]
    return Task(name="tiny_qa", dataset=MemoryDataset(samples, name="tiny_qa"), solver=generate(), scorer=includes())


def targets_from(answers: list[dict[str, Any]]) -> list[str]:
    """Samples 0 and 1 target a piece of the model's own greedy answer (correct), 2 and 3 an impossible one."""
    out = []
    for i, a in enumerate(answers):
        piece = a["text"].strip()[:4]
        assert piece and NEVER not in a["text"], a
        out.append(piece if i < 2 else NEVER)
    return out


def read_samples(log_dir: str) -> list[dict[str, Any]]:
    from inspect_ai.log import read_eval_log

    logs = sorted(glob.glob(os.path.join(log_dir, "*.eval")))
    rows = []
    for path in logs:
        log = read_eval_log(path)
        for s in log.samples or []:
            usage = next(iter(s.model_usage.values()), None) if s.model_usage else None
            rows.append(
                {
                    "id": s.id,
                    "completion": s.output.completion,
                    "score": next(iter(s.scores.values())).value if s.scores else None,
                    "input_tokens": usage.input_tokens if usage else None,
                    "output_tokens": usage.output_tokens if usage else None,
                    "error": str(s.error) if s.error else None,
                }
            )
    return rows


def mode_evaluator(log_dir: str) -> dict[str, Any]:
    from tinkerlite.eval.inspect_evaluators import InspectEvaluator, InspectEvaluatorBuilder

    with serve(api_key=KEY) as url:
        service = tinker.ServiceClient(base_url=url, api_key=KEY)
        sampling_client = service.create_sampling_client(base_model=MODEL).result()
        answers = greedy_answers(sampling_client)
        builder = InspectEvaluatorBuilder(
            tasks=make_task(targets_from(answers)),
            renderer_name=RENDERER,
            model_name=MODEL,
            temperature=0.0,
            max_tokens=MAX_TOKENS,
            seed=0,
            log_dir=log_dir,
            max_connections=4,
            log_level="warning",
        )
        evaluator = builder()
        assert isinstance(evaluator, InspectEvaluator)
        metrics = asyncio.run(evaluator(sampling_client))
        service.close()
    return {"metrics": metrics, "answers": answers, "samples": read_samples(log_dir)}


def mode_run_main(log_dir: str) -> dict[str, Any]:
    from tinkerlite.eval import run_inspect_evals

    with serve(api_key=KEY) as url:
        os.environ["TINKER_BASE_URL"], os.environ["TINKER_API_KEY"] = url, KEY
        service = tinker.ServiceClient()
        trainer = service.create_lora_training_client(base_model=MODEL, rank=4)
        path = trainer.save_weights_for_sampler(name="inspect-e2e").result().path
        answers = greedy_answers(service.create_sampling_client(model_path=path).result())
        config = run_inspect_evals.Config(
            tasks=make_task(targets_from(answers)),
            model_path=path,
            temperature=0.0,
            max_tokens=MAX_TOKENS,
            log_dir=log_dir,
            log_level="warning",
        )
        asyncio.run(run_inspect_evals.main(config))
        mismatch: str | None = None
        try:
            asyncio.run(run_inspect_evals.main(run_inspect_evals.Config(tasks=[], model_path=path, model_name="x/y")))
        except Exception as e:
            mismatch = f"{type(e).__name__}: {e}"
        service.close()
    return {"path": path, "answers": answers, "samples": read_samples(log_dir), "mismatch": mismatch}


TASK_FILE = """
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate


@task
def tiny_cli():
    samples = [Sample(input=q, target=t, id=i) for i, (q, t) in enumerate(zip({questions!r}, {targets!r}))]
    return Task(dataset=MemoryDataset(samples, name="tiny_cli"), solver=generate(), scorer=includes())
"""


def mode_cli(log_dir: str) -> dict[str, Any]:
    """``python -m tinkerlite.eval.run_inspect_evals key=value ...`` (its ``_cli``) on a task file."""
    from tinkerlite.eval import run_inspect_evals

    with serve(api_key=KEY) as url:
        os.environ["TINKER_BASE_URL"], os.environ["TINKER_API_KEY"] = url, KEY
        service = tinker.ServiceClient()
        answers = greedy_answers(service.create_sampling_client(base_model=MODEL).result())
        os.makedirs(log_dir, exist_ok=True)
        task_file = os.path.join(log_dir, "tiny_cli_task.py")
        with open(task_file, "w") as f:
            f.write(TASK_FILE.format(questions=QUESTIONS, targets=targets_from(answers)))
        words = [f"tasks={task_file}@tiny_cli", f"model_name={MODEL}", "temperature=0", f"max_tokens={MAX_TOKENS}",
                 f"log_dir={log_dir}", "log_level=warning", "metadata=who:test"]
        rc = run_inspect_evals._cli(words)
        bad = run_inspect_evals._cli(["tasks=x", "max_tokenz=3"])
        service.close()
    return {"rc": rc, "bad_rc": bad, "answers": answers, "samples": read_samples(log_dir)}


class ScriptedSampler:
    """A sampling client (only ``sample``) that answers from a script of texts, recording each prompt."""

    def __init__(self, replies: list[str]) -> None:
        self.tokenizer = get_tokenizer(MODEL)
        self.replies, self.prompts = list(replies), []  # type: ignore[var-annotated]

    def sample(self, prompt: Any, sampling_params: Any, num_samples: int) -> Any:
        self.prompts.append(self.tokenizer.decode(prompt.to_ints()))
        tokens = self.tokenizer.encode(self.replies.pop(0), add_special_tokens=False)

        async def answer() -> Any:
            seqs = [types.SampledSequence(stop_reason="stop", tokens=tokens) for _ in range(num_samples)]
            return types.SampleResponse(sequences=seqs)

        return answer()


def mode_tools(log_dir: str) -> dict[str, Any]:
    """A tool-using inspect task (qwen3 renderer: native tool calls) and reasoning content, via a scripted sampler."""
    from inspect_ai import Task, eval_async
    from inspect_ai.dataset import Sample
    from inspect_ai.model import GenerateConfig, Model
    from inspect_ai.scorer import includes
    from inspect_ai.solver import generate, use_tools
    from inspect_ai.tool import tool

    from tinkerlite.eval.inspect_utils import InspectAPIFromTinkerSampling

    calls: list[int] = []

    @tool
    def add():  # type: ignore[no-untyped-def]
        async def execute(x: int, y: int) -> int:
            """Add two numbers.

            Args:
                x: First number.
                y: Second number.
            """
            calls.append(x + y)
            return x + y

        return execute

    call = json.dumps({"name": "add", "arguments": {"x": 2, "y": 40}})
    replies = [f"<tool_call>\n{call}\n</tool_call><|im_end|>", "<think>sum is 42</think>It is 42.<|im_end|>"]
    sampler = ScriptedSampler(replies)
    api = InspectAPIFromTinkerSampling(renderer_name="qwen3", model_name=MODEL, sampling_client=sampler,
                                       include_reasoning=True)
    task = Task(dataset=[Sample(input="What is 2 + 40? Use the tool.", target="42")],
                solver=[use_tools(add()), generate()], scorer=includes(), name="tiny_tools")
    logs = asyncio.run(eval_async(task, model=Model(api=api, config=GenerateConfig(max_tokens=32)), log_dir=log_dir,
                                  log_level="warning"))
    sample = logs[0].samples[0]
    final = sample.output.message.content
    return {
        "calls": calls,
        "declared": ['"name": "add"' in p or '"name":"add"' in p for p in sampler.prompts],
        "tool_result_seen": "42" in sampler.prompts[1] and "tool_response" in sampler.prompts[1],
        "final_types": [type(c).__name__ for c in final] if isinstance(final, list) else ["str"],
        "reasoning": [c.reasoning for c in final if type(c).__name__ == "ContentReasoning"],
        "score": next(iter(sample.scores.values())).value,
        "accuracy": logs[0].results.scores[0].metrics["accuracy"].value,
    }


def mode_registry(log_dir: str) -> dict[str, Any]:
    """inspect's own model lookup: ``tinker-sampling/<model>`` with ``model_path`` (the standalone path)."""
    from inspect_ai import eval_async
    from inspect_ai.model import GenerateConfig, get_model

    import tinkerlite.eval.inspect_utils  # noqa: F401 (registers the tinker-sampling model API)

    with serve(api_key=KEY) as url:
        os.environ["TINKER_BASE_URL"], os.environ["TINKER_API_KEY"] = url, KEY
        service = tinker.ServiceClient()
        trainer = service.create_lora_training_client(base_model=MODEL, rank=4)
        path = trainer.save_weights_for_sampler(name="inspect-registry").result().path
        answers = greedy_answers(service.create_sampling_client(model_path=path).result())
        model = get_model(
            f"tinker-sampling/{MODEL}",
            config=GenerateConfig(temperature=0.0, max_tokens=MAX_TOKENS),
            renderer_name=RENDERER,
            model_path=path,
            api_key=KEY,
        )
        api_type = type(model.api).__name__
        asyncio.run(eval_async(make_task(targets_from(answers)), model=model, log_dir=log_dir, log_level="warning"))
        service.close()
    return {"api": api_type, "answers": answers, "samples": read_samples(log_dir)}


class ScriptedJudge:
    """A judge sampling client (only ``sample`` is needed): grades C when the criterion is Paris, else I.

    The policy under evaluation is the real local model; a scripted judge makes the expected accuracy
    exact (0.5) while the grading prompt, the judge call and inspect's parsing of its reply all run for real.
    """

    def __init__(self) -> None:
        self.tokenizer = get_tokenizer(MODEL)
        self.calls = 0
        self.prompts: list[str] = []

    def sample(self, prompt: Any, sampling_params: Any, num_samples: int) -> Any:
        self.calls += 1
        text = self.tokenizer.decode(prompt.to_ints())
        self.prompts.append(text)
        grade = "C" if "[Criterion]: Paris" in text else "I"
        tokens = self.tokenizer.encode(f"GRADE: {grade}", add_special_tokens=False)

        async def answer() -> Any:
            return types.SampleResponse(sequences=[types.SampledSequence(stop_reason="stop", tokens=tokens)])

        return answer()


def mode_judge(log_dir: str) -> dict[str, Any]:
    from inspect_ai.model import GenerateConfig, Model

    from tinkerlite.eval import custom_inspect_task as cit
    from tinkerlite.eval.inspect_evaluators import InspectEvaluatorBuilder
    from tinkerlite.eval.inspect_utils import InspectAPIFromTinkerSampling

    before = {n: n in vars(cit) for n in ("service_client", "sampling_client", "api", "GRADER_MODEL")}
    with serve(api_key=KEY) as url:
        os.environ["TINKER_BASE_URL"], os.environ["TINKER_API_KEY"] = url, KEY
        lazy_service = type(cit.service_client).__name__  # created on first access, from the environment
        service = tinker.ServiceClient()
        policy = service.create_sampling_client(base_model=MODEL).result()
        judge = ScriptedJudge()
        judge_api = InspectAPIFromTinkerSampling(renderer_name=RENDERER, model_name=MODEL, sampling_client=judge)
        cit.GRADER_MODEL = Model(api=judge_api, config=GenerateConfig(max_tokens=MAX_TOKENS, temperature=0.0))
        builder = InspectEvaluatorBuilder(
            tasks=cit.example_lm_as_judge(),
            renderer_name=RENDERER,
            model_name=MODEL,
            temperature=0.0,
            max_tokens=MAX_TOKENS,
            log_dir=log_dir,
            log_level="warning",
        )
        metrics = asyncio.run(builder()(policy))
        service.close()
    saw = [("[Submission]: " in t and "[Task]: What is the capital of" in t) for t in judge.prompts]
    return {
        "before": before,
        "lazy_service": lazy_service,
        "metrics": metrics,
        "judge_calls": judge.calls,
        "judge_saw_submission": saw,
        "samples": read_samples(log_dir),
    }


if __name__ == "__main__":
    mode, log_dir = sys.argv[1], sys.argv[2]
    modes = {"evaluator": mode_evaluator, "run_main": mode_run_main, "judge": mode_judge, "cli": mode_cli,
             "registry": mode_registry, "tools": mode_tools}
    result = modes[mode](log_dir)
    print(json.dumps(result, default=str))
