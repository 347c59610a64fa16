"""tinkerlite.chat_app.tinker_chat_cli: a chat driven through stdin end to end against the embedded local
server, ChatSession against tinkerlite.local.serve, and bad options as one line with exit 2."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from tests.official_env import REPO

pytest.importorskip("numpy", reason="the local server's model needs numpy (the 'local' extra)")

PROG = "tinkerlite.chat_app.tinker_chat_cli"


def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINKER")}
    env.update({"PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    return subprocess.run(
        [sys.executable, "-m", PROG, *args], input=stdin, env=env, capture_output=True, text=True, timeout=300
    )


def test_chat_through_stdin_on_the_embedded_server() -> None:
    proc = _run("max_tokens=8", "temperature=0.0", stdin="What color is snow?\nn\n\nhello\nquit\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Initializing chat with model: tinkerlite/tiny-chat" in out
    assert out.count("Assistant: ") == 2 and "Error:" not in out, out
    assert "Conversation history cleared!" in out and out.rstrip().endswith("Goodbye!")
    ended = _run("max_tokens=4", stdin="hi\n")  # end of input without quit
    assert ended.returncode == 0 and "Chat ended. Goodbye!" in ended.stdout, ended.stdout + ended.stderr


def test_bad_options_are_one_line() -> None:
    bad = _run("max_tokens=lots")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "max_tokens" in bad.stderr, bad.stderr
    unknown = _run("temprature=1")
    assert unknown.returncode == 2 and "temperature" in unknown.stderr, unknown.stderr
    model = _run("base_model=nobody/no-such-model", stdin="hi\n")
    assert model.returncode == 2 and "Traceback" not in model.stderr, model.stderr
    assert "no-such-model" in model.stderr.strip().splitlines()[-1]


def test_chat_session_keeps_history() -> None:
    import tinkerlite as tinker
    from tinkerlite import renderers
    from tinkerlite.chat_app.tinker_chat_cli import ChatSession, Config
    from tinkerlite.local import serve
    from tinkerlite.tokenizer_utils import get_tokenizer

    assert Config().base_model == "Qwen/Qwen3.5-9B-Base" and Config(max_tokens=3).max_tokens == 3
    with serve(api_key="tml-chat") as url:
        sc = tinker.ServiceClient(base_url=url, api_key="tml-chat")
        try:
            sampler = sc.create_sampling_client(base_model="tinkerlite/tiny-chat").result()
            renderer = renderers.get_renderer("role_colon", get_tokenizer("tinkerlite/tiny-chat"))
            session = ChatSession(sampler, renderer, max_tokens=6, temperature=0.0, top_p=1.0)
            session.add_user_message("hi")
            reply = asyncio.run(session.generate_response())
            assert not reply.startswith("Error:"), reply
            assert session.conversation_history == [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": reply},
            ]
            session.max_tokens = -1  # an invalid request: reported as the reply, not raised
            session.add_user_message("again")
            assert asyncio.run(session.generate_response()).startswith("Error:")
            session.clear_history()
            assert session.conversation_history == []
        finally:
            sc.close()
