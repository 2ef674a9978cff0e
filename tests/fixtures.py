"""Harness helpers shared by the fixtures: plan summaries, the pre-existing IAM world, IAM read-back."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mfa_required.terraform import format_module_args

DATA = Path(__file__).parent / "data"


@dataclass
class PlanSummary:
    """What a plan would create: planned values by address, counts by resource type, outputs."""

    values: dict[str, dict[str, Any]]
    counts: Counter[str]
    outputs: dict[str, Any]

    @classmethod
    def from_plan(cls, plan: Any) -> PlanSummary:
        values: dict[str, dict[str, Any]] = {}

        def walk(module: dict[str, Any]) -> None:
            for resource in module.get("resources", []):
                if resource["mode"] == "managed":
                    values[resource["address"]] = resource.get("values", {})
            for child in module.get("child_modules", []):
                walk(child)

        walk(plan["planned_values"]["root_module"])
        counts = Counter(address.split(".")[-2].split("[")[0] for address in values)
        outputs = {name: output.get("value") for name, output in plan["planned_values"].get("outputs", {}).items()}
        return cls(values, counts, outputs)


def module_blocks(cases: dict[str, dict[str, Any]], source: Path) -> str:
    """One module block per case, each with its rendered policy as an output, so that one plan covers every case."""
    blocks = []
    for name, case in cases.items():
        provider = f"\n  providers = {{ aws = aws.{case['provider']} }}" if case.get("provider") else ""
        arguments = format_module_args(case.get("inputs", {}))
        blocks.append(
            f'module "{name}" {{\n  source = "{case.get("source", source)}"{provider}\n{arguments}\n}}\n'
            f'output "{name}" {{\n  value = module.{name}.policy_json\n}}\n'
        )
    return "\n".join(blocks)


def expected_policy(name: str) -> dict[str, Any]:
    return json.loads((DATA / "policies" / f"{name}.json").read_text())


class IamWorld:
    """Users, a group and an unrelated policy that exist before the module is applied (created outside it)."""

    USERS = {"dev-ana": "/", "dev-ben": "/engineering/"}
    GROUP = "developers"
    OTHER_POLICY = "pre-existing-readonly"

    def __init__(self, iam: Any) -> None:
        self.iam = iam
        for user, path in self.USERS.items():
            if not self._exists(iam.get_user, UserName=user):
                iam.create_user(UserName=user, Path=path)
        if not self._exists(iam.get_group, GroupName=self.GROUP):
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

    @staticmethod
    def _exists(call: Any, **kwargs: str) -> bool:
        try:
            call(**kwargs)
        except Exception as error:  # botocore's NoSuchEntity is generated per client
            if "NoSuchEntity" in str(error):
                return False
            raise
        return True

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
