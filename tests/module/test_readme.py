"""The HCL blocks of the README and docs/: each is formatted, and all of them plan against LocalStack with the
module source pointed at this checkout: the usage blocks together, in one root; a block that is a whole root (it
configures the provider, as the per-account root of "Rolling out to an organisation" does) on its own. The upgrade
block's import is planned against a seed policy created first."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from harness.iam import IamWorld, create_users, delete_policy, delete_users
from harness.paths import REPO_ROOT
from harness.plans import PlanSummary
from harness.readme import (
    DOCS_TEXT,
    LOCALSTACK_ACCOUNT,
    README_ACCOUNT,
    README_TEXT,
    README_VERSION,
    REGISTRY_SOURCE,
    SEED_POLICY_NAME,
    fenced_blocks,
    localise,
    section,
    seed_document,
)
from harness.terraform import root_from_text, terraform

XDIST_GROUP = "readme"

# Users and groups the README's blocks name; the world fixture provides the group.
README_USERS = ("alice", "bob", "carol")
HCL_BLOCKS = fenced_blocks(DOCS_TEXT, "hcl")
BLOCK_IDS = [f"block{index}" for index in range(1, len(HCL_BLOCKS) + 1)]
# Blocks that are whole roots: their provider block would configure every other block's provider too.
ROOT_BLOCKS = [index for index, block in enumerate(HCL_BLOCKS, start=1) if re.search(r'(?m)^provider "', block)]
USAGE_BLOCKS = [index for index in range(1, len(HCL_BLOCKS) + 1) if index not in ROOT_BLOCKS]
MEMBER_ACCOUNT = "100000000009"  # the account a root block's provider assumes a role in


def module_name(index: int) -> str:
    return f"readme_block{index}"


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------


def test_readme_has_hcl_blocks() -> None:
    assert len(HCL_BLOCKS) >= 2, "README.md lost its usage blocks"
    assert sum("import {" in block for block in HCL_BLOCKS) == 1, "expected exactly one upgrade (import) block"


@pytest.mark.parametrize("block", HCL_BLOCKS, ids=BLOCK_IDS)
def test_block_is_formatted(block: str) -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", "-no-color", "-"],
        input=block,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"`terraform fmt` would change this README block:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("block", HCL_BLOCKS, ids=BLOCK_IDS)
def test_block_pins_the_registry_version(block: str) -> None:
    modules = block.count('module "')
    assert modules == 1, "each README block shows one module call"
    assert re.search(rf'(?m)^\s*source\s*=\s*"{re.escape(REGISTRY_SOURCE)}"$', block)
    assert re.search(rf'(?m)^\s*version\s*=\s*"{re.escape(README_VERSION)}"$', block), (
        f'usage blocks must carry version = "{README_VERSION}"'
    )


def test_readme_shows_make_demo_and_make_test() -> None:
    shell = "\n".join(fenced_blocks(README_TEXT, "sh"))
    for command in ("make demo", "make test"):
        assert re.search(rf"(?m)^{command}\b", shell), f"README's shell blocks must show `{command}`"


def test_upgrade_section_holds_the_import_block() -> None:
    blocks = fenced_blocks(section(DOCS_TEXT, "Upgrading from the seed's copy-pasted JSON"), "hcl")
    assert len(blocks) == 1 and "import {" in blocks[0]
    assert f"arn:aws:iam::{README_ACCOUNT}:policy/{SEED_POLICY_NAME}" in blocks[0]


# ---------------------------------------------------------------------------
# One plan of every block
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def readme_plan(tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str], world: IamWorld) -> Iterator[Any]:
    """Every README block as one root (modules renamed readme_block<N>), planned once. The users the blocks name
    and the seed policy the upgrade block imports are created first, and removed afterwards if created here."""
    iam = world.iam
    created_users = create_users(iam, README_USERS)
    seed_arn = world.local_policies().get(SEED_POLICY_NAME)
    created_seed = seed_arn is None
    if created_seed:
        seed_arn = iam.create_policy(PolicyName=SEED_POLICY_NAME, PolicyDocument=seed_document())["Policy"]["Arn"]
    try:
        main_tf = "\n".join(localise(HCL_BLOCKS[index - 1], module_name(index)) for index in USAGE_BLOCKS)
        root = root_from_text(tmp_path_factory.mktemp("readme") / "root", main_tf)
        yield terraform(root, tf_env).plan(output=True)
    finally:
        if created_seed and seed_arn:
            delete_policy(iam, seed_arn)
        delete_users(iam, created_users)


def test_plan_has_one_policy_per_block(readme_plan: Any) -> None:
    summary = PlanSummary.from_plan(readme_plan)
    policies = sorted(address for address in summary.values if address.endswith(".aws_iam_policy.this"))
    assert policies == sorted(f"module.{module_name(index)}.aws_iam_policy.this" for index in USAGE_BLOCKS)
    assert summary.counts["aws_iam_policy"] == len(USAGE_BLOCKS)


@pytest.mark.parametrize("index", USAGE_BLOCKS, ids=[f"block{index}" for index in USAGE_BLOCKS])
def test_block_plans(readme_plan: Any, index: int) -> None:
    """A usage block creates its policy; the upgrade block imports the existing one and updates it in place."""
    change = readme_plan.resource_changes[f"module.{module_name(index)}.aws_iam_policy.this"]
    if "import {" in HCL_BLOCKS[index - 1]:
        assert change["change"].get("importing", {}).get("id") == (
            f"arn:aws:iam::{LOCALSTACK_ACCOUNT}:policy/{SEED_POLICY_NAME}"
        )
        forcing = [".".join(map(str, path)) for path in change["change"].get("replace_paths", [])]
        assert change["change"]["actions"] == ["update"], (
            f"the README says the import updates the policy in place, but the plan would {change['change']['actions']}"
            f" it: {forcing} force replacement"
        )
        assert change["change"]["after"]["name"] == SEED_POLICY_NAME
    else:
        assert change["change"]["actions"] == ["create"]
    policy = json.loads(change["change"]["after"]["policy"])
    assert policy["Version"] == "2012-10-17" and policy["Statement"]


def test_block_attachments_are_planned(readme_plan: Any) -> None:
    """What each block names is what the plan attaches: users, existing groups, the created group's members."""
    changes = readme_plan.resource_changes
    resources = {
        "users": "aws_iam_user_policy_attachment",
        "groups": "aws_iam_group_policy_attachment",
        "group_users": "aws_iam_user_group_membership",
    }
    expected = [
        f'module.{module_name(index)}.{resource}.this["{name}"]'
        for index in USAGE_BLOCKS
        for block in [HCL_BLOCKS[index - 1]]
        for argument, resource in resources.items()
        for names in re.findall(rf"(?m)^\s*{argument}\s*=\s*(\[.*\])", block)
        for name in json.loads(names)
    ]
    assert expected, "the README blocks name no users or groups"
    assert [address for address in expected if address not in changes] == []


def test_upgrade_block_is_localised() -> None:
    """The substitution the upgrade test relies on: checkout source, no version, LocalStack's account."""
    (block,) = [block for block in HCL_BLOCKS if "import {" in block]
    text = localise(block)
    assert f'source = "{REPO_ROOT}"' in text and "version" not in text and README_ACCOUNT not in text


def test_readme_has_a_per_account_root() -> None:
    blocks = fenced_blocks(section(DOCS_TEXT, "Rolling out to an organisation"), "hcl")
    assert len(blocks) == 1 and HCL_BLOCKS.index(blocks[0]) + 1 in ROOT_BLOCKS
    assert "assume_role {" in blocks[0] and 'variable "account_id"' in blocks[0]


@pytest.mark.parametrize("index", ROOT_BLOCKS, ids=[f"block{index}" for index in ROOT_BLOCKS])
def test_root_block_plans_in_the_account_it_assumes_a_role_in(
    tmp_path: Any, tf_env: dict[str, str], index: int
) -> None:
    """Planned alone with account_id set: LocalStack's AssumeRole returns that account's credentials, so the
    policy's ARNs name it (the module reads the account from the caller's identity)."""
    root = root_from_text(tmp_path / "root", localise(HCL_BLOCKS[index - 1]))
    plan = terraform(root, tf_env).plan(output=True, tf_vars={"account_id": MEMBER_ACCOUNT})
    change = plan.resource_changes["module.mfa_required.aws_iam_policy.this"]
    assert change["change"]["actions"] == ["create"]
    arns = re.findall(r"arn:aws:iam::(\d{12}):", change["change"]["after"]["policy"])
    assert arns and set(arns) == {MEMBER_ACCOUNT}
