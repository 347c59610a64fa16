"""Which exceptions the CLIs turn into one line with exit 2 (user-fixable) and which are bugs (traceback)."""

from __future__ import annotations

from tinkerlite.cli_errors import EXIT_USAGE, describe
from tinkerlite.errors import ValidationError


def test_os_error_with_a_filename_names_it() -> None:
    msg, code = describe(FileNotFoundError(2, "No such file or directory", "/nope/data.jsonl")) or ("", 0)
    assert code == EXIT_USAGE and msg.startswith("/nope/data.jsonl: No such file or directory")


def test_file_not_found_raised_with_a_message_is_one_line() -> None:
    # e.g. weights.build_hf_model: FileNotFoundError("no adapter_config.json in /x")
    msg, code = describe(FileNotFoundError("no adapter_config.json in /x\n(download it first)")) or ("", 0)
    assert code == EXIT_USAGE and msg == "no adapter_config.json in /x (download it first)"


def test_typed_errors_are_usage_errors() -> None:
    assert describe(ValidationError("must be positive", field="lr")) is not None


def test_bugs_are_not_described() -> None:
    assert describe(KeyError("x")) is None
    assert describe(FileNotFoundError()) is None  # no message, no path: nothing a user can act on
