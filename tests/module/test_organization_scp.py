"""Emulator tier: examples/organization-scp applied on moto's Organizations (LocalStack's free edition has none).

Apply (organization, OU, account, the SCP attached to the root and the OU), read back with boto3, plan again
(empty), change a behaviour input (the policy is updated in place: same ID), destroy (nothing left). moto
answers a CreatePolicy sent before the organization exists with a 500 that the SDK's retries hide: the example
orders its resources, and any 5xx answer in moto's log fails the test. moto checks neither policy validity, size
nor the five-SCPs-per-target limit: tests/module/test_scp_module.py tests the module's own checks offline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.moto import MotoError, MotoServer, moto_server, organizations_client
from harness.paths import EXAMPLES_DIR
from harness.terraform import apply_inspected, as_tf_vars, environment, plan_exit_code, root_from_example, terraform

XDIST_GROUP = "organization"
EXAMPLE = "organization-scp"
POLICY = "module.mfa_required_scp.aws_organizations_policy.this"
# The example's behaviour inputs changed at once: the guard for access keys too, role assumption guarded, another
# break-glass user.
CHANGED = {
    "enforce_for_programmatic_access": True,
    "guard_role_assumption_from_access_keys": True,
    "exempt_principal_arns": ["arn:aws:iam::*:user/emergency"],
}
FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


def scp_ids(client: Any, target: str) -> set[str]:
    pages = client.get_paginator("list_policies_for_target").paginate(TargetId=target, Filter="SERVICE_CONTROL_POLICY")
    return {policy["Id"] for page in pages for policy in page["Policies"]}


def policy_document(client: Any, policy_id: str) -> dict[str, Any]:
    return json.loads(client.describe_policy(PolicyId=policy_id)["Policy"]["Content"])


def test_example_lifecycle(moto: MotoServer, tmp_path: Any) -> None:
    client = organizations_client(moto.endpoint)
    tf = terraform(root_from_example(EXAMPLES_DIR / EXAMPLE, tmp_path), environment(moto.endpoint))
    try:
        tf.apply()
        outputs = tf.output()
        policy_id, root, ou = outputs["policy_id"], outputs["root_id"], outputs["ou_id"]

        assert outputs["attached_targets"] == {"root": root, "ou": ou}
        for target in (root, ou):
            assert policy_id in scp_ids(client, target)
        assert policy_id not in scp_ids(client, outputs["account_id"])  # it reaches the account through the OU
        described = client.describe_policy(PolicyId=policy_id)["Policy"]
        assert described["PolicySummary"]["Type"] == "SERVICE_CONTROL_POLICY"
        assert described["Content"] == outputs["policy_json"], "the SCP is stored exactly as rendered (minified)"
        assert json.loads(described["Content"])["Statement"][0]["Condition"]["Bool"] == {
            "aws:MultiFactorAuthPresent": "false"
        }
        parents = client.list_parents(ChildId=outputs["account_id"])["Parents"]
        assert [p["Id"] for p in parents] == [ou]

        assert plan_exit_code(tf) == 0, "a second plan must show no changes"

        actions = apply_inspected(tf, CHANGED)
        assert actions[POLICY] == ["update"], "behaviour inputs must update the SCP in place"
        assert tf.output()["policy_id"] == policy_id
        statements = policy_document(client, policy_id)["Statement"]
        assert "DenyRoleAssumptionWithoutMFA" not in {s["Sid"] for s in json.loads(outputs["policy_json"])["Statement"]}
        assert statements[-1]["Sid"] == "DenyRoleAssumptionWithoutMFA"
        condition = statements[0]["Condition"]
        assert "Bool" not in condition and condition["BoolIfExists"]["aws:MultiFactorAuthPresent"] == "false"
        assert condition["ArnNotLike"] == {"aws:PrincipalArn": CHANGED["exempt_principal_arns"]}
        assert {address for address, change in actions.items() if change != ["no-op"]} == {POLICY}
    finally:
        tf.destroy(tf_vars=as_tf_vars(CHANGED))

    listed = client.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert [p["Name"] for p in listed if p["Name"] == "require-mfa"] == []
    with pytest.raises(client.exceptions.AWSOrganizationsNotInUseException):
        client.describe_organization()
    assert moto.server_errors() == [], "moto answered with a server error (hidden by the SDK's retries)"
    assert len(moto.answers()) > 20


def test_a_policy_created_before_the_organization_is_a_server_error(tmp_path: Any) -> None:
    """What the example's ordering avoids, and what the lifecycle test's checks catch: moto answers CreatePolicy
    without an organization with a 500, which the client's hook raises and moto's log shows."""
    with moto_server(tmp_path) as server:
        client = organizations_client(server.endpoint)
        with pytest.raises(MotoError, match="CreatePolicy with 5"):
            client.create_policy(
                Content=json.dumps(FULL_ACCESS), Description="", Name="early", Type="SERVICE_CONTROL_POLICY"
            )
        assert len(server.server_errors()) == 1
