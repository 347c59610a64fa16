"""Reinforcement learning: environments, rollouts, advantages, KL penalty, training loops.

Modules (the cookbook's layout): :mod:`.types` (Env, Trajectory, ... what environments are written
against), :mod:`.rollouts` (concurrent rollouts, error policies, turn limits), :mod:`.data_processing`
(advantages, datums), :mod:`.metrics` (KL metrics and penalty), :mod:`.metric_util` (trajectory
metrics), :mod:`.problem_env` (question/answer envs), :mod:`.grading` (numeric grader), :mod:`.envs`
(shipped environments), :mod:`.train` (sync and async loops), :mod:`.cli` (``tinkerlite rl``).
"""
