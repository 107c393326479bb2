"""No models: the runner tests exercise migrations only."""
