"""Terraform for the harness: offline provider installation, LocalStack credentials, root configs in scratch dirs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tftest

from harness.paths import BUILD_DIR, REPO_ROOT
from harness.timings import timed

MIRROR_ENV = "MFA_REQUIRED_PROVIDER_MIRROR"
DEFAULT_MIRROR = "/opt/tf-plugins"
PLUGIN_CACHE = BUILD_DIR / "tf-plugin-cache"
MODULE_SOURCE = re.compile(r'source\s*=\s*"\.\./\.\.(/modules/[\w-]+)?"')
DEFAULT_PROVIDER = re.compile(r'(?m)^provider "aws" \{\n  region = var\.region\n\}\n')


def cli_config(path: Path) -> Path:
    """Write a Terraform CLI config: providers from the filesystem mirror when there is one, else the registry.

    From an unpacked mirror terraform links the provider instead of copying it, so no plugin cache is used
    then: re-linking a shared cache entry races with other terraform processes starting the provider.
    """
    mirror = Path(os.environ.get(MIRROR_ENV, DEFAULT_MIRROR))
    if mirror.is_dir():
        config = f"""provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["registry.terraform.io/hashicorp/*"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/*"]
  }}
}}
"""
    else:
        PLUGIN_CACHE.mkdir(parents=True, exist_ok=True)
        config = f'plugin_cache_dir = "{PLUGIN_CACHE}"\n'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config)
    return path


def environment(endpoint: str, region: str = "us-east-1") -> dict[str, str]:
    """Variables for terraform subprocesses: our CLI config and LocalStack's endpoint and dummy credentials."""
    return {
        "TF_CLI_CONFIG_FILE": str(cli_config(BUILD_DIR / "terraform.tfrc")),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        # Go's collector at a quarter of its default frequency, for terraform and the provider: a command's CPU
        # goes mostly to building and decoding the provider's 13 MB schema, a fifth of it to collections then
        # (3.2 CPU-seconds a plan instead of 4.1, measured; at most a few hundred MB more memory per process).
        "GOGC": "400",
    }


def offline_environment() -> dict[str, str]:
    """Variables for terraform subprocesses that must not reach any API: the endpoint refuses connections."""
    return {
        **environment("http://127.0.0.1:9"),  # the discard port: nothing listens there
        "AWS_ACCESS_KEY_ID": "offline",
        "AWS_SECRET_ACCESS_KEY": "offline",
    }


# A module source that is an absolute path, which terraform takes for a remote address ("file://..."): go-getter then
# copies the whole directory, checkout and virtual environments included, once per module block (seconds each).
ABSOLUTE_SOURCE = re.compile(r'(?m)^(\s*source\s*=\s*)"(/[^"]*)"')


def local_sources(text: str, root: Path) -> str:
    """`source = "/abs/dir"` as the relative path from root ("../..."): terraform reads a local path in place."""

    def relative(match: re.Match[str]) -> str:
        path = os.path.relpath(match[2], root)
        return f'{match[1]}"{path if path.startswith("../") else "./" + path}"'

    return ABSOLUTE_SOURCE.sub(relative, text)


def module_copies(workdir: Path, names: Iterable[str], source: Path) -> dict[str, Path]:
    """For each name, `workdir/modules/NAME`: a copy of the module's own files (the top level of source, where
    terraform reads them), so that a diagnostic's file path ("modules/NAME/main.tf") names its module block.
    Terraform names only the file in a precondition's diagnostic, never the module instance."""
    copies = {}
    for name in names:
        copy = workdir / "modules" / name
        copy.mkdir(parents=True)
        for path in source.iterdir():
            if path.is_file() and not path.name.startswith("."):
                shutil.copy2(path, copy / path.name)
        copies[name] = copy
    return copies


def root_from_example(example: Path, workdir: Path, inherit_provider: bool = False) -> Path:
    """Copy an example into workdir, its `source = "../.."` (or "../../modules/NAME") pointed at this checkout.

    With inherit_provider, its default provider block (`region = var.region`, nothing else) is dropped, so that as
    a module block it uses its caller's: terraform starts one provider process per configuration per command
    (about 2 CPU-seconds each), so several examples in one root then cost one process instead of one each.
    """
    target = workdir / example.name
    shutil.copytree(example, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    for tf_file in target.glob("*.tf"):
        text = MODULE_SOURCE.sub(lambda m: f'source = "{REPO_ROOT}{m[1] or ""}"', tf_file.read_text())
        text = local_sources(text, target)
        if inherit_provider and tf_file.name == "main.tf":
            text, found = DEFAULT_PROVIDER.subn("", text)
            assert found == 1, f"{example.name}/main.tf: expected one provider block with only region = var.region"
        tf_file.write_text(text)
    return target


def root_from_text(workdir: Path, main_tf: str) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf").write_text(local_sources(main_tf, workdir))
    return workdir


class _TimedTerraformTest(tftest.TerraformTest):
    def execute_command(self, cmd: str, *cmd_args: str) -> tftest.TerraformCommandOutput:
        with timed(cmd, self.tfdir):  # a no-op unless MFA_REQUIRED_TIMINGS is set
            return super().execute_command(cmd, *cmd_args)


def terraform(root: Path, env: Mapping[str, str]) -> tftest.TerraformTest:
    """A tftest runner for root, initialised. In a test session, its commands attach to the worker's running AWS
    provider when root configures it once (harness.provider_server), instead of starting it each time."""
    # Imported here, not at the top: conftest imports this module before pytest loads provider_server as a plugin,
    # and a plugin imported earlier escapes pytest's assertion rewriting (with a warning).
    from harness import provider_server

    tf = _TimedTerraformTest(str(root), env=dict(env))
    tf.setup(upgrade=False)
    if shared := provider_server.reattach(root, tf.env):
        tf.env["TF_REATTACH_PROVIDERS"] = shared
    return tf


def run(tf: tftest.TerraformTest, command: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A terraform command whose failure is the expected result (tftest raises on exit code 1)."""
    with timed(command, tf.tfdir):
        return subprocess.run(
            ["terraform", command, "-input=false", "-no-color", *args],
            cwd=tf.tfdir,
            env=tf.env,
            capture_output=True,
            text=True,
            check=False,
        )


def as_tf_vars(values: Mapping[str, object]) -> dict[str, object]:
    """-var values: tftest passes Python's True/False as text, which terraform rejects as a bool."""
    return {key: json.dumps(value) if isinstance(value, bool) else value for key, value in values.items()}


def apply_inspected(tf: tftest.TerraformTest, values: Mapping[str, object]) -> dict[str, list[str]]:
    """Plan, keep the plan's resource actions, apply that very plan: one refresh per step instead of two."""
    plan_file = str(Path(tf.tfdir) / "step.tfplan")
    tf.execute_command("plan", "-input=false", f"-out={plan_file}", *tftest.parse_args(tf_vars=as_tf_vars(values)))
    plan = tftest.TerraformPlanOutput(json.loads(tf.execute_command("show", "-json", plan_file).out))
    tf.execute_command("apply", "-input=false", plan_file)
    return {address: change["change"]["actions"] for address, change in plan.resource_changes.items()}


def apply_reporting(
    tf: tftest.TerraformTest, values: Mapping[str, object]
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """`terraform apply -auto-approve -json`: plan and apply in one command (one start of each provider instead of
    three for plan, show and apply), reading from its machine-readable UI the planned actions other than no-op and
    the outputs' values (https://developer.hashicorp.com/terraform/internals/machine-readable-ui). The UI names a
    replacement "replace" whatever its order: apply_inspected tells create-then-delete from delete-then-create."""
    applied = tf.execute_command(
        "apply", "-input=false", "-auto-approve", "-json", *tftest.parse_args(tf_vars=as_tf_vars(values))
    )
    changes: dict[str, list[str]] = {}
    outputs: dict[str, Any] = {}
    for line in applied.out.splitlines():
        message = json.loads(line)
        if message.get("type") == "planned_change" and message["change"]["action"] != "noop":
            changes[message["change"]["resource"]["addr"]] = [message["change"]["action"]]
        elif message.get("type") == "outputs" and all("value" in o for o in message["outputs"].values()):
            outputs = {name: output["value"] for name, output in message["outputs"].items()}  # after the apply
    return changes, outputs


def plan_exit_code(tf: tftest.TerraformTest, **tf_vars: object) -> int:
    """`terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error."""
    return run(tf, "plan", "-detailed-exitcode", *tftest.parse_args(tf_vars=as_tf_vars(tf_vars))).returncode


def format_module_args(arguments: Mapping[str, object]) -> str:
    """HCL module arguments from Python values (JSON is valid HCL for strings, numbers, bools, lists, maps)."""
    return "\n".join(f"  {key} = {json.dumps(value)}" for key, value in arguments.items())
