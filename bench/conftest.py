"""Benchmarks: pytest-benchmark, ratios against a baseline measured in the same run."""
