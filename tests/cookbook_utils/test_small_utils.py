"""misc_utils, session_naming, git_rev, cli_utils.runs_path/model_name_from_argv, exceptions."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest

import tinkerlite
from tinkerlite import cli_utils, exceptions
from tinkerlite.errors import TinkerliteError
from tinkerlite.utils import misc_utils as mu
from tinkerlite.utils.git_rev import recipe_user_metadata
from tinkerlite.utils.session_naming import default_cookbook_session_name, resolve_session_display_name, slugify


def test_split_list_edges_match_numpy_linspace() -> None:
    np = pytest.importorskip("numpy")
    for n in range(1, 120):
        for k in range(1, n + 1):
            edges = np.linspace(0, n, k + 1).astype(int)
            want = [list(range(n))[edges[i] : edges[i + 1]] for i in range(k)]
            assert mu.split_list(list(range(n)), k) == want, (n, k)
    with pytest.raises(ValueError, match="positive"):
        mu.split_list([1], 0)
    with pytest.raises(ValueError, match="Cannot split"):
        mu.split_list([1], 2)


def test_dict_mean_skips_missing_and_none() -> None:
    assert mu.dict_mean([{"a": 1, "b": None}, {"a": 3, "c": 2.0}, {"b": None}]) == {"a": 2.0, "c": 2.0}


def test_small_helpers(caplog: pytest.LogCaptureFixture) -> None:
    assert mu.all_same([]) and mu.all_same([2, 2]) and not mu.all_same([1, 2])
    assert mu.concat_lists([[1], [], [2, 3]]) == [1, 2, 3]
    with pytest.raises(ValueError):
        list(mu.safezip([1, 2], [1]))
    with pytest.raises(AssertionError):
        mu.not_none(None)
    assert mu.lookup_func("os.path:join") is __import__("os").path.join
    assert mu.lookup_func("join", default_module="os.path") is __import__("os").path.join
    with pytest.raises(ValueError, match="Invalid path"):
        mu.lookup_func("a:b:c")
    assert mu.iteration_dir(None, 3) is None and mu.iteration_dir("", 3) is None
    assert mu.iteration_dir("runs/x", 7) == Path("runs/x/iteration_000007")
    metrics: dict[str, float] = {}
    with caplog.at_level(logging.INFO), mu.timed("fwd", metrics):
        pass
    assert metrics["time/fwd"] >= 0 and "Starting fwd" in caplog.text


def test_session_naming() -> None:
    assert resolve_session_display_name(session_name="s", wandb_name="w") == "s"
    assert resolve_session_display_name(session_name="", wandb_name="w") == "w"
    assert resolve_session_display_name(session_name=None, wandb_name="") is None
    assert slugify("  Math_RL / GSM8K!! ") == "math-rl-gsm8k"
    assert default_cookbook_session_name("math-rl", None, "gsm8k") == "cookbook-math-rl-gsm8k"
    assert default_cookbook_session_name("x", wandb_name="My Run") == "My Run"
    assert recipe_user_metadata("sl_basic") == {"recipe_name": "sl_basic", "git_rev": tinkerlite.__version__}


def test_runs_path_and_model_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(cli_utils.RUNS_DIR_ENV_VAR, raising=False)
    assert cli_utils.runs_path("math_rl", "r1") == str(Path("~/tinker-runs/math_rl/r1").expanduser())
    monkeypatch.setenv(cli_utils.RUNS_DIR_ENV_VAR, str(tmp_path))
    assert cli_utils.runs_path("a") == str(tmp_path / "a")
    assert cli_utils.runs_path() == str(tmp_path)
    argv = ["lr=1", "model_name=a/b", "x=model_name=z", "model_name=c/d"]
    assert cli_utils.model_name_from_argv(argv, "dflt") == "c/d"
    assert cli_utils.model_name_from_argv([], "dflt") == "dflt"


def test_exception_hierarchy_keeps_stdlib_bases_and_pickles() -> None:
    e = exceptions
    assert issubclass(e.ConfigurationError, ValueError) and issubclass(e.ConfigurationError, e.TinkerCookbookError)
    assert issubclass(e.DataFormatError, e.DataError) and issubclass(e.DataValidationError, ValueError)
    assert issubclass(e.CheckpointError, RuntimeError) and issubclass(e.AllTrajectoriesFailedError, e.TrainingError)
    assert not issubclass(e.WeightsError, (ValueError, RuntimeError))
    assert issubclass(e.WeightsDownloadError, RuntimeError) and issubclass(e.WeightsMergeError, ValueError)
    assert issubclass(e.EvalTimeoutError, TimeoutError) and issubclass(e.BenchmarkNotFoundError, KeyError)
    assert issubclass(e.TinkerCookbookError, TinkerliteError)
    for name in e.__all__:
        cls = getattr(e, name)
        back = pickle.loads(pickle.dumps(cls("boom")))
        assert type(back) is cls and back.args == ("boom",)


def test_top_level_has_the_cookbooks_exception_names() -> None:
    for name in exceptions.__all__:
        assert getattr(tinkerlite, name) is getattr(exceptions, name)
        assert name in tinkerlite.__all__


def test_pretty_print_logger_tables_metrics(caplog: pytest.LogCaptureFixture) -> None:
    from tinkerlite.utils.ml_log import Logger, PrettyPrintLogger

    p = PrettyPrintLogger()
    assert isinstance(p, Logger)
    with caplog.at_level(logging.INFO, logger="tinkerlite.utils.ml_log"):
        p.log_metrics({"loss": 0.25, "time/step:count": 3.0, "tokens": 7}, step=4)
        p.log_metrics({"x:total": 1.0})  # only hidden keys: nothing printed
        p.log_hparams({"model_name": "m", "long": "z" * 400})
    text = caplog.text
    assert "Step 4" in text and "0.250000" in text and "tokens" in text and ":count" not in text
    assert "model_name: 'm'" in text and " ... " in text
