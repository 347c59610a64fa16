"""Supervised fine-tuning on chat datasets (the cookbook's ``recipes.chat_sl``)."""
