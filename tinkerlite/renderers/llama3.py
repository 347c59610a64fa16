"""Llama 3 Instruct chat format.

No tool-call syntax (Llama 3's is undelimited JSON): tool calls are dropped, as the cookbook drops them.
"""

from __future__ import annotations

from tinkerlite.renderers.base import Renderer
from tinkerlite.renderers.content import Message, RenderContext, RenderedMessage, ensure_text
from tinkerlite.renderers.encoding import chunk, encode, single_token
from tinkerlite.renderers.parsing import ParseTermination, parse_response_for_stop_token


class Llama3Renderer(Renderer):
    """``<|start_header_id|>{role}<|end_header_id|>\\n\\n{text}<|eot_id|>`` after one ``<|begin_of_text|>``.

    Like the cookbook, the HF template's ``Cutting Knowledge Date`` system preamble is not added; put it
    in your system message if you want it.
    """

    supports_tool_calls = False
    allowed_roles = frozenset({"system", "user", "assistant", "tool", "ipython"})

    @property
    def has_extension_property(self) -> bool:
        return True

    @property
    def _bos_tokens(self) -> list[int]:
        return encode(self.tokenizer, "<|begin_of_text|>")

    @property
    def _end_message_token(self) -> int:
        return single_token(self.tokenizer, "<|eot_id|>")

    def render_message(self, message: Message, ctx: RenderContext) -> RenderedMessage:
        header = encode(self.tokenizer, f"<|start_header_id|>{message['role']}<|end_header_id|>\n\n")
        output = encode(self.tokenizer, ensure_text(message["content"]) + "<|eot_id|>")
        return RenderedMessage(header=chunk(header), output=[chunk(output)])

    def get_stop_sequences(self) -> list[int]:
        return [self._end_message_token]

    def parse_response(self, response: list[int]) -> tuple[Message, ParseTermination]:
        return parse_response_for_stop_token(response, self.tokenizer, self._end_message_token)
