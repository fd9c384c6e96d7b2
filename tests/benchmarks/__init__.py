"""Benchmarks behind `make bench` (not collected by pytest). Each module has `run()`; see docs/benchmarks.md."""
