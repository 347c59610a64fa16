"""Twenty questions against an answerer model."""
