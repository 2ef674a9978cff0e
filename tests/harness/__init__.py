"""The test harness: LocalStack, terraform's environment, the oracle, IAM read-back and plan helpers.

Imported as `harness` by the tests (pytest's `pythonpath`) and by bench/ and tools/ (PYTHONPATH=tests in the
Makefile). It may import the product (`mfa_required`); the product never imports it.
"""
