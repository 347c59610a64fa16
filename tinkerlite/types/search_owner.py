"""``tinker.types.search_owner`` of the official SDK, at the same import path."""

from __future__ import annotations

from typing import Literal, TypeAlias

from ._lazy import dataclass
from ._wire_record import WireRecord

__all__ = ["AccessibleSearchOwner", "OwnSearchOwner", "SearchOwner", "UserSearchOwner"]


@dataclass(kw_only=True)
class OwnSearchOwner(WireRecord):
    type: Literal["own"] = "own"


@dataclass(kw_only=True)
class AccessibleSearchOwner(WireRecord):
    type: Literal["accessible"] = "accessible"


@dataclass(kw_only=True)
class UserSearchOwner(WireRecord):
    type: Literal["user"] = "user"
    owner_urns: list[str]
    _bounds = {"owner_urns": {"min_length": 1, "max_length": 10}}  # noqa: RUF012


SearchOwner: TypeAlias = OwnSearchOwner | AccessibleSearchOwner | UserSearchOwner
