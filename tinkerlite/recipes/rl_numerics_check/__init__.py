"""A long-context, many-turn counting task for checking RL numerics (cookbook ``recipes.rl_numerics_check``)."""
