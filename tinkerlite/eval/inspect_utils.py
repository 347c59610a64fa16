"""The cookbook's ``eval.inspect_utils``: an inspect_ai ``ModelAPI`` backed by a Tinker sampling client.

:class:`InspectAPIFromTinkerSampling` renders inspect's chat messages (and tool declarations) with a
tinkerlite renderer, samples through any ``SamplingClient`` (the real service or ``tinkerlite serve``),
and parses the sampled tokens back into inspect's ``ModelOutput``; it is registered with inspect as the
``tinker-sampling`` model API, as in the cookbook. Needs the ``inspect`` extra: importing this module
without inspect_ai raises :class:`~tinkerlite.errors.MissingExtraError` naming it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import tinkerlite as tinker

from .. import renderers
from ..exceptions import ConfigurationError
from ..renderers.base import UnparsedToolCall, ensure_list
from ..tokenizer_utils import get_tokenizer
from ._inspect_gate import load

_model, _tool, _registry = load(__name__, "inspect_ai.model", "inspect_ai.tool", "inspect_ai.model._registry")

InspectAIModelOutputChoice = _model.ChatCompletionChoice
InspectAIChatMessage = _model.ChatMessage
InspectAIChatMessageAssistant = _model.ChatMessageAssistant
ChatMessageSystem = _model.ChatMessageSystem
Content = _model.Content
InspectAIChatMessageTool = _model.ChatMessageTool
InspectAIContentReasoning = _model.ContentReasoning
InspectAIContentText = _model.ContentText
InspectAIGenerateConfig = _model.GenerateConfig
InspectAIModelAPI = _model.ModelAPI
InspectAIModelOutput = _model.ModelOutput
InspectAIModelUsage = _model.ModelUsage
InspectAIToolCall = _tool.ToolCall
InspectAIToolChoice = _tool.ToolChoice
InspectAIToolFunction = _tool.ToolFunction
InspectAIToolInfo = _tool.ToolInfo

if TYPE_CHECKING:

    class _ModelAPIBase:
        """What the adapter uses of inspect's ``ModelAPI`` (inspect_ai is untyped here: loaded lazily)."""

        model_name: str

        def __init__(self, **kwargs: Any) -> None: ...

else:
    _ModelAPIBase = _model.ModelAPI

logger = logging.getLogger(__name__)

# inspect passes max_tokens=None when an eval sets none; SamplingParams needs an integer, so (as the
# cookbook) use inspect's own default (inspect_ai._util.constants.DEFAULT_MAX_TOKENS).
DEFAULT_MAX_TOKENS = 2048


def _colored(text: str, color: str) -> str:
    """termcolor's ``colored`` for the two colours used here (plain text under ``NO_COLOR``)."""
    if os.environ.get("NO_COLOR"):
        return text
    code = {"green": 32, "red": 31}[color]
    return f"\x1b[{code}m{text}\x1b[0m"


def _inspect_tool_call_to_renderer_tool_call(tool_call: Any) -> renderers.ToolCall:
    return renderers.ToolCall(
        id=tool_call.id,
        function=renderers.ToolCall.FunctionBody(
            name=tool_call.function,
            arguments=json.dumps(tool_call.arguments, separators=(",", ":")),
        ),
    )


def _renderer_tool_call_to_inspect_tool_call(
    tool_call: renderers.ToolCall, *, choice_index: int, tool_index: int
) -> Any:
    """Arguments that are not a JSON object become ``{}`` with inspect's ``parse_error`` set."""
    parse_error = None
    arguments: dict[str, object] = {}
    try:
        decoded = json.loads(tool_call.function.arguments)
        if isinstance(decoded, dict):
            arguments = decoded
        else:
            parse_error = f"Expected tool call arguments to decode to a JSON object, got {type(decoded).__name__}"
    except json.JSONDecodeError as exc:
        parse_error = str(exc)
    return InspectAIToolCall(
        id=tool_call.id or f"call_{choice_index}_{tool_index}",
        function=tool_call.function.name,
        arguments=arguments,
        parse_error=parse_error,
    )


def _renderer_unparsed_tool_call_to_inspect_tool_call(
    tool_call: UnparsedToolCall, *, choice_index: int, tool_index: int
) -> Any:
    return InspectAIToolCall(
        id=f"unparsed_call_{choice_index}_{tool_index}",
        function="unparsed_tool_call",
        arguments={"raw_text": tool_call.raw_text},
        parse_error=tool_call.error,
    )


def _message_to_inspect_tool_calls(message: renderers.Message, *, choice_index: int) -> list[Any] | None:
    """Parsed and unparsed tool calls of a sampled message as inspect ToolCalls (None when there are none)."""
    tool_calls = message.get("tool_calls") or []
    unparsed = message.get("unparsed_tool_calls") or []
    if not tool_calls and not unparsed:
        return None
    out = [
        _renderer_tool_call_to_inspect_tool_call(tc, choice_index=choice_index, tool_index=i)
        for i, tc in enumerate(tool_calls)
    ]
    out.extend(
        _renderer_unparsed_tool_call_to_inspect_tool_call(tc, choice_index=choice_index, tool_index=i)
        for i, tc in enumerate(unparsed)
    )
    return out


def _inspect_tool_info_to_renderer_tool_spec(tool_info: Any) -> renderers.ToolSpec:
    return renderers.ToolSpec(
        name=tool_info.name,
        description=tool_info.description,
        parameters=tool_info.parameters.model_dump(exclude_none=True),
    )


def _select_tools_for_choice(tools: list[Any], tool_choice: Any) -> list[renderers.ToolSpec]:
    """The tools to declare for inspect's ``tool_choice`` ('none' declares none; a function only itself)."""
    if tool_choice == "none":
        return []
    if tool_choice == "any" and not tools:
        raise ConfigurationError("Inspect tool_choice='any' requires at least one tool")
    specs = [_inspect_tool_info_to_renderer_tool_spec(t) for t in tools]
    if isinstance(tool_choice, InspectAIToolFunction):
        matching = [s for s in specs if s["name"] == tool_choice.name]
        if not matching:
            raise ConfigurationError(f"Inspect requested unknown tool_choice function: {tool_choice.name}")
        return matching
    return specs


def _conversation_with_tool_declarations(
    renderer: renderers.Renderer,
    convo: list[renderers.Message],
    tools: list[Any],
    tool_choice: Any,
) -> list[renderers.Message]:
    """``convo`` with the renderer's tool-declaration prefix in place of a leading system message."""
    specs = _select_tools_for_choice(tools, tool_choice)
    if not specs:
        return convo
    system_prompt = ""
    rest = convo
    if convo and convo[0]["role"] == "system":
        system_prompt = renderers.format_content_as_string(convo[0]["content"])
        rest = convo[1:]
    try:
        prefix = renderer.create_conversation_prefix_with_tools(specs, system_prompt)
    except NotImplementedError as exc:
        raise ConfigurationError(
            f"Renderer {type(renderer).__name__} does not support Inspect AI tool-use evals"
        ) from exc
    return prefix + rest


def _validate_required_tool_choice(messages: list[renderers.Message], tool_choice: Any) -> None:
    """tool_choice 'any' or a named function: every choice must call a tool (that tool, when named)."""
    if tool_choice != "any" and not isinstance(tool_choice, InspectAIToolFunction):
        return
    for i, message in enumerate(messages):
        tool_calls = message.get("tool_calls") or []
        unparsed = message.get("unparsed_tool_calls") or []
        if not tool_calls and not unparsed:
            raise ConfigurationError(
                f"Inspect tool_choice={tool_choice!r} requires a tool call, but choice {i} did not produce one"
            )
        if unparsed:
            continue
        if isinstance(tool_choice, InspectAIToolFunction) and all(
            tc.function.name != tool_choice.name for tc in tool_calls
        ):
            raise ConfigurationError(
                f"Inspect tool_choice requested function {tool_choice.name!r}, but choice "
                f"{i} produced {[tc.function.name for tc in tool_calls]!r}"
            )


def get_model_usage(tokenized_prompt: Sequence[int], responses: Sequence[tinker.SampledSequence]) -> Any:
    """Prompt and sampled token counts as inspect's ``ModelUsage``."""
    num_input = len(tokenized_prompt)
    num_output = sum(len(r.tokens) for r in responses)
    return InspectAIModelUsage(input_tokens=num_input, output_tokens=num_output, total_tokens=num_input + num_output)


def convert_inspect_messages(messages: list[Any]) -> list[renderers.Message]:
    """inspect chat messages as renderer messages; structured content of non-assistant roles is flattened."""
    result: list[renderers.Message] = []
    for m in messages:
        content = m.content
        if isinstance(content, str):
            message = renderers.Message(role=m.role, content=content.strip())
        else:
            parts: list[renderers.ContentPart] = []
            for item in content:
                if isinstance(item, InspectAIContentText):
                    parts.append(renderers.TextPart(type="text", text=item.text))
                elif isinstance(item, InspectAIContentReasoning):
                    parts.append(renderers.ThinkingPart(type="thinking", thinking=item.reasoning))
                else:
                    logger.warning(f"Skipping unsupported inspect content type: {type(item).__name__}")
            if m.role != "assistant" or not parts:
                text = " ".join(p["text"] if p["type"] == "text" else p["thinking"] for p in parts).strip()  # type: ignore[typeddict-item]
                message = renderers.Message(role=m.role, content=text)
            else:
                message = renderers.Message(role=m.role, content=parts)
        if isinstance(m, InspectAIChatMessageAssistant) and m.tool_calls:
            message["tool_calls"] = [_inspect_tool_call_to_renderer_tool_call(tc) for tc in m.tool_calls]
        if isinstance(m, InspectAIChatMessageTool):
            if m.tool_call_id is not None:
                message["tool_call_id"] = m.tool_call_id
            if m.function is not None:
                message["name"] = m.function
        result.append(message)
    return result


def _message_to_inspect_content(message: renderers.Message) -> list[Any]:
    """A sampled message's parts as inspect content (thinking -> ContentReasoning, text -> ContentText)."""
    result: list[Any] = []
    for part in ensure_list(message["content"]):
        if part["type"] == "thinking":
            result.append(InspectAIContentReasoning(reasoning=part["thinking"]))
        elif part["type"] == "text":
            result.append(InspectAIContentText(text=part["text"]))
        else:
            logger.warning(f"Skipping unsupported content part type in response: {part['type']}")
    return result


class InspectAPIFromTinkerSampling(_ModelAPIBase):
    """inspect's model API over a Tinker sampling client.

    Built from a ``sampling_client`` (evaluators) or a ``model_path`` (standalone: a ServiceClient is
    created with ``api_key``, else ``$TINKER_API_KEY``/``$TINKER_BASE_URL``).
    """

    def __init__(
        self,
        renderer_name: str,
        model_name: str,
        model_path: str | None = None,
        sampling_client: tinker.SamplingClient | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_vars: list[str] | None = None,
        config: Any = InspectAIGenerateConfig(),  # noqa: B008 (the cookbook's default)
        verbose: bool = False,
        include_reasoning: bool = False,
    ) -> None:
        super().__init__(
            model_name=model_name,
            base_url=base_url,
            api_key=api_key,
            api_key_vars=[] if api_key_vars is None else api_key_vars,
            config=config,
        )
        if sampling_client is not None:
            self.sampling_client = sampling_client
        elif model_path is not None:
            service_client = tinker.ServiceClient(api_key=api_key)
            self.sampling_client = service_client.create_sampling_client(model_path=model_path).result()
        else:
            raise ConfigurationError("Either model_path or sampling_client must be provided")
        tokenizer = get_tokenizer(model_name)
        self.renderer = renderers.get_renderer(name=renderer_name, tokenizer=tokenizer)
        self.verbose = verbose
        self.include_reasoning = include_reasoning

    async def generate(self, input: list[Any], tools: list[Any], tool_choice: Any, config: Any) -> Any:
        """Render ``input``, sample ``config.num_choices`` responses, parse them into a ModelOutput."""
        if config.system_message:
            input = [ChatMessageSystem(content=config.system_message), *input]
        convo = convert_inspect_messages(input)
        convo = _conversation_with_tool_declarations(self.renderer, convo, tools, tool_choice)
        prompt = self.renderer.build_generation_prompt(convo)
        num_responses = 1 if config.num_choices is None else config.num_choices
        sampling_params = tinker.SamplingParams(
            temperature=config.temperature if config.temperature is not None else 1.0,
            max_tokens=config.max_tokens or DEFAULT_MAX_TOKENS,
            stop=self.renderer.get_stop_sequences(),
            top_p=config.top_p if config.top_p is not None else 1.0,
            top_k=config.top_k if config.top_k is not None else -1,
            seed=config.seed,
        )
        start = time.time()
        sample_result = await self.sampling_client.sample(
            prompt=prompt, sampling_params=sampling_params, num_samples=num_responses
        )
        sequences = sample_result.sequences
        if self.verbose:
            logger.info(f"[Prompt]\n{_colored(self.renderer.tokenizer.decode(prompt.to_ints()), 'green')}")
            for i, seq in enumerate(sequences):
                text = _colored(self.renderer.tokenizer.decode(seq.tokens), "red")
                logger.info(f"[Response {i + 1}/{num_responses}]\n{text}")
        end = time.time()
        parsed = [self.renderer.parse_response(r.tokens)[0] for r in sequences]
        _validate_required_tool_choice(parsed, tool_choice)
        choices = [
            InspectAIModelOutputChoice(
                message=InspectAIChatMessageAssistant(
                    content=_message_to_inspect_content(r) if self.include_reasoning else renderers.get_text_content(r),
                    model=self.model_name,
                    tool_calls=_message_to_inspect_tool_calls(r, choice_index=i),
                ),
                stop_reason="stop",
            )
            for i, r in enumerate(parsed)
        ]
        usage = get_model_usage(prompt.to_ints(), sequences)
        return InspectAIModelOutput(model=self.model_name, choices=choices, time=end - start, usage=usage)


# Registered by function call (not the @modelapi decorator) so __init__ keeps its signature, as in the cookbook.
_registry.modelapi_register(InspectAPIFromTinkerSampling, "tinker-sampling")
