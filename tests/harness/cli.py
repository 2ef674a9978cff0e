"""`mfa-required` run in the test's own process: the command line parsed and dispatched as by the installed script,
with the environment, standard streams and exit status of a subprocess, without a new interpreter importing boto3
and loading the action catalogue for every run (seconds each). The tests of what a real process prints on failure
(no traceback) and the wheel's tests run the installed command as a subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

from mfa_required import cli

# No AWS configuration of the machine's own: no config or credentials file, no instance metadata.
NO_AWS_CONFIGURATION = {
    "PATH": "/usr/bin:/bin",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def aws_env(account: str, **extra: str) -> dict[str, str]:
    """The environment of a command run as `account` against LocalStack (its keys name the account), plus extra."""
    keys = {"AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}
    return NO_AWS_CONFIGURATION | keys | extra


def run_in_process(arguments: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`mfa-required ARGUMENTS` with exactly `env` as its environment and an empty, non-terminal stdin."""
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, env, clear=True),
        mock.patch.object(sys, "stdin", io.StringIO("")),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        try:
            status = cli.main(list(arguments))
        except SystemExit as exit_:  # argparse, and commands that exit with a status
            status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return subprocess.CompletedProcess(["mfa-required", *arguments], status, out.getvalue(), err.getvalue())
