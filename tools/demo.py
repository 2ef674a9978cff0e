"""`make demo`: LocalStack up, examples/complete applied, its policy and access matrix printed, the account audited
(`mfa-required audit`), everything removed."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import boto3
import tftest

from harness.localstack import LocalStackError, client, localstack_endpoint
from harness.paths import BUILD_DIR, EXAMPLES_DIR
from harness.terraform import environment, root_from_example, terraform
from mfa_required import audit, matrix

EXAMPLE = "complete"


@contextmanager
def step(title: str) -> Iterator[None]:
    print(f"==> {title}", flush=True)
    started = time.monotonic()
    yield
    print(f"    ({time.monotonic() - started:.1f} s)", flush=True)


def demo(workdir: Path) -> None:
    with ExitStack() as stack:
        with step("Starting LocalStack (IAM and STS, host mode, free loopback port)"):
            endpoint = stack.enter_context(localstack_endpoint(workdir / "localstack"))
            print(f"    endpoint {endpoint}")
        root = root_from_example(EXAMPLES_DIR / EXAMPLE, workdir)
        with step(f"terraform init examples/{EXAMPLE} (providers from the local mirror when present)"):
            tf = terraform(root, environment(endpoint))
        stack.callback(destroy, tf)
        with step(f"terraform apply examples/{EXAMPLE}"):
            tf.apply()
        outputs = tf.output()
        print(f"\nPolicy ARN:   {outputs['policy_arn']}")
        print(f"Group:        {outputs['group_name']} (members alice, bob)")
        print(f"Attached to:  users {outputs['attached_users'] or '-'}, groups {outputs['attached_groups']}")
        print(f"\nPolicy document ({len(''.join(outputs['policy_json'].split()))} of 6,144 characters):")
        print(outputs["policy_json"])
        with step("Access matrix (our evaluator, per persona)"):
            policy = json.loads(outputs["policy_json"])
            matrix.render_table(matrix.compute(policy), sys.stdout)
        iam = client(endpoint, "iam")
        with step("Sign-in set-up: alice enrolled MFA, bob has a password only, contractor is outside the module"):
            seed_sign_ins(iam)
        stack.callback(remove_sign_ins, iam)
        with step("mfa-required audit of the demo account"):
            options = audit.Options(endpoint_url=endpoint, region="us-east-1")
            session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
            reports, multi = audit.run(options, session=session)
            audit.render(reports, "table", multi, sys.stdout)


DEMO_PASSWORD = "Demo-Password-2026!"


def seed_sign_ins(iam: Any) -> None:
    """Console passwords and a virtual MFA device (LocalStack accepts any codes), and a user the module misses."""
    iam.create_user(UserName="contractor", Path="/contractors/")
    for user in ("alice", "bob", "contractor"):
        iam.create_login_profile(UserName=user, Password=DEMO_PASSWORD)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="alice", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )


def remove_sign_ins(iam: Any) -> None:
    """Undo seed_sign_ins, so that terraform can delete the example's users."""
    for device in iam.list_mfa_devices(UserName="alice")["MFADevices"]:
        iam.deactivate_mfa_device(UserName="alice", SerialNumber=device["SerialNumber"])
        iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])
    for user in ("alice", "bob", "contractor"):
        iam.delete_login_profile(UserName=user)
    iam.delete_user(UserName="contractor")


def destroy(tf: tftest.TerraformTest) -> None:
    with step("terraform destroy (then LocalStack stops)"):
        tf.destroy()


def main() -> int:
    BUILD_DIR.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="demo-", dir=BUILD_DIR))
    started = time.monotonic()
    try:
        demo(workdir)
    except LocalStackError as error:
        print(f"\nLocalStack could not start: {error}\nRun `make clean demo` to reinstall its environment.")
        return 1
    except tftest.TerraformTestError as error:
        print(f"\nterraform failed: {error}\nThe working directory is kept for inspection: {workdir}")
        return 1
    except audit.AuditError as error:
        print(f"\nThe audit failed: {error}")
        return 1
    print(f"==> Demo finished in {time.monotonic() - started:.1f} s; nothing is left running.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
