"""Repository-level pytest configuration. The plugin itself is registered through its pytest11 entry point."""

collect_ignore = ["reports", ".cudabench_cache"]
