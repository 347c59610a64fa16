"""Evaluators run by the training loops."""
