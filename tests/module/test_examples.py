"""Every example is applied by exactly one tier, and has the shape that tier needs: a single-account example is
instantiated as a module block by the plan tier, which only works for a root with one default provider."""

from __future__ import annotations

from typing import Any

import hcl2
import pytest

from harness.paths import EXAMPLES_DIR
from harness.plans import EXAMPLES, MULTI_ACCOUNT_EXAMPLES, SINGLE_ACCOUNT_EXAMPLES


def aws_providers(example: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for path in sorted((EXAMPLES_DIR / example).glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            for provider in hcl2.load(handle).get("provider", []):
                blocks.extend(body for name, body in provider.items() if name.strip('"') == "aws")
    return blocks


def test_every_example_is_in_exactly_one_tier() -> None:
    single, multi = set(SINGLE_ACCOUNT_EXAMPLES), set(MULTI_ACCOUNT_EXAMPLES)
    assert not single & multi, f"in both tiers: {sorted(single & multi)}"
    assert set(EXAMPLES) - single - multi == set(), "declare the new example's tier in tests/harness/plans.py"
    assert single | multi <= set(EXAMPLES), (
        f"declared but missing from examples/: {sorted(single | multi - set(EXAMPLES))}"
    )


@pytest.mark.parametrize("example", SINGLE_ACCOUNT_EXAMPLES)
def test_single_account_example_has_one_default_provider(example: str) -> None:
    (provider,) = aws_providers(example)
    assert "alias" not in provider and "assume_role" not in provider


@pytest.mark.parametrize("example", MULTI_ACCOUNT_EXAMPLES)
def test_multi_account_example_assumes_a_role_per_account(example: str) -> None:
    providers = aws_providers(example)
    members = [provider for provider in providers if "alias" in provider]
    assert len(members) >= 2 and all("assume_role" in provider for provider in members)
    assert [provider for provider in providers if "alias" not in provider], "the management account's default provider"
