"""Chat renderers: conversations to tokens and weights, token-exact with tinker-cookbook 0.6.1.

Porting from the cookbook is an import change: ``from tinker_cookbook import renderers`` becomes
``from tinkerlite import renderers``. Renderers: role_colon, llama3, qwen3, qwen3_disable_thinking,
qwen3_instruct, deepseekv3 (= deepseekv3_disable_thinking), deepseekv3_thinking, gpt_oss_no_sysprompt,
gpt_oss_{low,medium,high}_reasoning (``get_renderer(..., current_date="YYYY-MM-DD")`` pins the date),
kimi_k2. Every output is checked against goldens made by the cookbook itself (tests/renderers).

Differences from the cookbook, all deliberate:

* weights are a float32 :class:`~tinkerlite.types.TensorData` (``.tolist()``, ``.to_torch()``), not a torch tensor;
* bad input raises :class:`RendererError` (a ``ValidationError``/``ValueError`` naming ``messages[i].field``)
  where the cookbook asserted, warned or silently dropped data: unknown roles; ``trainable`` outside
  CUSTOMIZED (or missing in it); tool calls given to llama3/role_colon; malformed or non-object tool-call
  arguments (any renderer); image/audio parts (no vision renderers here); a gpt-oss tool result without
  ``name``; reasoning on the last assistant message for qwen3_disable_thinking (in every training mode)
  and for deepseekv3 / deepseekv3_disable_thinking (the cookbook drops it silently);
* role_colon does not append the cookbook's placeholder text ``<UNUSED>`` after a supervised example that
  ends on a non-assistant message;
* gpt_oss_*_reasoning accept CUSTOMIZED (the cookbook asserts on the system message it prepends itself);
* tool calls may be OpenAI-style dicts as well as :class:`ToolCall` objects;
* not ported: vision/audio renderers and renderer families beyond those listed above.
"""

from tinkerlite.renderers.base import (
    AudioPart,
    Content,
    ContentPart,
    ImagePart,
    Message,
    ParseFailureKind,
    ParseTermination,
    RenderContext,
    RenderedMessage,
    Renderer,
    RendererError,
    Role,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolSpec,
    TrainOnWhat,
    UnparsedToolCall,
    classify_parse_failure,
    content_to_jsonable,
    detect_unterminated_tool_block,
    ensure_list,
    ensure_text,
    format_content_as_string,
    get_text_content,
    has_thinking,
    message_to_jsonable,
    parse_content_blocks,
    parse_response_for_stop_token,
    parse_think_blocks,
    remove_thinking,
    tokens_weights_from_strings_weights,
)
from tinkerlite.renderers.registry import (
    BUILTIN_RENDERER_NAMES,
    get_registered_renderer_names,
    get_renderer,
    is_renderer_registered,
    make_renderer,
    register_renderer,
    unregister_renderer,
)
from tinkerlite.renderers.streaming import (
    MessageDelta,
    ReasoningStreamingParser,
    StreamingMessageHeader,
    StreamingTextDelta,
    StreamingThinkingDelta,
    Utf8TokenDecoder,
)

__all__ = [
    "BUILTIN_RENDERER_NAMES",
    "AudioPart",
    "Content",
    "ContentPart",
    "ImagePart",
    "Message",
    "MessageDelta",
    "ParseFailureKind",
    "ParseTermination",
    "ReasoningStreamingParser",
    "RenderContext",
    "RenderedMessage",
    "Renderer",
    "RendererError",
    "Role",
    "StreamingMessageHeader",
    "StreamingTextDelta",
    "StreamingThinkingDelta",
    "TextPart",
    "ThinkingPart",
    "ToolCall",
    "ToolSpec",
    "TrainOnWhat",
    "UnparsedToolCall",
    "Utf8TokenDecoder",
    "classify_parse_failure",
    "content_to_jsonable",
    "detect_unterminated_tool_block",
    "ensure_list",
    "ensure_text",
    "format_content_as_string",
    "get_registered_renderer_names",
    "get_renderer",
    "get_text_content",
    "has_thinking",
    "is_renderer_registered",
    "make_renderer",
    "message_to_jsonable",
    "parse_content_blocks",
    "parse_response_for_stop_token",
    "parse_think_blocks",
    "register_renderer",
    "remove_thinking",
    "tokens_weights_from_strings_weights",
    "unregister_renderer",
]
