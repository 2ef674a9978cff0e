"""Every example is applied by exactly one tier, and has the shape that tier needs: a single-account example is
instantiated as a module block by the plan tier, which only works for a root with one default provider."""

from __future__ import annotations

from typing import Any

import hcl2
import pytest

from harness.paths import EXAMPLES_DIR
from harness.plans import EXAMPLES, MULTI_ACCOUNT_EXAMPLES, ORGANIZATION_EXAMPLES, SINGLE_ACCOUNT_EXAMPLES


def aws_providers(example: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for path in sorted((EXAMPLES_DIR / example).glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            for provider in hcl2.load(handle).get("provider", []):
                blocks.extend(body for name, body in provider.items() if name.strip('"') == "aws")
    return blocks


def test_every_example_is_in_exactly_one_tier() -> None:
    tiers = [set(SINGLE_ACCOUNT_EXAMPLES), set(MULTI_ACCOUNT_EXAMPLES), set(ORGANIZATION_EXAMPLES)]
    declared = set().union(*tiers)
    assert sum(len(tier) for tier in tiers) == len(declared), "an example is declared in two tiers"
    assert set(EXAMPLES) - declared == set(), "declare the new example's tier in tests/harness/plans.py"
    assert declared <= set(EXAMPLES), f"declared but missing from examples/: {sorted(declared - set(EXAMPLES))}"


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


@pytest.mark.parametrize("example", ORGANIZATION_EXAMPLES)
def test_organization_example_creates_the_organization_before_the_scp(example: str) -> None:
    """One default provider (the management account); the SCP module waits for the organization, without which
    CreatePolicy fails (moto answers it with a 500)."""
    (provider,) = aws_providers(example)
    assert "alias" not in provider and "assume_role" not in provider
    with (EXAMPLES_DIR / example / "main.tf").open(encoding="utf-8") as handle:
        main = hcl2.load(handle)
    organizations = [r for r in main.get("resource", []) if '"aws_organizations_organization"' in r]
    (module,) = [body for block in main.get("module", []) for body in block.values()]
    assert organizations and module["source"] == '"../../modules/scp"'
    assert module["depends_on"] == ["${aws_organizations_organization.this}"]
