"""Chat renderers: conversations to tokens and weights, token-exact with tinker-cookbook 0.6.1.

Porting from the cookbook is an import change: ``from tinker_cookbook import renderers`` becomes
``from tinkerlite import renderers``; module paths match (``renderers.qwen3_5.Qwen3_5Renderer``, ...).
``get_renderer`` knows every name the cookbook 0.6.1 registers; ``BUILTIN_RENDERER_NAMES`` lists the ones
tinkerlite builds, and the others raise a ``RendererError`` saying why. Every output is checked against
goldens made by the cookbook itself (tests/renderers), in every TrainOnWhat mode. No pinned package ships
the real tokenizers of Qwen3.5/3.6/3.8, Kimi K2.5/K2.6, Nemotron 3, DeepSeek V4.1 or GLM-5.3, so those goldens
are made (on both sides) with the closest real tokenizer carrying the family's control tokens: Qwen3's,
Kimi K2's, DeepSeek V3.1's, and Qwen3's plus GLM's role tokens. Load the real ones with
``tinkerlite.tokenizers`` from a local ``tokenizer.json`` / HF cache directory.

By default a renderer behaves as the cookbook's on every input, including the inputs where the cookbook
drops or defaults data silently (tool calls given to role_colon/llama3, reasoning on the last assistant
turn of deepseekv3, a gpt-oss tool result without ``name``, any role string, tool-call arguments it never
decodes); tinkerlite then logs one warning per renderer and kind of drop. **Strict mode** raises
:class:`RendererError` (naming ``messages[i].field``) on all of those instead, and also refuses reasoning
on the produced turn of a thinking-disabled renderer in every training mode: pass
``make_renderer(name, tokenizer, strict=True)``, set ``renderer.strict = True``, or set the environment
variable ``TINKERLITE_RENDERER_STRICT=1``.

Differences from the cookbook, all deliberate:

* weights are a float32 :class:`~tinkerlite.types.TensorData` (``.tolist()``, ``.to_torch()``), not a torch tensor;
* image parts need Pillow (``pip install 'tinkerlite[vision]'``) and an image processor, as in the cookbook
  (any object with ``get_number_of_image_patches``/``merge_size`` or ``get_resize_config``); audio parts are
  refused; kimi_k31_pro_* raise ``KimiK31ProUnavailableError`` (they need ``tml_renderers`` >= 0.4.1, not on
  PyPI); ``tml_v0`` is tinkerlite's own TMLv0 port (``renderers.tml_v0``, goldens from tml-renderers 0.2.1) and
  refuses image/audio parts;
* where the cookbook fails with an ``AssertionError``/``AttributeError`` tinkerlite raises a ``RendererError``;
* tool calls may be OpenAI-style dicts as well as :class:`ToolCall` objects;
* ``get_renderer`` has the cookbook's exact signature; tinkerlite's options (``strict``, gpt-oss's
  ``current_date``) are keywords of :func:`make_renderer`.
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
from tinkerlite.renderers.images import ImageProcessorProtocol as ImageProcessor
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
from tinkerlite.tokenizers.base import Tokenizer

__all__ = [
    "BUILTIN_RENDERER_NAMES",
    "AudioPart",
    "Content",
    "ContentPart",
    "ImagePart",
    "ImageProcessor",
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
    "Tokenizer",
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
