"""Benchmarks: each prints a table of figures beside a ceiling measured in the same run."""
