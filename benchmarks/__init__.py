"""Benchmarks run by hand (never by CI): ``uv run python -m benchmarks.<name>``."""
