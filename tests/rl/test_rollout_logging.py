"""rl.rollout_logging against the cookbook 0.6.1's own module (executed with its two helper imports
supplied): the same records, byte for byte once dumped."""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest

from tests.official_exec import load_official
from tests.rl.conftest import group, trajectory, transition
from tinkerlite.rl import rollout_logging as ours
from tinkerlite.rl.rollout_logging import RolloutSummaryGroup


def _official(name: str, rel: str, stubs: dict[str, types.ModuleType]) -> types.ModuleType:
    return load_official(rel, name, stubs, register=True)


@pytest.fixture(scope="module")
def official() -> types.ModuleType:
    deprecation = _official("official_deprecation", "utils/deprecation.py", {})
    deprecation._current_version = lambda: (0, 6, 1)  # type: ignore[attr-defined]  # as when 0.6.1 is installed
    misc = types.ModuleType("misc")
    misc.safezip = lambda *xs: zip(*xs, strict=True)  # type: ignore[attr-defined]
    rl_types = types.ModuleType("rl_types")
    rl_types.TrajectoryGroup = object  # type: ignore[attr-defined]
    stubs = {
        "tinker_cookbook": types.ModuleType("tinker_cookbook"),
        "tinker_cookbook.rl": types.ModuleType("tinker_cookbook.rl"),
        "tinker_cookbook.rl.types": rl_types,
        "tinker_cookbook.utils": types.ModuleType("tinker_cookbook.utils"),
        "tinker_cookbook.utils.deprecation": deprecation,
        "tinker_cookbook.utils.misc_utils": misc,
    }
    return _official("official_rollout_logging", "rl/rollout_logging.py", stubs)


class _Scalar:
    def __init__(self, v: float) -> None:
        self.v = v

    def item(self) -> float:
        return self.v


def _groups() -> list[Any]:
    g1 = group(
        [
            trajectory(transition([1, 2], [3, 4], reward=0.5, metrics={"m": 1}), transition([1, 2, 3, 4, 5], [6],
                                                                                            reward=1.0, done=True)),
            trajectory(transition([1], [2, 3, 4], reward=-1.0, done=True, metrics={"np": _Scalar(2.5)})),
        ],
        final=[0.25, 0.0],
        metrics=[{"k": (1, 2)}, {"obj": Path("x")}],
    )
    g2 = group([trajectory(transition([9], [8], reward=0.0, done=True))])
    g2.trajectories_G[0].transitions[0].logs.update({"log": "text", "n": 3})
    return [g1, g2]


def test_records_match_the_cookbook(official: Any) -> None:
    kwargs: dict[str, Any] = dict(split="train", iteration=7, trajectory_groups_P=_groups(),
                                  taglist_P=[["env_a"], ["env_b", "x"]], sampling_client_steps_P=[5, None])
    ours_records = ours.serialize_rollout_summaries(**kwargs)
    theirs = official.serialize_rollout_summaries(**kwargs)
    assert json.dumps(ours_records) == json.dumps(theirs)
    assert len(ours_records) == 3 and ours_records[0]["steps"][1]["ob_len"] == 5
    groups = [RolloutSummaryGroup(g, ["t"], 3) for g in _groups()]
    assert json.dumps(ours.serialize_rollout_summaries_from_groups(split="s", iteration=1, groups_P=groups)) == (
        json.dumps(official.serialize_rollout_summaries_from_groups(split="s", iteration=1, groups_P=groups))
    )
    assert ours.rollout_summaries_jsonl_path(Path("it"), "train") == official.rollout_summaries_jsonl_path(
        Path("it"), "train"
    )
