"""IAM read-back through the API (LocalStack's, in the tests and the bench): existence, the pre-existing world."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any


def exists(call: Callable[..., Any], **kwargs: str) -> bool:
    """Whether a Get call finds its entity: `exists(iam.get_user, UserName="ana")`.

    botocore generates NoSuchEntityException per client, so it is taken from the client the call belongs to.
    """
    client = call.__self__  # type: ignore[attr-defined]
    try:
        call(**kwargs)
    except client.exceptions.NoSuchEntityException:
        return False
    return True


def create_users(iam: Any, users: Iterable[str]) -> list[str]:
    """Create the users that do not exist yet; returns the ones created."""
    created = []
    for user in users:
        if not exists(iam.get_user, UserName=user):
            iam.create_user(UserName=user)
            created.append(user)
    return created


def delete_users(iam: Any, users: Iterable[str]) -> None:
    for user in users:
        for attached in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=user, PolicyArn=attached["PolicyArn"])
        for group in iam.list_groups_for_user(UserName=user)["Groups"]:
            iam.remove_user_from_group(GroupName=group["GroupName"], UserName=user)
        iam.delete_user(UserName=user)


def delete_policy(iam: Any, arn: str) -> None:
    """Detach a managed policy from every entity, delete its non-default versions, then the policy."""
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    for user in entities.get("PolicyUsers", []):
        iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
    for group in entities.get("PolicyGroups", []):
        iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    for role in entities.get("PolicyRoles", []):
        iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)


class IamWorld:
    """Users, a group and an unrelated policy that exist before the module is applied (created outside it)."""

    USERS = {"dev-ana": "/", "dev-ben": "/engineering/"}
    GROUP = "developers"
    OTHER_POLICY = "pre-existing-readonly"

    def __init__(self, iam: Any) -> None:
        self.iam = iam
        for user, path in self.USERS.items():
            if not exists(iam.get_user, UserName=user):
                iam.create_user(UserName=user, Path=path)
        if not exists(iam.get_group, GroupName=self.GROUP):
            iam.create_group(GroupName=self.GROUP)
        iam.add_user_to_group(GroupName=self.GROUP, UserName="dev-ben")
        arns = [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == self.OTHER_POLICY]
        self.other_policy_arn = (
            arns[0]
            if arns
            else iam.create_policy(
                PolicyName=self.OTHER_POLICY,
                PolicyDocument=json.dumps(
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]}
                ),
            )["Policy"]["Arn"]
        )
        iam.attach_user_policy(UserName="dev-ana", PolicyArn=self.other_policy_arn)
        iam.attach_group_policy(GroupName=self.GROUP, PolicyArn=self.other_policy_arn)

    def user_policies(self, user: str) -> set[str]:
        return {p["PolicyArn"] for p in self.iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]}

    def group_policies(self, group: str) -> set[str]:
        return {p["PolicyArn"] for p in self.iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]}

    def group_members(self, group: str) -> set[str]:
        return {u["UserName"] for u in self.iam.get_group(GroupName=group)["Users"]}

    def policy_document(self, arn: str) -> dict[str, Any]:
        version = self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = self.iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        return json.loads(document) if isinstance(document, str) else dict(document)

    def local_policies(self) -> dict[str, str]:
        return {p["PolicyName"]: p["Arn"] for p in self.iam.list_policies(Scope="Local")["Policies"]}

    def groups(self) -> set[str]:
        return {g["GroupName"] for g in self.iam.list_groups()["Groups"]}


def trusting_account(account: str) -> str:
    """A role's trust policy that lets `account` (its root, so any principal there allowed to) assume it."""
    statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
