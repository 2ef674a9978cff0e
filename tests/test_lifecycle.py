"""Changes over time: in-place updates, renames without a gap, state created elsewhere, two instances."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tftest

from harness.iam import IamWorld
from harness.paths import REPO_ROOT
from harness.terraform import as_tf_vars, plan_exit_code, root_from_text, terraform

XDIST_GROUP = "lifecycle"
ROOT = f"""
provider "aws" {{
  region = "us-east-1"
}}

variable "name" {{
  type = string
}}

variable "guard" {{
  type = bool
}}

module "mfa_required" {{
  source = "{REPO_ROOT}"

  name                               = var.name
  use_name_prefix                    = false
  users                              = ["dev-ana"]
  create_group                       = true
  group_name                         = "lifecycle-group"
  group_users                        = ["dev-ben"]
  guard_credentials_from_access_keys = var.guard
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

    def apply(self, step: str, **values: Any) -> None:
        """Plan, inspect and apply that very plan: one refresh per step instead of two."""
        plan_file = str(Path(self.tf.tfdir) / "step.tfplan")
        self.tf.execute_command(
            "plan", "-input=false", f"-out={plan_file}", *tftest.parse_args(tf_vars=as_tf_vars(values))
        )
        plan = tftest.TerraformPlanOutput(json.loads(self.tf.execute_command("show", "-json", plan_file).out))
        self.applied_vars = values
        self.tf.execute_command("apply", "-input=false", plan_file)
        outputs = self.tf.output()
        self.steps[step] = {
            "actions": {address: change["change"]["actions"] for address, change in plan.resource_changes.items()},
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
        deployment.apply("created", name="lifecycle-mfa", guard=True)
        iam.add_user_to_group(GroupName="lifecycle-group", UserName="dev-ana")  # a member added outside
        deployment.apply("behaviour changed", name="lifecycle-mfa", guard=False)
        deployment.apply("renamed", name="lifecycle-mfa-renamed", guard=False)
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


def test_behaviour_change_updates_policy_in_place(deployment: Deployment) -> None:
    before, after = deployment.steps["created"], deployment.steps["behaviour changed"]
    assert after["actions"][POLICY] == ["update"]
    for address in (USER_ATTACHMENT, GROUP_ATTACHMENT, MEMBERSHIP):
        assert after["actions"][address] == ["no-op"], address
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
