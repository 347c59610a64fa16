"""``python -m tinkerlite.recipes.<name> key=value ...`` for a recipe's config class.

A recipe's ``CLIConfig`` is a dataclass with the cookbook's keys and defaults; its fields become
:class:`tinkerlite.cli_utils.Option` s and go through the same typed ``key=value`` parser as ``tinkerlite sl``
(no ``chz`` needed), so a bad key or value is one line naming the key, before anything is sent.

With no ``base_url`` and no ``$TINKER_BASE_URL`` the run gets an embedded local server
(:mod:`tinkerlite.local_endpoint`); its URL and key are exported as ``TINKER_BASE_URL``/``TINKER_API_KEY``
for the run, so every client the recipe (or the library under it) creates talks to it. The embedded
server's model is tiny and CPU-bound, so each recipe names ``local_defaults`` (the built-in model, small
batches) used then for every key the command line did not set; the run prints them. Against a real
service the cookbook's defaults stand unchanged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import os
import sys
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from ..cli_utils import Option, run_cli
from ..errors import ValidationError

__all__ = ["local_or_remote", "options_of", "recipe_main"]

C = TypeVar("C")

#: Models the embedded server trains quickly; a recipe's real default model is kept when base_url is set.
LOCAL_MODEL = "tinkerlite/tiny-chat"


def _missing(x: Any) -> bool:
    return x is dataclasses.MISSING or type(x).__name__ == "MISSING_TYPE"


def _fields(cls: type) -> list[tuple[str, Any, Any, str]]:
    """(name, type, default, doc) of each field of a config class, chz or dataclass."""
    from ..utils.config import USING_CHZ

    out = []
    if USING_CHZ:
        import chz

        if chz.is_chz(cls):
            for f in chz.chz_fields(cls).values():
                default: Any = f._default
                factory: Any = f._default_factory
                if _missing(default):
                    default = None if _missing(factory) else factory()
                out.append((f.logical_name, f.final_type, default, f._doc or ""))
            return out
    hints = typing.get_type_hints(cls)
    for df in dataclasses.fields(cls):
        default = df.default
        dfactory: Any = df.default_factory
        if _missing(default):
            default = None if _missing(dfactory) else dfactory()
        out.append((df.name, hints.get(df.name, str), default, str(df.metadata.get("doc", ""))))
    return out


def _is_config_type(t: Any) -> bool:
    from ..utils.config import USING_CHZ

    if not isinstance(t, type):
        return False
    if USING_CHZ:
        import chz

        if chz.is_chz(t):
            return True
    return dataclasses.is_dataclass(t)


def _flat_fields(cls: type, prefix: str = "") -> list[tuple[str, Any, Any, str]]:
    """Fields of ``cls``; a field holding a nested config class becomes its dotted sub-fields (``task.x``)."""
    out = []
    for name, t, default, doc in _fields(cls):
        if _is_config_type(t):
            out.extend(_flat_fields(t, f"{prefix}{name}."))
        else:
            out.append((prefix + name, t, default, doc))
    return out


def options_of(cls: type) -> list[Option]:
    """One :class:`Option` per (dotted, for nested configs) field of the config class ``cls``."""
    return [Option(name, t, default, doc) for name, t, default, doc in _flat_fields(cls)]


def _build(cls: type, values: dict[str, Any], hints: dict[str, Any], prefix: str = "") -> Any:
    kwargs: dict[str, Any] = {}
    for name, t, _, _ in _fields(cls):
        if _is_config_type(t):
            kwargs[name] = _build(t, values, hints, f"{prefix}{name}.")
        else:
            key = prefix + name
            kwargs[name] = _coerce(values[key], hints[key])
    return cls(**kwargs)


def _coerce(value: Any, t: Any) -> Any:
    """Enum-typed options arrive as strings from the key=value parser."""
    import enum
    import json

    if isinstance(value, str):
        cands = (t, *typing.get_args(t))
        if any(c is tuple or typing.get_origin(c) is tuple for c in cands):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if any(c is dict or typing.get_origin(c) is dict for c in cands):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ValidationError(f"must be a JSON object; got {value!r}") from None
        for cand in cands:
            if isinstance(cand, type) and issubclass(cand, enum.Enum):
                return cand(value)
    return value


@contextmanager
def local_or_remote(base_url: str | None, log_path: str | None = None) -> Iterator[str | None]:
    """The given service, or an embedded local server exported through ``TINKER_BASE_URL``/``TINKER_API_KEY``.

    With a ``log_path`` the embedded server keeps its state in ``<log_path>/server``, so a rerun with the
    same ``log_path`` resumes from the checkpoints the first run recorded (as ``tinkerlite sl`` does).
    """
    from ..local_endpoint import endpoint

    with endpoint(base_url, log_path=log_path) as (url, key):
        if key is None:
            yield url
            return
        saved = {k: os.environ.get(k) for k in ("TINKER_BASE_URL", "TINKER_API_KEY")}
        os.environ["TINKER_BASE_URL"], os.environ["TINKER_API_KEY"] = str(url), key
        try:
            yield url
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _explicit_keys(args: Sequence[str]) -> set[str]:
    return {a.split("=", 1)[0].strip().lstrip("-").replace("-", "_") for a in args if "=" in a}


def recipe_main(
    prog: str,
    doc: str,
    config_cls: type[C],
    main: Callable[[C], Any],
    argv: Sequence[str] | None = None,
    local_defaults: dict[str, Any] | None = None,
) -> int:
    """Parse ``argv`` into ``config_cls``, run ``main`` (sync or async) against the chosen endpoint."""
    args = list(sys.argv[1:] if argv is None else argv)
    options = options_of(config_cls)
    hints = {n: t for n, t, _, _ in _flat_fields(config_cls)}

    def run(values: dict[str, Any]) -> int:
        if not values.get("base_url") and not os.environ.get("TINKER_BASE_URL") and local_defaults:
            given = _explicit_keys(args)
            chosen = {k: v for k, v in local_defaults.items() if k not in given and k in values}
            if chosen:
                values.update(chosen)
                shown = " ".join(f"{k}={v}" for k, v in chosen.items())
                print(f"{prog}: embedded local server; small defaults for the tiny model: {shown}")
        config: C = _build(config_cls, values, hints)
        log_path = getattr(config, "log_path", None)
        with local_or_remote(getattr(config, "base_url", None), str(log_path) if log_path else None):
            result = main(config)
            if inspect.isawaitable(result):
                asyncio.run(result)  # type: ignore[arg-type]
        return 0

    if local_defaults:
        shown = " ".join(f"{k}={v}" for k, v in local_defaults.items())
        doc = (
            f"{doc.rstrip()}\n\nWith no base_url (and no $TINKER_BASE_URL) the run uses an embedded local server,"
            f" and keys\nnot given default to: {shown}"
        )
    return run_cli(prog, doc, options, args, run)


def runs_path(*parts: str) -> str:
    """``cli_utils.runs_path``: ``$TINKER_COOKBOOK_RUNS_DIR`` (default ``~/tinker-runs``) joined with ``parts``."""
    from .. import cli_utils

    fn = getattr(cli_utils, "runs_path", None)
    if fn is not None:
        return str(fn(*parts))
    from pathlib import Path

    root = os.environ.get("TINKER_COOKBOOK_RUNS_DIR") or "~/tinker-runs"
    return str(Path(root).expanduser().joinpath(*parts))


def resolve_renderer(
    model_name: str, renderer_name: str | None, load_checkpoint_path: str | None = None, base_url: str | None = None
) -> str:
    """The explicit renderer, else the one a checkpoint recorded, else the model's recommended renderer."""
    from .. import checkpoint_utils
    from ..cli_utils import recommended_renderer

    fn = getattr(checkpoint_utils, "resolve_renderer_name_from_checkpoint_or_default", None)
    if fn is not None and load_checkpoint_path:
        return str(
            fn(
                model_name=model_name,
                explicit_renderer_name=renderer_name,
                load_checkpoint_path=load_checkpoint_path,
                base_url=base_url,
            )
        )
    return recommended_renderer(model_name, renderer_name)


def run_name_time() -> str:
    from datetime import datetime

    return datetime.now().strftime("%Y-%m-%d-%H-%M")


#: The embedded server's small settings most recipes share (model, batch, length, steps).
LOCAL_SL = {"model_name": LOCAL_MODEL, "renderer_name": None, "batch_size": 16, "max_length": 512}
LOCAL_RL = {"model_name": LOCAL_MODEL, "renderer_name": None, "max_tokens": 16}
