"""``StreamMinibatchConfig`` (the cookbook's ``rl.train.StreamMinibatchConfig``), re-exported by :mod:`.train`.

Streaming minibatches start training as soon as a minibatch's worth of trajectory groups is in, instead of
waiting for the whole batch. It lives in its own module so the config can be declared (and validated)
independently of the training loop that consumes it.
"""

from __future__ import annotations

from ..errors import ValidationError
from ..utils.config import configclass, validate

__all__ = ["StreamMinibatchConfig"]


@configclass
class StreamMinibatchConfig:
    """``groups_per_batch`` groups per training iteration, split into ``num_minibatches`` per substep
    (one ``forward_backward`` per minibatch, one ``optim_step`` per substep)."""

    groups_per_batch: int
    num_minibatches: int

    @validate
    def _check(self) -> None:
        for name in ("groups_per_batch", "num_minibatches"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValidationError(f"must be a positive integer; got {value!r}", field=name)
