"""Repository tooling (`make docs`, `make demo`, `make lint`): never shipped in the wheel. Run from the repository
root as `python -m tools.NAME`, with tests/ on PYTHONPATH for the ones that use the harness."""
