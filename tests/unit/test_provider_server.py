"""When the harness's terraform commands share a provider process (harness.provider_server), and when they must not."""

from __future__ import annotations

from pathlib import Path

from harness.plans import LOCALSTACK_PROVIDER, PROVIDERS
from harness.provider_server import ProviderServers, provider_configurations

LOCAL_ENDPOINT = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_configurations_are_counted_in_the_root_and_its_copied_modules(tmp_path: Path) -> None:
    assert provider_configurations(write(tmp_path / "one", {"main.tf": LOCALSTACK_PROVIDER})) == 1
    assert provider_configurations(write(tmp_path / "aliases", {"main.tf": PROVIDERS})) == 3
    copied = {"main.tf": LOCALSTACK_PROVIDER, "examples/basic/main.tf": LOCALSTACK_PROVIDER}
    assert provider_configurations(write(tmp_path / "copied", copied)) == 2
    installed = {"main.tf": "", ".terraform/modules/x/main.tf": LOCALSTACK_PROVIDER}
    assert provider_configurations(write(tmp_path / "installed", installed)) == 0


def test_no_process_for_several_configurations_or_an_https_endpoint(tmp_path: Path) -> None:
    """One process holds one configuration, and a CA bundle breaks its second configuration: terraform then starts
    the provider itself (None, before any binary is looked for: these roots were never initialised)."""
    servers = ProviderServers(tmp_path / "servers")
    aliases = write(tmp_path / "aliases", {"main.tf": PROVIDERS})
    assert servers.reattach(aliases, LOCAL_ENDPOINT) is None
    one = write(tmp_path / "one", {"main.tf": LOCALSTACK_PROVIDER})
    assert servers.reattach(one, {"AWS_ENDPOINT_URL": "https://iam.amazonaws.com"}) is None
    assert servers.reattach(one, {}) is None
    assert not (tmp_path / "servers").exists()


def test_a_provider_that_ended_is_started_again(tmp_path: Path) -> None:
    """A stand-in for the provider binary that announces itself as `-debug` does; stopped, it is replaced."""
    root = write(tmp_path / "root", {"main.tf": LOCALSTACK_PROVIDER})
    binary = (
        root / ".terraform/providers/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws"
    )
    announce = '\tTF_REATTACH_PROVIDERS=\'{"registry.terraform.io/hashicorp/aws":{"Pid":PID}}\'\n'
    script = '#!/bin/sh\nsed "s/PID/$$/" "$(dirname "$0")/announce"\nexec sleep 60\n'
    write(binary.parent, {"announce": announce, binary.name: script})
    binary.chmod(0o755)
    servers = ProviderServers(tmp_path / "servers")
    try:
        first = servers.reattach(root, LOCAL_ENDPOINT)
        assert first and servers.reattach(root, LOCAL_ENDPOINT) == first  # one process for one environment
        assert servers.reattach(root, LOCAL_ENDPOINT | {"AWS_ACCESS_KEY_ID": "111111111111"}) != first
        (server,) = [s for s in servers._servers.values() if s.reattach == first]
        server.stop()
        again = servers.reattach(root, LOCAL_ENDPOINT)
        assert again and again != first
    finally:
        servers.stop()
