"""Alias of :mod:`tinkerlite.hyperparam_utils` under the name the supervised-learning docs use."""

from __future__ import annotations

from . import hyperparam_utils as _impl
from .hyperparam_utils import *  # noqa: F403

__all__ = list(_impl.__all__)
