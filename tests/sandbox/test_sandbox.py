"""tinkerlite.sandbox: the SandboxFusion client against a local server playing SandboxFusion's API, the
result record and protocol, and the cookbook's own modal_sandbox_test (imports rewritten)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tinkerlite.errors import MissingExtraError
from tinkerlite.sandbox import (
    SandboxBackend,
    SandboxFusionClient,
    SandboxInterface,
    SandboxResult,
    SandboxTerminatedError,
    modal_sandbox,
)
from tinkerlite.sandbox.sandbox_interface import SandboxResource


class _Fusion(BaseHTTPRequestHandler):
    """Answers POST /run_code as SandboxFusion does: runs nothing, reports what it was sent."""

    seen: ClassVar[list[dict[str, Any]]] = []
    active = 0
    peak = 0
    lock = threading.Lock()

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = type(self)
        with cls.lock:
            cls.seen.append(body)
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        time.sleep(0.05)
        with cls.lock:
            cls.active -= 1
        if self.path != "/run_code":
            self._answer(404, b"no such route")
            return
        files = {k: base64.b64decode(v).decode() for k, v in body["files"].items()}
        code = body["code"]
        if code == "sandbox-error":
            reply = {"status": "SandboxError", "message": "container exploded"}
        elif code.startswith("fail"):
            reply = {"status": "Failed", "run_result": {"stdout": "", "stderr": "boom", "return_code": 1}}
        else:
            out = f"{body['language']}:{body['run_timeout']}:{sorted(files.items())}"
            reply = {"status": "Success", "run_result": {"stdout": out, "stderr": "", "return_code": 0}}
        self._answer(200, json.dumps(reply).encode())

    def _answer(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def fusion() -> Iterator[str]:
    _Fusion.seen, _Fusion.active, _Fusion.peak = [], 0, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Fusion)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_run_sends_the_sandboxfusion_payload(fusion: str) -> None:
    async def go() -> tuple[bool, dict[str, Any]]:
        client = SandboxFusionClient(url=fusion + "/run_code")
        try:
            return await client.run("print(1)", {"data.txt": "héllo"}, timeout=7.9, language="python")
        finally:
            await client.close()

    ok, resp = asyncio.run(go())
    assert ok is True
    assert resp["run_result"]["stdout"] == "python:7:[('data.txt', 'héllo')]"
    assert _Fusion.seen == [
        {
            "code": "print(1)",
            "language": "python",
            "run_timeout": 7,
            "files": {"data.txt": base64.b64encode("héllo".encode()).decode()},
        }
    ]


def test_failures_are_reported_not_raised(fusion: str) -> None:
    async def go() -> list[tuple[bool, dict[str, Any]]]:
        good = SandboxFusionClient(url=fusion + "/run_code")
        wrong_route = SandboxFusionClient(url=fusion + "/nope")
        down = SandboxFusionClient(url="http://127.0.0.1:9/run_code")
        return [
            await good.run("fail please", {}, timeout=5),
            await good.run("sandbox-error", {}, timeout=5),
            await wrong_route.run("x", {}, timeout=5),
            await down.run("x", {}, timeout=5),
        ]

    failed, sb_err, http_err, conn_err = asyncio.run(go())
    assert failed == (False, {"status": "Failed", "run_result": {"stdout": "", "stderr": "boom", "return_code": 1}})
    assert sb_err == (False, {"error": "container exploded", "status": "SandboxError", "message": "container exploded"})
    assert http_err == (False, {"error": "HTTP 404: no such route"})
    assert conn_err[0] is False and conn_err[1]["error"]


def test_concurrency_is_capped(fusion: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_URL", fusion + "/run_code")
    monkeypatch.setenv("SANDBOX_MAX_CONCURRENCY", "2")

    async def go() -> list[tuple[bool, dict[str, Any]]]:
        client = SandboxFusionClient()
        return await asyncio.gather(*(client.run(f"print({i})", {}, timeout=1) for i in range(6)))

    results = asyncio.run(go())
    assert all(ok for ok, _ in results) and len(_Fusion.seen) == 6
    assert _Fusion.peak == 2


def test_result_record_and_protocol() -> None:
    r = SandboxResult(stdout="a", stderr="", exit_code=0)
    assert r.metrics == {} and r.exit_code == 0
    with pytest.raises(TypeError):
        SandboxResult("a", "", 0)  # type: ignore[misc]  # keyword-only, as a chz class
    assert str(SandboxBackend.MODAL) == "modal" and SandboxBackend("sandboxfusion") is SandboxBackend.SANDBOXFUSION
    assert isinstance(SandboxTerminatedError("x"), RuntimeError)

    class Fake:
        sandbox_id = "fake-1"
        calls: ClassVar[list[str]] = []

        async def send_heartbeat(self, timeout: int = 30) -> None:
            self.calls.append(f"hb{timeout}")

        async def run_command(
            self, command: str, workdir: str | None = None, timeout: int = 60, max_output_bytes: int | None = None
        ) -> SandboxResult:
            return SandboxResult(stdout=command, stderr="", exit_code=0)

        async def read_file(self, path: str, max_bytes: int | None = None, timeout: int = 60) -> SandboxResult:
            return SandboxResult(stdout=path, stderr="", exit_code=0)

        async def write_file(
            self, path: str, content: str | bytes, executable: bool = False, timeout: int = 60
        ) -> SandboxResult:
            return SandboxResult(stdout="", stderr="", exit_code=0)

        async def cleanup(self) -> None:
            self.calls.append("cleanup")

    fake = Fake()
    assert isinstance(fake, SandboxInterface)
    res = SandboxResource(fake)

    async def go() -> None:
        await res.send_heartbeat(timeout=5)
        await res.cleanup()

    asyncio.run(go())
    assert fake.calls == ["hb5", "cleanup"]


def test_modal_missing_names_the_extra() -> None:
    import importlib.util

    if importlib.util.find_spec("modal") is not None:
        pytest.skip("modal is installed here; the missing-extra path cannot be exercised")
    with pytest.raises(MissingExtraError, match="modal"):
        asyncio.run(modal_sandbox.ModalSandbox.create())


def test_modal_sandbox_commands_through_a_fake_modal_sandbox() -> None:
    """ModalSandbox's own logic (caps, quoting, stdin chunks, termination mapping) over a stand-in object."""

    class Stream:
        def __init__(self, chunks: list[Any]) -> None:
            self.chunks = list(chunks)

        def __aiter__(self) -> Stream:
            return self

        async def __anext__(self) -> Any:
            if not self.chunks:
                raise StopAsyncIteration
            return self.chunks.pop(0)

    class Aio:
        def __init__(self, fn: Any) -> None:
            self.aio = fn

    class Stdin:
        def __init__(self) -> None:
            self.data = b""
            self.eof = False
            self.drain = Aio(self._drain)

        def write(self, b: bytes) -> None:
            self.data += b

        def write_eof(self) -> None:
            self.eof = True

        async def _drain(self) -> None:
            pass

    class Proc:
        def __init__(self, out: list[Any]) -> None:
            self.stdout, self.stderr, self.stdin = Stream(out), Stream([]), Stdin()

            async def wait() -> int:
                return 3

            self.wait = Aio(wait)

    class Sb:
        object_id = "sb-42"
        execs: ClassVar[list[tuple[Any, ...]]] = []
        procs: ClassVar[list[Proc]] = []

        def __init__(self) -> None:
            async def exec_(*args: Any, **kw: Any) -> Proc:
                self.execs.append((args, kw))
                if args[-1] == "die":
                    raise RuntimeError("Sandbox was terminated")
                if args[-1] == "oops":
                    raise RuntimeError("bad flag")
                p = Proc([b"abc", "def", b"ghi"])
                self.procs.append(p)
                return p

            self.exec = Aio(exec_)

    sb = Sb()
    box = modal_sandbox.ModalSandbox(timeout=60, image=None, app=None, sandbox=sb, max_stream_output_bytes=5)

    async def go() -> None:
        r = await box.run_command("echo hi", workdir="/w", timeout=9)
        assert (r.stdout, r.stderr, r.exit_code) == ("abcde", "", 3)
        assert sb.execs[-1] == (("bash", "-lc", "echo hi"), {"timeout": 9, "workdir": "/w"})
        r = await box.read_file("/a b.txt", max_bytes=4)
        assert sb.execs[-1][0][-1] == "head -c 4 '/a b.txt'"
        await box.write_file("/x/y.sh", "#!/bin/sh", executable=True)
        assert sb.execs[-1][0][-1] == "mkdir -p /x && cat > /x/y.sh && chmod +x /x/y.sh"
        assert sb.procs[-1].stdin.data == b"#!/bin/sh" and sb.procs[-1].stdin.eof
        assert (await box.run_command("oops")).exit_code == -1
        with pytest.raises(SandboxTerminatedError, match="terminated"):
            await box.run_command("die")

    asyncio.run(go())
    assert box.sandbox_id == "sb-42"


def test_cookbook_modal_sandbox_test_passes(tmp_path: Path) -> None:
    from tests.third_party.cookbook_tests import run_cookbook_test

    outcomes = run_cookbook_test("sandbox/modal_sandbox_test.py", tmp_path)
    assert outcomes == {
        "test_inner_cancellation_becomes_sandbox_terminated": "passed",
        "test_outer_cancellation_propagates": "passed",
    }, outcomes
