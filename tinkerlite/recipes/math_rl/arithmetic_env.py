"""The toy addition environment (``What is x + y?``), from :mod:`tinkerlite.rl.envs.arithmetic`."""

from __future__ import annotations

from ...rl.envs.arithmetic import ArithmeticDataset, ArithmeticDatasetBuilder, ArithmeticEnv

__all__ = ["ArithmeticDataset", "ArithmeticDatasetBuilder", "ArithmeticEnv"]
