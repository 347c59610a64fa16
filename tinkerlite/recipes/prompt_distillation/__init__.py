"""Prompt distillation: train a model to act as if a long system prompt were present.

The cookbook's ``recipes.prompt_distillation``: ``create_data`` labels with a prompted teacher, ``train`` runs SFT.
"""
