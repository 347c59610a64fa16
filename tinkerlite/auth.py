"""``tinker.auth`` (SDK 0.38): is a Tinker credential configured, and is the service usable with it?

``get_tinker_token`` and ``tinker_has_credentials`` are local look-ups (a ``TINKER_CREDENTIAL_CMD`` counts
as present without being run); ``raise_if_tinker_not_accessible`` makes one un-retried request.
"""

from __future__ import annotations

from ._exceptions import TinkerError

__all__ = ["get_tinker_token", "raise_if_tinker_not_accessible", "tinker_has_credentials"]


def get_tinker_token() -> str | None:
    """The configured static token (argument-free: ``TINKER_API_KEY``, then the stored default), or None.

    Never runs ``TINKER_CREDENTIAL_CMD``.
    """
    import os

    from .client.config import read_stored_default

    key = os.environ.get("TINKER_API_KEY") or None
    if key is None:
        try:
            key = read_stored_default()
        except (OSError, ValueError):
            return None
    return key


def tinker_has_credentials() -> bool:
    """Whether a credential can be resolved, without running a credential command or any request."""
    from .client.config import resolve_credential

    try:
        resolve_credential(None)
    except (OSError, TinkerError, ValueError):
        return False
    return True


def raise_if_tinker_not_accessible() -> None:
    """Raise a :class:`TinkerError` subclass unless the service accepts the configured credential.

    One request to ``get_server_capabilities`` (which needs billing set up), not retried: no credential
    gives ``TinkerError``, a rejected one ``AuthenticationError``, missing billing ``BillingError``, an
    unreachable service ``APIConnectionError``.
    """
    from .client.rest_client import RestClient

    try:
        rest = RestClient()
        holder = rest.holder

        async def once() -> None:
            await holder.request("GET", "/api/v1/get_server_capabilities", None, max_retries=0, content_type=None)

        try:
            holder.run(once(), "auth.raise_if_tinker_not_accessible").result()
        finally:
            rest.close()
    except TinkerError:
        raise
    except Exception as e:  # credential resolution can raise OSError/ValueError: fold into the contract
        raise TinkerError(str(e)) from e
