"""Preference learning recipes: DPO on comparison datasets, and RL against a preference model."""
