"""One AWS provider process per environment, which the harness's terraform commands attach to instead of starting one.

Every terraform command starts the AWS provider (three times for a plan) and reads its schema: about 6.5 CPU-seconds
for a plan that changes nothing, most of a test run's time. A provider started with `-debug` serves any number of
commands, which attach to it through TF_REATTACH_PROVIDERS, the mechanism Terraform documents for debugging providers
(https://developer.hashicorp.com/terraform/plugin/debugging#running-terraform-with-a-provider-in-debug-mode): the same
binary, the same schema, the same API calls; a command then costs about 3.8 CPU-seconds.

One process holds one provider configuration at a time (each ConfigureProvider replaces the last), so a root with
more than one `provider "aws"` block (aliases: the multi-account and organisation examples) never attaches: terraform
starts one process per configuration for it, as usual. The provider reads credentials and endpoints from its own
environment, not terraform's: a process serves the commands of one environment. Commands attached to one process run
one at a time (each xdist worker runs its terraform commands in sequence).

As a pytest plugin (tests/conftest.py loads it), it keeps the servers for the session and stops them at its end;
outside a test session (`make bench`, `make demo`) terraform starts the provider as it always does.

A process configured a second time with AWS_CA_BUNDLE set fails ("unable to add custom RootCAs HTTPClient"): the
bundle is dropped from its environment, which only serves plain-HTTP endpoints (LocalStack, moto, the discard port);
a command with an HTTPS endpoint starts its own provider.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from harness.localstack import start_server, stop_process_group
from harness.timings import timed

PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"
REATTACH_LINE = re.compile(r"TF_REATTACH_PROVIDERS='(?P<value>\{.*\})'")
PROVIDER_BLOCK = re.compile(r'(?m)^provider\s+"aws"\s*\{')
# The provider's environment is the command's, but for what only terraform reads.
TERRAFORM_ONLY = ("TF_CLI_CONFIG_FILE", "TF_IN_AUTOMATION", "TF_INPUT", "TF_REATTACH_PROVIDERS", "CHECKPOINT_DISABLE")
# pytest names the running test in the environment, which the provider never reads.
NOT_SHARED = (*TERRAFORM_ONLY, "AWS_CA_BUNDLE", "PYTEST_CURRENT_TEST")


class ProviderServerError(RuntimeError):
    """The provider could not be started in debug mode; the message says why."""


def provider_configurations(root: Path) -> int:
    """`provider "aws"` blocks in root's own files and the local modules it copies in (examples used as modules)."""
    return sum(
        len(PROVIDER_BLOCK.findall(path.read_text()))
        for path in root.rglob("*.tf")
        if ".terraform" not in path.relative_to(root).parts
    )


def installed_provider(root: Path) -> Path:
    """The AWS provider binary `terraform init` installed (or linked from the mirror) for root."""
    found = sorted((root / ".terraform" / "providers" / PROVIDER_ADDRESS).glob("*/*/terraform-provider-aws*"))
    if not found:
        raise ProviderServerError(f"no AWS provider under {root}/.terraform: run terraform init first")
    return found[-1].resolve()


class ProviderServer:
    """The provider binary started with -debug in a process group of its own, its output in log_path."""

    def __init__(self, binary: Path, env: Mapping[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.reattach = ""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with timed("provider start", log_path.parent):
            self._process = start_server(
                [str(binary), "-debug"],
                log_path,
                self._announced,
                60,
                lambda message: ProviderServerError(f"{binary.name} -debug {message}: see {log_path}"),
                env={key: value for key, value in env.items() if key not in NOT_SHARED},
                grace=5,
            )

    def _announced(self) -> bool:
        match = REATTACH_LINE.search(self.log_path.read_text(errors="replace"))
        if match:
            self.reattach = json.dumps({PROVIDER_ADDRESS: json.loads(match["value"])[PROVIDER_ADDRESS]})
        return bool(match)

    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        stop_process_group(self._process, grace=5)


class ProviderServers:
    """Servers, one per (binary, environment), started on first use."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._servers: dict[tuple[Path, tuple[tuple[str, str], ...]], ProviderServer] = {}

    def reattach(self, root: Path, env: Mapping[str, str]) -> str | None:
        """TF_REATTACH_PROVIDERS for root's commands, or None when root configures the provider more than once."""
        if provider_configurations(root) > 1 or not env.get("AWS_ENDPOINT_URL", "").startswith("http://"):
            return None
        binary = installed_provider(root)
        key = (binary, tuple(sorted((k, v) for k, v in env.items() if k not in NOT_SHARED)))
        if key not in self._servers or not self._servers[key].alive():  # a provider that crashed is started again
            log_path = self.workdir / f"provider-{len(self._servers)}.log"
            self._servers[key] = ProviderServer(binary, env, log_path)
        return self._servers[key].reattach

    def stop(self) -> None:
        servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()


_session: ProviderServers | None = None
_OWNER = pytest.StashKey[ProviderServers]()


def reattach(root: Path, env: Mapping[str, str]) -> str | None:
    """TF_REATTACH_PROVIDERS for root's commands in this test session; None outside one or where root cannot share."""
    return None if _session is None else _session.reattach(root, env)


def pytest_configure(config: pytest.Config) -> None:
    """The session's servers (a nested session, as pytester runs, uses its outer session's)."""
    global _session
    if _session is None:
        _session = config.stash[_OWNER] = ProviderServers(Path(tempfile.mkdtemp(prefix="mfa-required-provider-")))


def pytest_unconfigure(config: pytest.Config) -> None:
    global _session
    if _OWNER in config.stash and config.stash[_OWNER] is _session:
        _session.stop()
        _session = None
