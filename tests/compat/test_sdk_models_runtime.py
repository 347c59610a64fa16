"""A runtime cross-check of the ast reading: the official SDK 0.38, imported in its own venv, lists every
pydantic model of ``tinker.types`` with its fields and defaults; each must exist here with the same fields
and defaults (``SaveWeightsForSamplerResponse.path`` excepted, as in ``test_signatures.DELIBERATE``)."""

from __future__ import annotations

import json
import subprocess

import pytest

import tinkerlite.types as T
from tests.compat.sigdiff import _our_fields, _same_default

_DUMP = r"""
import inspect, json
import tinker.types as T
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

out = {}
for name in dir(T):
    obj = getattr(T, name)
    if inspect.isclass(obj) and issubclass(obj, BaseModel):
        fields = {}
        for fname, f in obj.model_fields.items():
            if f.default is not PydanticUndefined:
                literal = isinstance(f.default, (int, float, str, bool, type(None)))
                fields[fname] = repr(f.default) if literal else "<default>"
            else:
                fields[fname] = "<default>" if f.default_factory is not None else "<required>"
        out[name] = fields
print(json.dumps(out))
"""
_EXPECTED = {("SaveWeightsForSamplerResponse", "path")}


@pytest.mark.official
@pytest.mark.network_registry
def test_every_sdk_model_has_our_fields_and_defaults() -> None:
    from tests.official_env import official_sdk_python

    proc = subprocess.run(
        [str(official_sdk_python("0.38.0")), "-c", _DUMP], capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs: dict[str, dict[str, str]] = json.loads(proc.stdout)
    assert len(theirs) > 100
    problems = []
    for name, fields in sorted(theirs.items()):
        ours = getattr(T, name, None)
        if ours is None:
            problems.append(f"{name}: missing")
            continue
        defaults = {p.name: p.default for p in _our_fields(ours)}
        for field, default in fields.items():
            if (name, field) in _EXPECTED:
                continue
            if field not in defaults:
                problems.append(f"{name}.{field}: missing")
            elif not (
                _same_default(default, defaults[field]) or (default == "<default>" and defaults[field] != "<required>")
            ):
                problems.append(f"{name}.{field}: default {default} != ours {defaults[field]}")
    assert not problems, "\n".join(problems)
