"""The cookbook's operational scripts (``python -m tinkerlite.scripts.<name>``), same options as there."""
