"""Count a word across a document read one page per turn with a ``read_page`` tool.

The reward is the closeness of the reported ``Answer: <count>`` to the true count (1 when exact, falling
linearly to 0 at a relative error of ``reward_tolerance``). Difficulty comes from what the prompt
reveals: the page count (``num_pages_hint=exact``) or only a range, with one hidden page count shared by
every problem (``range``: pages past the end still return text); the word itself (``word_hint=exact``),
its first and last letters (``first_last``), or nothing (``hidden``, single-word lists only).

Pages are windows of WikiText-103 (``datasets``), of ``file_path=`` plain text, or of the bundled
``tiny_corpus.txt``. The model's renderer must support tool calling.
"""

from __future__ import annotations

import functools
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Annotated, Any, Literal

from ... import model_info
from ..._optional import try_import
from ...errors import ValidationError
from ...renderers import Message, Renderer, ToolCall, get_renderer, get_text_content
from ...rl.message_env import EnvFromMessageEnv
from ...rl.types import Env, EnvGroupBuilder, RLDataset, RLDatasetBuilder
from ...tokenizer_utils import get_tokenizer
from ...tool_use import AgentToolMessageEnv, ToolResult, error_tool_result, simple_tool_result, tool
from ...utils.config import configclass, field, validate
from .._data import bundled_path

__all__ = [
    "DEFAULT_MAX_TRAJECTORY_TOKENS",
    "DEFAULT_WORDS",
    "CountingDataset",
    "CountingDatasetBuilder",
    "CountingEnvGroupBuilder",
    "CountingProblem",
    "CountingTaskConfig",
    "build_env",
    "build_prompt",
    "closeness_reward",
    "count_word",
    "load_corpus",
    "parse_answer",
    "sample_problem",
    "split_pages",
]

logger = logging.getLogger(__name__)

NumPagesHint = Literal["exact", "range"]
WordHint = Literal["exact", "first_last", "hidden"]

#: Common function words with distinct (first, last) letter pairs, so "first_last" names one word.
DEFAULT_WORDS: tuple[str, ...] = (
    "after", "against", "although", "before", "being", "between", "both", "could", "during", "however",
    "including", "into", "known", "later", "many", "most", "only", "over", "several", "such", "their",
    "then", "through", "time", "under", "until", "when", "while",
)
SYSTEM_PROMPT = "You are a careful assistant who reads documents with the read_page tool."
EXTRA_TURNS = 4
DEFAULT_MAX_TRAJECTORY_TOKENS = 128 * 1024
FAILED_PARSE_REWARD = -0.1
CONTEXT_OVERFLOW_REWARD = -0.1
MAX_CORPUS_CHARS = 100_000_000
_WORD_RE = re.compile(r"[a-z]+")
_ANSWER_RE = re.compile(r"answer\s*:\s*\**\s*(-?\d[\d,]*)", re.IGNORECASE)
_WIKITEXT_FIXES = ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."))
_EXAMPLE_WORD = "light"
_HIDDEN_NUM_PAGES_SEED = 0
_SPAN_SLACK = 1.1
_REJECTED = "Only one tool call per response is allowed; this call was not executed."


def count_word(text: str, word: str) -> int:
    """Whole-word, case-insensitive occurrences (a word is a maximal run of ASCII letters)."""
    return sum(1 for w in _WORD_RE.findall(text.lower()) if w == word)


def parse_answer(text: str) -> int | None:
    """The integer after the last ``Answer:``, if any."""
    found = _ANSWER_RE.findall(text)
    return int(found[-1].replace(",", "")) if found else None


def closeness_reward(predicted: int, true_count: int, tolerance: float) -> float:
    return max(0.0, 1.0 - abs(predicted - true_count) / max(true_count, 1) / tolerance)


@functools.cache
def load_corpus(file_path: str | None = None, max_chars: int = MAX_CORPUS_CHARS) -> str:
    """WikiText-103 train (``datasets``), else ``file_path`` or the bundled corpus, as one string."""
    if file_path is None and (hf := try_import("datasets")) is not None:
        ds = hf.load_dataset("Salesforce/wikitext", "wikitext-103-raw-v1", split="train")
        lines: list[str] = []
        total = 0
        for batch in ds.iter(batch_size=10_000):
            for raw in batch["text"]:
                line = raw
                for old, new in _WIKITEXT_FIXES:
                    line = line.replace(old, new)
                line = line.strip()
                if line:
                    lines.append(line)
                    total += len(line) + 1
            if total >= max_chars:
                break
        return "\n".join(lines)[:max_chars]
    return Path(file_path or bundled_path("tiny_corpus.txt")).read_text(encoding="utf-8")[:max_chars]


def split_pages(corpus: str, start: int, num_pages: int, page_chars: int) -> list[str]:
    """``num_pages`` consecutive pages of about ``page_chars`` characters, cut at whitespace."""
    pages, pos = [], start
    for _ in range(num_pages):
        end = min(pos + page_chars, len(corpus))
        while end < len(corpus) and not corpus[end].isspace():
            end += 1
        pages.append(corpus[pos:end].strip())
        pos = end
    return pages


@configclass
class CountingTaskConfig:
    """What the task reveals and how long it is."""

    num_pages_hint: NumPagesHint = "exact"
    word_hint: WordHint = "exact"
    num_pages_min: int = 28
    num_pages_max: int = 36
    page_chars: int = 10_000
    words: tuple[str, ...] = DEFAULT_WORDS
    secret_num_pages: int | None = None
    reward_tolerance: float = 0.2

    @validate
    def _check(self) -> None:
        if not 1 <= self.num_pages_min <= self.num_pages_max:
            raise ValidationError("task: need 1 <= num_pages_min <= num_pages_max")
        if self.reward_tolerance <= 0:
            raise ValidationError("task.reward_tolerance must be positive")
        if not self.words or len(set(self.words)) != len(self.words):
            raise ValidationError("task.words must be non-empty and not repeat")
        for w in self.words:
            if not _WORD_RE.fullmatch(w) or w == _EXAMPLE_WORD:
                raise ValidationError(f"task.words: {w!r} must be lowercase ASCII letters and not {_EXAMPLE_WORD!r}")
        if self.word_hint == "first_last" and len({(w[0], w[-1]) for w in self.words}) != len(self.words):
            raise ValidationError('task.words: two words share first and last letters (word_hint="first_last")')
        if self.word_hint == "hidden" and len(self.words) > 1:
            raise ValidationError('task.word_hint="hidden" needs a single word')
        if self.secret_num_pages is not None and not self.num_pages_min <= self.secret_num_pages <= self.num_pages_max:
            raise ValidationError("task.secret_num_pages must lie in [num_pages_min, num_pages_max]")

    @property
    def max_turns(self) -> int:
        return self.num_pages_max + EXTRA_TURNS

    @property
    def hidden_num_pages(self) -> int:
        if self.secret_num_pages is not None:
            return self.secret_num_pages
        return random.Random(_HIDDEN_NUM_PAGES_SEED).randint(self.num_pages_min, self.num_pages_max)


@dataclass(frozen=True)
class CountingProblem:
    word: str
    num_pages: int
    pages: tuple[str, ...]  # every readable page, including those past the end of the document
    prompt: str
    true_count: int


def build_prompt(config: CountingTaskConfig, word: str, num_pages: int) -> str:
    if config.word_hint == "exact":
        what = f'the word "{word}"'
    elif config.word_hint == "first_last":
        what = f'a secret word that starts with "{word[0]}" and ends with "{word[-1]}"'
    else:
        what = "a secret word"
    if config.num_pages_hint == "exact":
        pages = f"The document has {num_pages} pages, numbered 1 to {num_pages}; count across all of them."
    else:
        pages = (
            f"The document has between {config.num_pages_min} and {config.num_pages_max} pages, numbered from 1; "
            "the exact number is not given. Pages past the end still return text, which must not be counted."
        )
    return (
        f"Count how many times {what} appears in a document.\n\n{pages}\n\n"
        "Rules:\n- Read pages with the read_page tool, one call per response (extra calls are rejected).\n"
        f'- Matching is case-insensitive and whole-word: for "{_EXAMPLE_WORD}", "Light", "light\'s" and '
        f'"light-based" count once each; "lights" and "lighthouse" do not.\n'
        '- When done, reply without a tool call and end with "Answer: <count>" (one integer).'
    )


def sample_problem(rng: random.Random, corpus: str, config: CountingTaskConfig) -> CountingProblem:
    word = rng.choice(config.words)
    num_pages = (
        rng.randint(config.num_pages_min, config.num_pages_max)
        if config.num_pages_hint == "exact"
        else config.hidden_num_pages
    )
    span = int(config.max_turns * config.page_chars * _SPAN_SLACK)
    if len(corpus) <= span:
        raise ValidationError(f"task: the corpus has {len(corpus):,} characters but a problem needs about {span:,}")
    start = rng.randrange(len(corpus) - span)
    newline = corpus.find("\n", start)
    if 0 <= newline < start + config.page_chars:
        start = newline + 1
    pages = split_pages(corpus, start, config.max_turns, config.page_chars)
    return CountingProblem(
        word, num_pages, tuple(pages), build_prompt(config, word, num_pages),
        sum(count_word(p, word) for p in pages[:num_pages]),
    )


@dataclass
class EpisodeState:
    pages_read: set[int] = dc_field(default_factory=set)
    invalid_page_requests: int = 0


class PageReader:
    def __init__(self, pages: Sequence[str], state: EpisodeState) -> None:
        self._pages, self._state = pages, state

    @tool
    async def read_page(self, page: Annotated[int, "Page number to read, starting from 1"]) -> ToolResult:
        """Read one page of the document. Call this at most once per response."""
        if not 1 <= page <= len(self._pages):
            self._state.invalid_page_requests += 1
            return error_tool_result(f"Page {page} is not available.", name="read_page")
        self._state.pages_read.add(page)
        return simple_tool_result(f"[Page {page}]\n{self._pages[page - 1]}", name="read_page")


@dataclass
class OneToolCallPerTurnEnv(AgentToolMessageEnv):
    """Runs the first tool call of a turn and rejects the rest."""

    async def _handle_tool_calls(self, tool_calls: list[ToolCall]) -> list[Message]:
        out = await super()._handle_tool_calls(tool_calls[:1])
        for tc in tool_calls[1:]:
            rejected = error_tool_result(_REJECTED, call_id=tc.id or "", name=tc.function.name, error_type="rejected")
            self.history.extend(rejected.messages)
            out.extend(rejected.messages)
        return out


@dataclass
class CountingReward:
    problem: CountingProblem
    state: EpisodeState
    tolerance: float

    async def __call__(self, history: list[Message]) -> tuple[float, dict[str, float]]:
        final = next((get_text_content(m) for m in reversed(history) if m["role"] == "assistant"), "")
        predicted = parse_answer(final)
        n, read = self.problem.num_pages, self.state.pages_read
        metrics = {
            "answer_parsed": float(predicted is not None),
            "true_count": float(self.problem.true_count),
            "num_pages": float(n),
            "pages_read": float(len(read)),
            "read_all_pages": float(all(p in read for p in range(1, n + 1))),
            "read_past_end": float(any(p > n for p in read)),
            "invalid_page_requests": float(self.state.invalid_page_requests),
        }
        if predicted is None:
            return 0.0, {**metrics, "exact_match": 0.0}
        return closeness_reward(predicted, self.problem.true_count, self.tolerance), {
            **metrics,
            "exact_match": float(predicted == self.problem.true_count),
            "abs_error": float(abs(predicted - self.problem.true_count)),
        }


def build_env(
    problem: CountingProblem,
    renderer: Renderer,
    task: CountingTaskConfig,
    max_trajectory_tokens: int | None,
    max_generation_tokens: int | None,
) -> EnvFromMessageEnv:
    state = EpisodeState()
    reader = PageReader(problem.pages, state)
    initial: list[Message] = renderer.create_conversation_prefix_with_tools(
        tools=[reader.read_page.to_spec()], system_prompt=SYSTEM_PROMPT
    )
    initial.append({"role": "user", "content": problem.prompt})
    message_env = OneToolCallPerTurnEnv(
        tools=[reader.read_page],
        initial_messages=initial,
        max_turns=task.max_turns,
        reward_fn=CountingReward(problem, state, task.reward_tolerance),
    )
    return EnvFromMessageEnv(
        renderer=renderer,
        message_env=message_env,
        failed_parse_reward=FAILED_PARSE_REWARD,
        max_trajectory_tokens=max_trajectory_tokens,
        max_generation_tokens=max_generation_tokens,
        context_overflow_reward=CONTEXT_OVERFLOW_REWARD,
    )


@dataclass(frozen=True)
class CountingEnvGroupBuilder(EnvGroupBuilder):
    problem: CountingProblem
    task: CountingTaskConfig
    model_name_for_tokenizer: str
    renderer_name: str
    group_size: int
    max_trajectory_tokens: int | None
    max_generation_tokens: int | None

    async def make_envs(self) -> Sequence[Env]:
        renderer = get_renderer(self.renderer_name, get_tokenizer(self.model_name_for_tokenizer))
        return [
            build_env(self.problem, renderer, self.task, self.max_trajectory_tokens, self.max_generation_tokens)
            for _ in range(self.group_size)
        ]

    def logging_tags(self) -> list[str]:
        return ["rl_numerics_check"]


class CountingDataset(RLDataset):
    def __init__(
        self, corpus: str, task: CountingTaskConfig, batch_size: int, n_batches: int, seed: int,
        make_group_builder: Any,
    ) -> None:
        self.corpus, self.task, self.batch_size = corpus, task, batch_size
        self.n_batches, self.seed, self.make_group_builder = n_batches, seed, make_group_builder

    def get_batch(self, index: int) -> Sequence[EnvGroupBuilder]:
        rng = random.Random(f"{self.seed}-{index}")
        return [
            self.make_group_builder(problem=sample_problem(rng, self.corpus, self.task))
            for _ in range(self.batch_size)
        ]

    def __len__(self) -> int:
        return self.n_batches


@configclass
class CountingDatasetBuilder(RLDatasetBuilder):
    batch_size: int
    group_size: int
    model_name_for_tokenizer: str
    renderer_name: str | None = None
    task: CountingTaskConfig = field(default_factory=CountingTaskConfig)
    n_batches: int = 1000
    seed: int = 0
    max_trajectory_tokens: int | None = DEFAULT_MAX_TRAJECTORY_TOKENS
    max_generation_tokens: int | None = None
    file_path: str | None = None

    async def __call__(self) -> tuple[RLDataset, RLDataset | None]:
        renderer_name = self.renderer_name or model_info.get_recommended_renderer_name(self.model_name_for_tokenizer)
        make = functools.partial(
            CountingEnvGroupBuilder,
            task=self.task,
            model_name_for_tokenizer=self.model_name_for_tokenizer,
            renderer_name=renderer_name,
            group_size=self.group_size,
            max_trajectory_tokens=self.max_trajectory_tokens,
            max_generation_tokens=self.max_generation_tokens,
        )
        corpus = load_corpus(self.file_path)
        return CountingDataset(corpus, self.task, self.batch_size, self.n_batches, self.seed, make), None
