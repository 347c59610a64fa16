"""Knowledge distillation from teacher to student models (the cookbook's ``distillation``).

- :mod:`.train_on_policy`: the student samples; the teacher scores the student's tokens and the per-token
  reverse KL becomes the advantage of an ``importance_sampling`` update.
- :mod:`.train_off_policy`: the student trains on fixed data; at each position the teacher's top-K
  distribution is the soft target of ``cross_entropy``.
- :mod:`.sdft`: self-distillation fine-tuning; the teacher (the base model) sees the question and a golden
  answer as a demonstration, the student only the question, and learns the teacher's view of its samples.

Each exposes a ``Config`` and an async ``main(config)``; use them through the submodule::

    from tinkerlite.distillation import train_off_policy
    await train_off_policy.main(train_off_policy.Config(...))
"""

from . import sdft, train_off_policy, train_on_policy

__all__ = ["sdft", "train_off_policy", "train_on_policy"]
