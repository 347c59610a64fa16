"""Chat with a model (or a checkpoint, ``model_path=tinker://...``) in the terminal through a sampling client.

``python -m tinkerlite.chat_app.tinker_chat_cli [key=value ...]`` takes the cookbook's ``Config`` keys.
Without ``base_url`` (and ``$TINKER_BASE_URL``) it starts an embedded local server and, unless
``base_model=`` is given, chats with its built-in tiny model. Type ``n`` for a new conversation and
``quit``/``exit``/``q`` (or Ctrl-D) to leave. One deliberate difference: a failure to start (an unknown
model, an unreachable server) is tinkerlite's one-line error with exit 2, where the cookbook prints it with
a traceback in the log and exits 1; errors during the chat are printed and the chat goes on, as there.
"""

from __future__ import annotations

import logging
import os

import tinkerlite as tinker
from tinkerlite import renderers, types
from tinkerlite.model_info import get_recommended_renderer_name
from tinkerlite.tokenizer_utils import get_tokenizer
from tinkerlite.utils.config import configclass

__all__ = ["ChatSession", "Config", "main"]

logger = logging.getLogger(__name__)


@configclass
class Config:
    base_model: str = "Qwen/Qwen3.5-9B-Base"
    model_path: str | None = None
    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.9
    base_url: str | None = None


class ChatSession:
    """A conversation with one sampling client: history, rendering, sampling and parsing each reply."""

    def __init__(
        self,
        sampling_client: tinker.SamplingClient,
        renderer: renderers.Renderer,
        max_tokens: int,
        temperature: float,
        top_p: float,
    ):
        self.sampling_client: tinker.SamplingClient = sampling_client
        self.renderer: renderers.Renderer = renderer
        self.max_tokens: int = max_tokens
        self.temperature: float = temperature
        self.top_p: float = top_p
        self.conversation_history: list[renderers.Message] = []

    def add_user_message(self, content: str) -> None:
        self.conversation_history.append({"role": "user", "content": content})

    def add_assistant_message(self, content: str) -> None:
        self.conversation_history.append({"role": "assistant", "content": content})

    def clear_history(self) -> None:
        self.conversation_history.clear()

    async def generate_response(self) -> str:
        """Sample the assistant's next reply, add it to the history and return it (``Error: ...`` on failure)."""
        try:
            prompt = self.renderer.build_generation_prompt(self.conversation_history)
            params = types.SamplingParams(
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                top_p=self.top_p,
                stop=self.renderer.get_stop_sequences(),
            )
            response = await self.sampling_client.sample_async(prompt=prompt, num_samples=1, sampling_params=params)
            message, _ = self.renderer.parse_response(response.sequences[0].tokens)
            shown = renderers.format_content_as_string(message["content"], separator="\n--------\n")
            self.add_assistant_message(shown)
            return shown
        except Exception as e:
            logger.error("Error generating response: %s", e)
            return f"Error: {e}"


async def main(config: Config) -> None:
    """The chat loop: read a line, sample a reply, print it, until quit or end of input."""
    print(f"🚀 Initializing chat with model: {config.base_model}")
    print(f"📦 Using Path: {config.model_path}")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"

    service_client = tinker.ServiceClient(base_url=config.base_url)
    try:
        sampling_client = await service_client.create_sampling_client_async(
            base_model=config.base_model, model_path=config.model_path or None
        )
        tokenizer = get_tokenizer(config.base_model)
        renderer = renderers.get_renderer(get_recommended_renderer_name(config.base_model), tokenizer)
        session = ChatSession(
            sampling_client=sampling_client,
            renderer=renderer,
            max_tokens=config.max_tokens,
            temperature=config.temperature,
            top_p=config.top_p,
        )
        print("\n💬 Chat started! Type 'quit', 'exit', or Ctrl+C to end the session.")
        print("🗑️  Type 'n' to clear conversation history and start a new conversation.")
        print("🤖 You can start chatting now...\n")
        while True:
            try:
                user_input = input("User: ").strip()
                if user_input.lower() in ("quit", "exit", "q"):
                    print("👋 Goodbye!")
                    break
                if user_input.lower() == "n":
                    session.clear_history()
                    print("🗑️  Conversation history cleared! Starting a new conversation.")
                    continue
                if not user_input:
                    continue
                session.add_user_message(user_input)
                print("Assistant: ", end="", flush=True)
                print(await session.generate_response())
                print()
            except KeyboardInterrupt:
                print("\n👋 Chat interrupted. Goodbye!")
                break
            except EOFError:
                print("\n👋 Chat ended. Goodbye!")
                break
            except Exception as e:
                print(f"❌ Error: {e}")
                logger.exception("Unexpected error in chat loop")
    finally:
        service_client.close()


if __name__ == "__main__":
    from tinkerlite.recipes._cli import LOCAL_MODEL, recipe_main

    raise SystemExit(
        recipe_main(
            "tinkerlite.chat_app.tinker_chat_cli",
            __doc__ or "",
            Config,
            main,
            local_defaults={"base_model": LOCAL_MODEL},
        )
    )
