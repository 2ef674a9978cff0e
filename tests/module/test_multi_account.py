"""examples/multi-account against three LocalStack member accounts, from a management account's credentials.

LocalStack keeps one IAM per account, the account following a 12-digit access key id, and sts:AssumeRole
returns credentials of the role's account without checking that the role exists
(https://docs.localstack.cloud/references/multi-account-setups, .../references/credentials;
test_localstack_serves_each_account_apart checks both). The example's providers therefore assume
OrganizationAccountAccessRole in each member account as they would in AWS; their STS calls reach LocalStack
through AWS_ENDPOINT_URL, which the harness sets for every service. The accounts, users and groups are those of
the terraform.tfvars the example's README shows; the users and groups are created first in each member account with
its own credentials, as they exist before a rollout.

One root, one recorded scenario: apply to the three accounts, read each back through the IAM API, change one input
of one account, remove an account as the README says (then apply, which must change no resource), destroy. Each
test reads its step. Two bad inputs are planned in a root of their own, beside the scenario.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import hcl2
import pytest
import tftest

from harness.localstack import client
from harness.paths import EXAMPLES_DIR
from harness.plans import MULTI_ACCOUNT_EXAMPLES, expected_policy
from harness.terraform import apply_reporting, as_tf_vars, root_from_example, run, terraform

XDIST_GROUP = "multi-account"
(EXAMPLE,) = MULTI_ACCOUNT_EXAMPLES
MODULE_ACCOUNT = "123456789012"  # the account id of the expected documents in tests/data/policies
MANAGEMENT = "100000000000"


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals."""
    if isinstance(value, str):
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if isinstance(value, list):
        return [unquote(item) for item in value]
    if isinstance(value, dict):
        return {key: unquote(item) for key, item in value.items()}
    return value


def readme_accounts() -> dict[str, dict[str, Any]]:
    """The `accounts` of the example README's terraform.tfvars: the scenario applies what the README shows."""
    text = (EXAMPLES_DIR / EXAMPLE / "README.md").read_text(encoding="utf-8")
    (tfvars,) = [block for block in re.findall(r"(?ms)^```hcl\n(.*?)^```$", text) if block.startswith("accounts =")]
    return dict(unquote(hcl2.loads(tfvars)["accounts"]))


README_ACCOUNTS = readme_accounts()
# The README's account ids mapped to accounts of their own in LocalStack, apart from what other tests use.
ACCOUNT_IDS = {name: f"1000000000{index:02d}" for index, name in enumerate(README_ACCOUNTS, start=1)}
USERS = {name: sorted(account.get("users", [])) for name, account in README_ACCOUNTS.items()}
GROUPS = {name: sorted(account.get("groups", [])) for name, account in README_ACCOUNTS.items()}
ENFORCED = {name: account.get("enforce_for_programmatic_access", False) for name, account in README_ACCOUNTS.items()}
REMOVED = list(README_ACCOUNTS)[-1]
CHANGED = next(name for name, enforced in ENFORCED.items() if not enforced and USERS[name])
# No separate no-change plan: the plan that changes CHANGED's input must leave every other resource no-op, and the
# plan after REMOVED's removal must change nothing (their tests), which together say what a second plan would.
assert CHANGED != REMOVED


def accounts(enforced: dict[str, bool]) -> dict[str, Any]:
    return {
        name: account | {"account_id": ACCOUNT_IDS[name], "enforce_for_programmatic_access": enforced[name]}
        for name, account in README_ACCOUNTS.items()
    }


def expected_document(name: str, enforced: bool) -> dict[str, Any]:
    """The module's document for these inputs (the plan and matrix tiers check it), naming this account."""
    document = expected_policy("programmatic-access-enforced" if enforced else "default")
    return dict(json.loads(json.dumps(document).replace(f":{MODULE_ACCOUNT}:", f":{ACCOUNT_IDS[name]}:")))


class Account:
    """One LocalStack account, reached with its own credentials."""

    def __init__(self, endpoint: str, account_id: str) -> None:
        self.account_id = account_id
        self.iam = client(endpoint, "iam", account_id)

    def create_users_and_groups(self, users: list[str], groups: list[str]) -> None:
        for user in users:
            self.iam.create_user(UserName=user)
        for group in groups:
            self.iam.create_group(GroupName=group)

    def delete_users_and_groups(self) -> None:
        for group in self.iam.list_groups()["Groups"]:
            for user in self.iam.get_group(GroupName=group["GroupName"])["Users"]:
                self.iam.remove_user_from_group(GroupName=group["GroupName"], UserName=user["UserName"])
            self.iam.delete_group(GroupName=group["GroupName"])
        for user in self.iam.list_users()["Users"]:
            self.iam.delete_user(UserName=user["UserName"])

    def read_back(self) -> dict[str, Any]:
        """Every customer managed policy here: its document, version and where it is attached; plus the users'
        and groups' attached policies, whichever policy they are."""
        policies = {}
        for policy in self.iam.list_policies(Scope="Local")["Policies"]:
            arn = policy["Arn"]
            version = self.iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
            document = version["PolicyVersion"]["Document"]
            entities = self.iam.list_entities_for_policy(PolicyArn=arn)
            policies[arn] = {
                "name": policy["PolicyName"],
                "version": policy["DefaultVersionId"],
                "document": json.loads(document) if isinstance(document, str) else document,
                "users": sorted(user["UserName"] for user in entities["PolicyUsers"]),
                "groups": sorted(group["GroupName"] for group in entities["PolicyGroups"]),
            }
        return {
            "policies": policies,
            "attached": {
                **{
                    f"user {user['UserName']}": self.iam.list_attached_user_policies(UserName=user["UserName"])[
                        "AttachedPolicies"
                    ]
                    for user in self.iam.list_users()["Users"]
                },
                **{
                    f"group {group['GroupName']}": self.iam.list_attached_group_policies(GroupName=group["GroupName"])[
                        "AttachedPolicies"
                    ]
                    for group in self.iam.list_groups()["Groups"]
                },
            },
            "users": sorted(user["UserName"] for user in self.iam.list_users()["Users"]),
            "groups": sorted(group["GroupName"] for group in self.iam.list_groups()["Groups"]),
        }


class Rollout:
    """The scenario's steps, recorded so that each test reads its step, whatever order the tests run in."""

    def __init__(self, tf: tftest.TerraformTest, management: Account, members: dict[str, Account]) -> None:
        self.tf, self.management, self.members = tf, management, members
        self.steps: dict[str, dict[str, Any]] = {}
        self.applied_vars: dict[str, Any] | None = None

    def read_back(self) -> dict[str, Any]:
        return {name: account.read_back() for name, account in {"management": self.management, **self.members}.items()}

    def apply(self, step: str, **values: Any) -> None:
        """Plan and apply in one command, keeping the plan's changes and the outputs; read every account back."""
        actions, outputs = apply_reporting(self.tf, values)
        self.applied_vars = values
        self.steps[step] = {"actions": actions, "outputs": outputs, "accounts": self.read_back()}

    def remove_account(self, name: str) -> None:
        """The example README's removal: destroy the account's resources while its provider block is there, then
        delete its entry, its provider and module blocks and its line in local.deployments."""
        values = self.applied_vars or {}
        self.tf.execute_command(
            "apply",
            "-destroy",
            "-auto-approve",
            "-input=false",
            f"-target=module.{name}",
            *tftest.parse_args(tf_vars=as_tf_vars(values)),
        )
        main_tf = Path(self.tf.tfdir) / "main.tf"
        text = main_tf.read_text()
        start = text.index(f'provider "aws" {{\n  alias               = "{name}"')
        end = text.find('provider "aws" {', start + 1)
        text = text[:start] + (text[end:] if end != -1 else "")
        main_tf.write_text(re.sub(rf"(?m)^    {name} += module\.{name}\n", "", text))
        self.applied_vars = {"accounts": {key: value for key, value in values["accounts"].items() if key != name}}

    def destroy(self) -> None:
        if self.applied_vars is not None:
            self.tf.destroy(tf_vars=as_tf_vars(self.applied_vars))
            self.applied_vars = None


@pytest.fixture(scope="module")
def localstack_accounts(localstack: str) -> Iterator[tuple[Account, dict[str, Account]]]:
    """The management account (nothing in it) and the member accounts with their users and groups."""
    management = Account(localstack, MANAGEMENT)
    members = {name: Account(localstack, account_id) for name, account_id in ACCOUNT_IDS.items()}
    try:
        for name, account in members.items():
            account.create_users_and_groups(USERS[name], GROUPS[name])
        yield management, members
    finally:
        for account in members.values():
            account.delete_users_and_groups()


@pytest.fixture(scope="module")
def rollout(
    tmp_path_factory: pytest.TempPathFactory,
    tf_env: dict[str, str],
    localstack_accounts: tuple[Account, dict[str, Account]],
) -> Iterator[Rollout]:
    """Apply to the accounts, change one account's input, remove an account, destroy; always cleaned up."""
    management, members = localstack_accounts
    env = tf_env | {"AWS_ACCESS_KEY_ID": MANAGEMENT}  # the management account's credentials run terraform
    root = root_from_example(EXAMPLES_DIR / EXAMPLE, tmp_path_factory.mktemp("multi-account"))
    rollout = Rollout(terraform(root, env), management, members)
    try:
        rollout.steps["before"] = {"accounts": rollout.read_back()}
        rollout.apply("applied", accounts=accounts(ENFORCED))
        rollout.apply("one account changed", accounts=accounts(ENFORCED | {CHANGED: True}))
        rollout.remove_account(REMOVED)
        rollout.apply("account removed", **(rollout.applied_vars or {}))
        rollout.destroy()
        rollout.steps["destroyed"] = {"accounts": rollout.read_back()}
        yield rollout
    finally:
        rollout.destroy()


def test_localstack_serves_each_account_apart(localstack: str) -> None:
    """What the scenario relies on: an account per 12-digit access key id, and AssumeRole into any account."""
    sts = client(localstack, "sts", MANAGEMENT)
    assert sts.get_caller_identity()["Account"] == MANAGEMENT
    member = ACCOUNT_IDS[CHANGED]
    role = f"arn:aws:iam::{member}:role/NoSuchRoleAnywhere"
    credentials = sts.assume_role(RoleArn=role, RoleSessionName="multi-account-test")["Credentials"]
    assumed = boto3.client(
        "sts",
        endpoint_url=localstack,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    assert assumed.get_caller_identity()["Account"] == member
    marker = "multi-account-probe"
    Account(localstack, member).iam.create_user(UserName=marker)
    try:
        for account_id in [MANAGEMENT, *ACCOUNT_IDS.values()]:
            users = {user["UserName"] for user in Account(localstack, account_id).iam.list_users()["Users"]}
            assert (marker in users) == (account_id == member), account_id
    finally:
        Account(localstack, member).iam.delete_user(UserName=marker)


@pytest.mark.parametrize("name", ACCOUNT_IDS)
def test_each_account_holds_its_policy(rollout: Rollout, name: str) -> None:
    applied = rollout.steps["applied"]
    arn = applied["outputs"]["policy_arns"][name]
    assert arn.startswith(f"arn:aws:iam::{ACCOUNT_IDS[name]}:policy/require-mfa-")
    (policy,) = applied["accounts"][name]["policies"].values()  # the module's policy, and nothing else
    assert policy["document"] == expected_document(name, ENFORCED[name])
    assert policy["document"] == json.loads(applied["outputs"]["policy_json"][name])
    assert applied["accounts"][name]["policies"].keys() == {arn}


@pytest.mark.parametrize("name", ACCOUNT_IDS)
def test_each_account_attaches_its_users_and_groups(rollout: Rollout, name: str) -> None:
    applied = rollout.steps["applied"]
    (policy,) = applied["accounts"][name]["policies"].values()
    assert (policy["users"], policy["groups"]) == (USERS[name], GROUPS[name])
    assert applied["outputs"]["attached_users"][name] == USERS[name]
    assert applied["outputs"]["attached_groups"][name] == GROUPS[name]


def test_nothing_is_created_in_the_management_account(rollout: Rollout) -> None:
    before = rollout.steps["before"]["accounts"]["management"]
    for step in ("applied", "one account changed", "account removed", "destroyed"):
        assert rollout.steps[step]["accounts"]["management"] == before, step
    assert before == {"policies": {}, "attached": {}, "users": [], "groups": []}


def test_changing_one_account_changes_only_that_account(rollout: Rollout) -> None:
    changed = rollout.steps["one account changed"]
    assert changed["actions"] == {f"module.{CHANGED}.aws_iam_policy.this": ["update"]}  # every other one no-op
    before, after = rollout.steps["applied"]["accounts"], changed["accounts"]
    ((arn, policy),) = after[CHANGED]["policies"].items()
    ((arn_before, policy_before),) = before[CHANGED]["policies"].items()
    assert arn == arn_before and policy["version"] != policy_before["version"]
    assert policy["document"] == expected_document(CHANGED, enforced=True)
    assert (policy["users"], policy["groups"]) == (USERS[CHANGED], GROUPS[CHANGED])
    for name in set(ACCOUNT_IDS) - {CHANGED}:
        assert after[name] == before[name], f"{name} changed"


def test_removing_an_account_as_the_readme_says(rollout: Rollout) -> None:
    """After the README's targeted destroy and edits, applying changes no resource; the outputs drop the account."""
    removed, changed = rollout.steps["account removed"], rollout.steps["one account changed"]
    assert removed["actions"] == {}, "after the README's edits, terraform must change no resource"
    assert removed["accounts"][REMOVED] == rollout.steps["before"]["accounts"][REMOVED]
    for name in set(ACCOUNT_IDS) - {REMOVED}:
        assert removed["accounts"][name] == changed["accounts"][name], name
    assert removed["outputs"].keys() == changed["outputs"].keys()
    for output, value in changed["outputs"].items():
        assert removed["outputs"][output] == {k: v for k, v in value.items() if k != REMOVED}, output
    assert set(removed["outputs"]["policy_arns"]) == set(ACCOUNT_IDS) - {REMOVED}


@pytest.fixture(scope="module")
def rejected(tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Two bad inputs, each planned in a root of its own copy of the example, with no state: apart from the rollout,
    so that they run on another xdist worker while it goes on (its longest chain of terraform commands)."""
    env = tf_env | {"AWS_ACCESS_KEY_ID": MANAGEMENT}
    root = root_from_example(EXAMPLES_DIR / EXAMPLE, tmp_path_factory.mktemp("multi-account-rejected"))
    tf = terraform(root, env)
    sandbox = {"sandbox": {"account_id": "100000000004"}}
    duplicate = {"sandbox": {"account_id": ACCOUNT_IDS[CHANGED]}}
    steps = {}
    for step, inputs in {"account without blocks": sandbox, "account twice": duplicate}.items():
        done = run(tf, "plan", *tftest.parse_args(tf_vars={"accounts": accounts(ENFORCED) | inputs}))
        steps[step] = {"exit_code": done.returncode, "error": " ".join(done.stderr.split())}
    return steps


@pytest.mark.xdist_group("multi-account-rejected")
def test_an_account_without_its_blocks_fails_the_plan(rejected: dict[str, dict[str, Any]]) -> None:
    failed = rejected["account without blocks"]
    assert failed["exit_code"] == 1
    assert "accounts names sandbox, which has no provider and module block in main.tf" in failed["error"]


@pytest.mark.xdist_group("multi-account-rejected")
def test_an_account_listed_twice_fails_the_plan(rejected: dict[str, dict[str, Any]]) -> None:
    failed = rejected["account twice"]
    assert failed["exit_code"] == 1
    assert "Two entries of accounts have the same account_id" in failed["error"]


@pytest.mark.parametrize("name", ACCOUNT_IDS)
def test_destroy_leaves_every_account_clean(rollout: Rollout, name: str) -> None:
    destroyed, before = rollout.steps["destroyed"]["accounts"][name], rollout.steps["before"]["accounts"][name]
    assert destroyed["policies"] == {}
    assert destroyed == before
    assert all(policies == [] for policies in destroyed["attached"].values())
