"""Changes over time: in-place updates, renames without a gap, state created elsewhere, two instances."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import tftest

from harness.iam import IamWorld
from harness.paths import REPO_ROOT
from harness.terraform import apply_inspected, apply_reporting, as_tf_vars, plan_exit_code, root_from_text, terraform
from tools import tfdocs

XDIST_GROUP = "lifecycle"
ROOT = f"""
provider "aws" {{
  region = "us-east-1"
}}

variable "name" {{
  type = string
}}

variable "behaviour" {{
  type = object({{
    account_id                              = string
    additional_actions_without_mfa          = list(string)
    allow_list_users_without_mfa            = bool
    allow_login_profile_changes_without_mfa = bool
    allow_mfa_removal_without_mfa           = bool
    allow_password_change_without_mfa       = bool
    enforce_for_programmatic_access         = bool
    exempt_aws_service_calls                = bool
    guard_credentials_from_access_keys      = bool
    guard_role_assumption_from_access_keys  = bool
    mfa_device_names                        = string
    self_service                            = map(bool)
    tags                                    = map(string)
  }})
}}

module "mfa_required" {{
  source = "{REPO_ROOT}"

  name                               = var.name
  use_name_prefix                    = false
  users                              = ["dev-ana"]
  create_group                       = true
  group_name                         = "lifecycle-group"
  group_users                        = ["dev-ben"]

  account_id                              = var.behaviour.account_id
  additional_actions_without_mfa          = var.behaviour.additional_actions_without_mfa
  allow_list_users_without_mfa            = var.behaviour.allow_list_users_without_mfa
  allow_login_profile_changes_without_mfa = var.behaviour.allow_login_profile_changes_without_mfa
  allow_mfa_removal_without_mfa           = var.behaviour.allow_mfa_removal_without_mfa
  allow_password_change_without_mfa       = var.behaviour.allow_password_change_without_mfa
  enforce_for_programmatic_access         = var.behaviour.enforce_for_programmatic_access
  exempt_aws_service_calls                = var.behaviour.exempt_aws_service_calls
  guard_credentials_from_access_keys      = var.behaviour.guard_credentials_from_access_keys
  guard_role_assumption_from_access_keys  = var.behaviour.guard_role_assumption_from_access_keys
  mfa_device_names                        = var.behaviour.mfa_device_names
  self_service                            = var.behaviour.self_service
  tags                                    = var.behaviour.tags
}}

# Two instances with default inputs in one account: the name prefix keeps them apart.
module "first_default" {{
  source = "{REPO_ROOT}"
  users  = ["dev-ana"]
}}

module "second_default" {{
  source = "{REPO_ROOT}"
  users  = ["dev-ana"]
}}

output "policy_arn" {{
  value = module.mfa_required.policy_arn
}}

output "default_policy_arns" {{
  value = [module.first_default.policy_arn, module.second_default.policy_arn]
}}
"""
# Every input that changes what the policy does (not its name, path, description or attachments): the module's
# defaults, then each one changed at once. LocalStack's account is 000000000000, so account_id changes no ARN.
DEFAULTS: dict[str, Any] = {
    "account_id": None,
    "additional_actions_without_mfa": [],
    "allow_list_users_without_mfa": False,
    "allow_login_profile_changes_without_mfa": False,
    "allow_mfa_removal_without_mfa": False,
    "allow_password_change_without_mfa": True,
    "enforce_for_programmatic_access": False,
    "exempt_aws_service_calls": True,
    "guard_credentials_from_access_keys": True,
    "guard_role_assumption_from_access_keys": False,
    "mfa_device_names": "any",
    "self_service": {},
    "tags": {},
}
CHANGED: dict[str, Any] = {
    "account_id": "000000000000",
    "additional_actions_without_mfa": ["iam:GetAccountSummary"],
    "allow_list_users_without_mfa": True,
    "allow_login_profile_changes_without_mfa": True,
    "allow_mfa_removal_without_mfa": True,
    "allow_password_change_without_mfa": False,
    "enforce_for_programmatic_access": True,
    "exempt_aws_service_calls": False,
    "guard_credentials_from_access_keys": False,
    "guard_role_assumption_from_access_keys": True,
    "mfa_device_names": "username",
    "self_service": {"access_keys": True},
    "tags": {"team": "security"},
}
NOT_BEHAVIOUR = {
    "name",
    "use_name_prefix",
    "path",
    "description",
    "users",
    "groups",
    "create_group",
    "group_name",
    "group_path",
    "group_users",
}
POLICY = "module.mfa_required.aws_iam_policy.this"
USER_ATTACHMENT = 'module.mfa_required.aws_iam_user_policy_attachment.this["dev-ana"]'
GROUP_ATTACHMENT = "module.mfa_required.aws_iam_group_policy_attachment.group[0]"
MEMBERSHIP = 'module.mfa_required.aws_iam_user_group_membership.this["dev-ben"]'


class Deployment:
    """The scenario's steps, recorded so that each test reads its step, whatever order the tests run in."""

    def __init__(self, tf: tftest.TerraformTest, world: IamWorld) -> None:
        self.tf, self.world = tf, world
        self.steps: dict[str, dict[str, Any]] = {}
        self.applied_vars: dict[str, Any] | None = None

    def apply(self, step: str, inspect: bool = True, **values: Any) -> None:
        """Plan, inspect and apply that very plan, then read the outcome back. Without inspect, plan and apply in one
        command (apply_reporting): the actions lack no-op entries and the order of a replacement."""
        if inspect:
            actions = apply_inspected(self.tf, values)
            outputs = self.tf.output()
        else:
            actions, outputs = apply_reporting(self.tf, values)
        self.applied_vars = values
        self.steps[step] = {
            "actions": actions,
            "arn": outputs["policy_arn"],
            "version": self.world.iam.get_policy(PolicyArn=outputs["policy_arn"])["Policy"]["DefaultVersionId"],
            "document": self.world.policy_document(outputs["policy_arn"]),
            "outputs": outputs,
            "user_policies": self.world.user_policies("dev-ana"),
        }

    def destroy(self) -> None:
        if self.applied_vars is not None:
            self.tf.destroy(tf_vars=as_tf_vars(self.applied_vars))
            self.applied_vars = None


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str], world: IamWorld
) -> Iterator[Deployment]:
    """Apply, add a member outside terraform, change a behaviour input, rename, plan, destroy; always cleaned up."""
    deployment = Deployment(terraform(root_from_text(tmp_path_factory.mktemp("lifecycle"), ROOT), tf_env), world)
    iam = world.iam
    try:
        deployment.apply("created", inspect=False, name="lifecycle-mfa", behaviour=json.dumps(DEFAULTS))
        iam.add_user_to_group(GroupName="lifecycle-group", UserName="dev-ana")  # a member added outside
        deployment.apply("behaviour changed", inspect=False, name="lifecycle-mfa", behaviour=json.dumps(CHANGED))
        deployment.apply("renamed", name="lifecycle-mfa-renamed", behaviour=json.dumps(CHANGED))
        deployment.steps["kept"] = {
            "plan_exit_code": plan_exit_code(deployment.tf, **(deployment.applied_vars or {})),
            "members": world.group_members("lifecycle-group"),
            "user_policies": world.user_policies("dev-ana"),
            "developers": world.group_members("developers"),
        }
        # A group with members cannot be deleted: the member added outside leaves first, as it would in AWS.
        iam.remove_user_from_group(GroupName="lifecycle-group", UserName="dev-ana")
        deployment.destroy()
        deployment.steps["destroyed"] = {
            "policies": set(world.local_policies()),
            "groups": world.groups(),
            "user_policies": world.user_policies("dev-ana"),
            "developers": world.group_members("developers"),
        }
        yield deployment
    finally:
        if "lifecycle-group" in world.groups() and "dev-ana" in world.group_members("lifecycle-group"):
            iam.remove_user_from_group(GroupName="lifecycle-group", UserName="dev-ana")
        deployment.destroy()


def test_two_default_instances_do_not_collide(deployment: Deployment) -> None:
    first, second = deployment.steps["created"]["outputs"]["default_policy_arns"]
    assert first != second
    assert {first, second} <= deployment.steps["created"]["user_policies"]


def test_every_behaviour_input_is_changed() -> None:
    declared = {variable.name for variable in tfdocs.load_module(REPO_ROOT).variables}
    assert set(DEFAULTS) == set(CHANGED) == declared - NOT_BEHAVIOUR
    assert all(DEFAULTS[key] != CHANGED[key] for key in DEFAULTS)


def test_behaviour_change_updates_policy_in_place(deployment: Deployment) -> None:
    before, after = deployment.steps["created"], deployment.steps["behaviour changed"]
    assert {USER_ATTACHMENT, GROUP_ATTACHMENT, MEMBERSHIP} <= before["actions"].keys()  # created by the first apply
    assert after["actions"] == {POLICY: ["update"]}  # every other resource, those three first, is no-op
    assert after["arn"] == before["arn"]
    assert after["version"] != before["version"]
    sids = {statement["Sid"] for statement in after["document"]["Statement"]}
    assert "DenyCredentialChangesWithAccessKey" in {s["Sid"] for s in before["document"]["Statement"]} - sids


def test_rename_creates_before_destroying(deployment: Deployment) -> None:
    before, after = deployment.steps["behaviour changed"], deployment.steps["renamed"]
    # create-then-delete: the user holds the new policy before the old attachment goes.
    assert after["actions"][POLICY] == ["create", "delete"]
    assert after["actions"][USER_ATTACHMENT] == ["create", "delete"]
    assert after["arn"] != before["arn"]
    assert after["arn"] in after["user_policies"] and before["arn"] not in after["user_policies"]


def test_state_created_elsewhere_is_kept(deployment: Deployment) -> None:
    kept = deployment.steps["kept"]
    assert kept["plan_exit_code"] == 0
    assert kept["members"] == {"dev-ana", "dev-ben"}
    assert IamWorld.OTHER_POLICY in {arn.rsplit("/", 1)[-1] for arn in kept["user_policies"]}
    assert kept["developers"] == {"dev-ben"}


def test_destroy_leaves_nothing(deployment: Deployment) -> None:
    destroyed = deployment.steps["destroyed"]
    assert not {name for name in destroyed["policies"] if name.startswith(("lifecycle-mfa", "require-mfa-"))}
    assert "lifecycle-group" not in destroyed["groups"]
    assert {arn.rsplit("/", 1)[-1] for arn in destroyed["user_policies"]} == {IamWorld.OTHER_POLICY}
    assert destroyed["developers"] == {"dev-ben"}
