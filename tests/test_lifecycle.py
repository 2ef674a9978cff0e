"""Changes over time: in-place updates, renames without a gap, state created elsewhere, two instances."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tftest
from fixtures import IamWorld

from mfa_required.paths import REPO_ROOT
from mfa_required.terraform import as_tf_vars, plan_exit_code, root_from_text, terraform

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
    def __init__(self, tf: tftest.TerraformTest, world: IamWorld) -> None:
        self.tf, self.world = tf, world
        self.history: list[dict[str, Any]] = []
        self.destroyed = False

    def apply(self, **values: Any) -> dict[str, Any]:
        """Plan, inspect and apply that very plan: one refresh per step instead of two."""
        plan_file = str(Path(self.tf.tfdir) / "step.tfplan")
        self.tf.execute_command(
            "plan", "-input=false", f"-out={plan_file}", *tftest.parse_args(tf_vars=as_tf_vars(values))
        )
        plan = tftest.TerraformPlanOutput(json.loads(self.tf.execute_command("show", "-json", plan_file).out))
        self.tf.execute_command("apply", "-input=false", plan_file)
        arn = self.tf.output()["policy_arn"]
        policy = self.world.iam.get_policy(PolicyArn=arn)["Policy"]
        step = {
            "vars": values,
            "actions": {address: change["change"]["actions"] for address, change in plan.resource_changes.items()},
            "arn": arn,
            "version": policy["DefaultVersionId"],
            "outputs": self.tf.output(),
        }
        self.history.append(step)
        return step

    def destroy(self) -> None:
        if self.history and not self.destroyed:
            # A group with members cannot be deleted: the member added outside goes first, as it would in AWS.
            self.world.iam.remove_user_from_group(GroupName="lifecycle-group", UserName="dev-ana")
            self.tf.destroy(tf_vars=as_tf_vars(self.history[-1]["vars"]))
            self.destroyed = True


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str], world: IamWorld
) -> Iterator[Deployment]:
    """Applied once, then changed step by step by the tests below, in file order; always destroyed."""
    deployment = Deployment(terraform(root_from_text(tmp_path_factory.mktemp("lifecycle"), ROOT), tf_env), world)
    try:
        deployment.apply(name="lifecycle-mfa", guard=True)
    finally:
        world.iam.add_user_to_group(GroupName="lifecycle-group", UserName="dev-ana")  # a member added outside
    try:
        yield deployment
    finally:
        deployment.destroy()


def test_two_default_instances_do_not_collide(deployment: Deployment) -> None:
    first, second = deployment.history[0]["outputs"]["default_policy_arns"]
    assert first != second
    assert {first, second} <= deployment.world.user_policies("dev-ana")


def test_behaviour_change_updates_policy_in_place(deployment: Deployment) -> None:
    before = deployment.history[-1]
    after = deployment.apply(name="lifecycle-mfa", guard=False)
    assert after["actions"][POLICY] == ["update"]
    for address in (USER_ATTACHMENT, GROUP_ATTACHMENT, MEMBERSHIP):
        assert after["actions"][address] == ["no-op"], address
    assert after["arn"] == before["arn"]
    assert after["version"] != before["version"]
    document = deployment.world.policy_document(after["arn"])
    assert "DenyCredentialChangesWithAccessKey" not in {statement["Sid"] for statement in document["Statement"]}


def test_rename_creates_before_destroying(deployment: Deployment) -> None:
    before = deployment.history[-1]
    after = deployment.apply(name="lifecycle-mfa-renamed", guard=False)
    # create-then-delete: the user holds the new policy before the old attachment goes.
    assert after["actions"][POLICY] == ["create", "delete"]
    assert after["actions"][USER_ATTACHMENT] == ["create", "delete"]
    assert after["arn"] != before["arn"]
    policies = deployment.world.user_policies("dev-ana")
    assert after["arn"] in policies and before["arn"] not in policies


def test_state_created_elsewhere_is_kept(deployment: Deployment) -> None:
    world = deployment.world
    assert plan_exit_code(deployment.tf, **deployment.history[-1]["vars"]) == 0
    assert world.group_members("lifecycle-group") == {"dev-ana", "dev-ben"}
    assert world.other_policy_arn in world.user_policies("dev-ana")
    assert world.group_members("developers") == {"dev-ben"}


def test_destroy_leaves_nothing(deployment: Deployment, world: IamWorld) -> None:
    names = set(world.local_policies())
    deployment.destroy()
    assert "lifecycle-mfa-renamed" in names
    assert not {name for name in world.local_policies() if name.startswith(("lifecycle-mfa", "require-mfa-"))}
    assert "lifecycle-group" not in world.groups()
    assert world.user_policies("dev-ana") == {world.other_policy_arn}
    assert "dev-ben" in world.group_members("developers")
