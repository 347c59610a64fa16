"""Futures of clients that can still be used, deprecated, as the client itself (SDK 0.38's
``BackcompatTrainingClientFuture`` / ``BackcompatSamplingClientFuture``).

``create_lora_training_client`` and friends return a future; old code used the return value as the
client. These classes are both an ``APIFuture`` of the client and an instance of the client's class
(``isinstance`` checks keep passing), and every public client method forwards, with a ``FutureWarning``,
to the resolved client. Wrappers never run the client's ``__init__``: instance attributes (``model_id``)
come through ``ClientFuture.__getattr__``.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

from .api_future import ClientFuture
from .sampling_client import SamplingClient
from .training_client import TrainingClient


def _warn(client: str, name: str) -> None:
    warnings.warn(
        f"Using the future as the {client} is deprecated; call .result() on it, or await it, to get the "
        f"{client} first (called {name!r})",
        FutureWarning,
        stacklevel=3,
    )


def _forwarder(client: str, name: str, is_async: bool) -> Callable[..., Any]:
    if is_async:

        async def forward_async(self: ClientFuture[Any], *args: Any, **kwargs: Any) -> Any:
            _warn(client, name)
            target = await self.result_async()
            return await getattr(target, name)(*args, **kwargs)

        forward_async.__name__ = name
        return forward_async

    def forward(self: ClientFuture[Any], *args: Any, **kwargs: Any) -> Any:
        _warn(client, name)
        return getattr(self.result(), name)(*args, **kwargs)

    forward.__name__ = name
    return forward


def _install_forwarders(cls: type, client_cls: type) -> None:
    for name, member in vars(client_cls).items():
        if name.startswith("_") or not inspect.isfunction(member) or name in vars(cls):
            continue
        setattr(cls, name, _forwarder(client_cls.__name__, name, inspect.iscoroutinefunction(member)))


class BackcompatTrainingClientFuture(ClientFuture[TrainingClient], TrainingClient):
    """The future ``create_*_training_client*`` returns; ``.result()`` / ``await`` gives the client."""


class BackcompatSamplingClientFuture(ClientFuture[SamplingClient], SamplingClient):
    """The future ``create_sampling_client`` returns; ``.result()`` / ``await`` gives the client."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles as the resolved client (the SDK's behaviour: sampling clients cross processes)."""
        reduced: tuple[Any, ...] = self.result().__reduce__()
        return reduced


_install_forwarders(BackcompatTrainingClientFuture, TrainingClient)
_install_forwarders(BackcompatSamplingClientFuture, SamplingClient)
