"""`make demo`: LocalStack up, examples/complete applied, its policy and access matrix printed, everything removed."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import tftest

from harness.localstack import LocalStackError, localstack_endpoint
from harness.paths import BUILD_DIR, EXAMPLES_DIR
from harness.terraform import environment, root_from_example, terraform

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
        policy_file = workdir / "policy.json"
        policy_file.write_text(outputs["policy_json"])
        with step("Access matrix (our evaluator, per persona)"):
            matrix = subprocess.run(
                [sys.executable, "-m", "mfa_required.cli", "matrix", str(policy_file), "--format", "markdown"],
                capture_output=True,
                text=True,
                check=True,
            )
            print(matrix.stdout)


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
    except subprocess.CalledProcessError as error:
        print(f"\nThe access matrix could not be computed:\n{error.stderr}")
        return 1
    print(f"==> Demo finished in {time.monotonic() - started:.1f} s; nothing is left running.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
