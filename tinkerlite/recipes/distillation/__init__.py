"""Distillation recipes: on-policy (student samples, teacher KL) and off-policy (SFT on reasoning traces)."""
