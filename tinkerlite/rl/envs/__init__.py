"""Environments shipped with tinkerlite: toy tasks that need no downloads, and a GSM8K-style JSONL env."""
