"""Benchmarks for the mfa_required module and its tooling: `make bench` (python -m bench) writes bench/results.*."""
