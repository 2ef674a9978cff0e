"""An enrolment left unfinished (README, "An interrupted enrolment"): the console created the virtual MFA device,
the browser tab closed before the device was enabled. Against LocalStack, the IAM API sequence: the device name is
taken until the device is deleted, and a deleted device can be created again and enabled. An enabled one AWS does
not delete before it is deactivated ("You must deactivate a user's virtual MFA device before you can delete it", IAM
API reference, DeleteVirtualMFADevice: DeleteConflict), which LocalStack does not emulate. LocalStack does not
enforce IAM either: what the policy lets the user do at each step is proven by the evaluator, on the policy rendered
with mfa_device_names = "username"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.paths import DATA_DIR
from mfa_required.evaluator import PolicySet, Request
from mfa_required.personas import PERSONAS, User

XDIST_GROUP = "localstack"
USER = "enrol-erin"
CONSOLE_WITHOUT_MFA = next(p for p in PERSONAS if p.key == "console")


@pytest.fixture()
def user(iam: Any) -> Iterator[str]:
    iam.create_user(UserName=USER)
    try:
        yield USER
    finally:
        for device in iam.list_mfa_devices(UserName=USER)["MFADevices"]:
            iam.deactivate_mfa_device(UserName=USER, SerialNumber=device["SerialNumber"])
        for device in iam.list_virtual_mfa_devices()["VirtualMFADevices"]:
            if device["SerialNumber"].endswith(f":mfa/{USER}"):
                iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])
        iam.delete_user(UserName=USER)


def decision(action: str, resource: str, account: str) -> str:
    """The console session without MFA of a user named USER, under the module's policy with username device names."""
    policy = json.loads((DATA_DIR / "policies" / "device-names-username.json").read_text())
    policy = json.loads(json.dumps(policy).replace("123456789012", account))
    caller = User(USER, "/", "AIDAERINEXAMPLE000001")
    context = CONSOLE_WITHOUT_MFA.context(caller, account, "aws")
    request = Request(action, resource, context, caller.arn("aws", account))
    return PolicySet([policy]).evaluate(request).decision


def test_interrupted_enrolment_can_be_restarted(iam: Any, user: str) -> None:
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    serial = device["SerialNumber"]
    account = serial.split(":")[4]
    assert serial == f"arn:aws:iam::{account}:mfa/{user}"
    assert decision("iam:CreateVirtualMFADevice", serial, account) == "Allowed"

    # The tab closed before EnableMFADevice: the device stays, unassigned, and its name is taken.
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert serial in {d["SerialNumber"] for d in unassigned}
    with pytest.raises(ClientError) as taken:
        iam.create_virtual_mfa_device(VirtualMFADeviceName=user)
    assert taken.value.response["Error"]["Code"] == "EntityAlreadyExists"

    # The user, still without MFA, deletes it and enrols again.
    assert decision("iam:DeleteVirtualMFADevice", serial, account) == "Allowed"
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]["SerialNumber"] == serial
    assert decision("iam:EnableMFADevice", f"arn:aws:iam::{account}:user/{user}", account) == "Allowed"
    iam.enable_mfa_device(
        UserName=user, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=user)["MFADevices"]] == [serial]

    # Once enabled, AWS refuses to delete the device until it is deactivated (DeleteConflict; LocalStack does not
    # emulate that refusal), and deactivating needs MFA.
    assert decision("iam:DeactivateMFADevice", f"arn:aws:iam::{account}:user/{user}", account) == "ExplicitlyDenied"
    # Another user's device, or the own user's under another name, stays out of reach.
    assert decision("iam:DeleteVirtualMFADevice", f"arn:aws:iam::{account}:mfa/carol", account) == "ExplicitlyDenied"
    assert decision("iam:DeleteVirtualMFADevice", f"{serial}-phone", account) == "ExplicitlyDenied"
