"""Multi-turn text games for RL (the cookbook's ``recipes.multiplayer_rl``)."""
