"""Every ordinary user mistake: exit code 2, one line on stderr saying what and what to do, no traceback."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from .helpers import one_error_line, run_cli, user_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "home").mkdir()
    return user_env(tmp_path / "home", TINKERLITE_UNREACHABLE_TIMEOUT="1")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


def _sl(tmp_path: Path, env: dict[str, str], *args: str) -> str:
    return one_error_line(run_cli(["sl", f"log_path={tmp_path / 'run'}", "max_steps=1", *args], tmp_path, env))


def test_missing_data_file(tmp_path: Path, env: dict[str, str]) -> None:
    line = _sl(tmp_path, env, f"file_path={tmp_path / 'nope.jsonl'}")
    assert "nope.jsonl" in line and "No such file" in line


def test_unreadable_data_file(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "adir.jsonl").mkdir()  # a directory where a file belongs (chmod cannot stop root reading)
    line = _sl(tmp_path, env, f"file_path={tmp_path / 'adir.jsonl'}")
    assert "adir.jsonl" in line


def test_no_api_key_for_a_service(tmp_path: Path, env: dict[str, str]) -> None:
    line = _sl(tmp_path, env, f"base_url=http://127.0.0.1:{_closed_port()}")
    assert "api_key=" in line and "TINKER_API_KEY" in line


def test_unwritable_log_path(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "a-file").write_text("x")
    line = one_error_line(run_cli(["sl", f"log_path={tmp_path / 'a-file' / 'run'}"], tmp_path, env))
    assert "log_path" in line and "a-file" in line


def test_unreachable_server(tmp_path: Path, env: dict[str, str]) -> None:
    port = _closed_port()
    line = _sl(tmp_path, env, f"base_url=http://127.0.0.1:{port}", "api_key=tml-test")
    assert f"http://127.0.0.1:{port}" in line and "base_url" in line and "for 1 s" in line
    assert line.count("Cannot reach") + line.count("cannot reach") == 1  # said once, not chained


def test_unknown_command_suggests_the_right_one(tmp_path: Path, env: dict[str, str]) -> None:
    line = one_error_line(run_cli(["sll"], tmp_path, env))
    assert "'sll'" in line and "did you mean sl" in line


def test_unknown_config_key(tmp_path: Path, env: dict[str, str]) -> None:
    line = _sl(tmp_path, env, "lerning_rate=1e-3")
    assert "lerning_rate" in line and "did you mean learning_rate" in line


def test_unknown_config_key_without_a_close_match(tmp_path: Path, env: dict[str, str]) -> None:
    line = _sl(tmp_path, env, "zzz=1")
    assert "'zzz'" in line and "--help" in line


@pytest.mark.parametrize(
    ("override", "expected"),
    [("batch_size=abc", "integer"), ("learning_rate=fast", "number"), ("behavior_if_log_dir_exists=maybe", "resume")],
)
def test_wrong_typed_override(tmp_path: Path, env: dict[str, str], override: str, expected: str) -> None:
    line = _sl(tmp_path, env, override)
    assert override.split("=")[0] in line and expected in line


@pytest.mark.parametrize("command", ["rl", "dpo", "distill"])
def test_other_training_commands_report_unknown_keys_the_same_way(
    tmp_path: Path, env: dict[str, str], command: str
) -> None:
    line = one_error_line(run_cli([command, "lerning_rate=1"], tmp_path, env))
    assert line.startswith(f"tinkerlite {command}: ") and "learning_rate" in line


@pytest.mark.parametrize("command", ["dpo", "distill"])
def test_other_training_commands_report_a_missing_file(tmp_path: Path, env: dict[str, str], command: str) -> None:
    line = one_error_line(
        run_cli([command, f"log_path={tmp_path / 'run'}", f"file_path={tmp_path / 'nope.jsonl'}"], tmp_path, env)
    )
    assert "nope.jsonl" in line


def test_serve_bad_port_and_state_dir(tmp_path: Path, env: dict[str, str]) -> None:
    assert "--port" in one_error_line(run_cli(["serve", "--port", "99999"], tmp_path, env))
    (tmp_path / "a-file").write_text("x")
    line = one_error_line(run_cli(["serve", "--port", "0", "--state-dir", str(tmp_path / "a-file")], tmp_path, env))
    assert "a-file" in line


def test_plot_refuses_an_unknown_metric_and_lists_the_known_ones(tmp_path: Path, env: dict[str, str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('{"step": 0, "train_mean_nll": 2.0}\n{"step": 1, "train_mean_nll": 1.5}\n')
    line = one_error_line(run_cli(["plot", str(run), "badmetric"], tmp_path, env))
    assert "badmetric" in line and "train_mean_nll" in line
    assert not (run / "metrics.svg").exists()  # nothing overwritten with an empty plot
    assert "metrics.jsonl" in one_error_line(run_cli(["plot", str(tmp_path / "nowhere")], tmp_path, env))


def test_debug_shows_the_traceback(tmp_path: Path, env: dict[str, str]) -> None:
    done = run_cli(
        ["--debug", "sl", f"file_path={tmp_path / 'nope.jsonl'}", f"log_path={tmp_path / 'r'}"], tmp_path, env
    )
    assert done.returncode != 0 and "Traceback" in done.stderr and "FileNotFoundError" in done.stderr
    env = {**env, "TINKERLITE_DEBUG": "1"}
    done = run_cli(["sl", f"file_path={tmp_path / 'nope.jsonl'}", f"log_path={tmp_path / 'r'}"], tmp_path, env)
    assert "Traceback" in done.stderr


def test_serve_unknown_flag_and_plot_without_a_run(tmp_path: Path, env: dict[str, str]) -> None:
    assert "--bogus" in one_error_line(run_cli(["serve", "--bogus"], tmp_path, env))
    assert "log_path" in one_error_line(run_cli(["plot"], tmp_path, env))


def test_existing_log_path_without_a_terminal_to_ask(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "run").mkdir()
    line = one_error_line(run_cli(["sl", f"log_path={tmp_path / 'run'}"], tmp_path, env))
    assert "already exists" in line and "behavior_if_log_dir_exists=resume" in line


@pytest.mark.parametrize("command", ["sl", "rl", "dpo", "distill", "inspect"])
def test_help_is_plain_text(tmp_path: Path, env: dict[str, str], command: str) -> None:
    done = run_cli([command, "--help"], tmp_path, env)
    assert done.returncode == 0 and "usage: tinkerlite" in done.stdout
    assert "``" not in done.stdout and not re.search(r":(mod|func|class|data|attr):`", done.stdout), done.stdout


def test_api_key_from_the_environment_and_url_from_tinker_base_url(tmp_path: Path, env: dict[str, str]) -> None:
    port = _closed_port()
    env = {**env, "TINKER_API_KEY": "tml-from-env", "TINKER_BASE_URL": f"http://127.0.0.1:{port}"}
    line = _sl(tmp_path, env)  # the key is accepted (no credential error); the URL's source is named
    assert f"http://127.0.0.1:{port}" in line and "TINKER_BASE_URL" in line
