"""RL on math problems with verifiable answers (the cookbook's ``recipes.math_rl``)."""
