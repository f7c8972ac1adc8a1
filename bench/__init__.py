"""Benchmarks of veille (not tests): run with `make bench` or `python -m bench`."""
