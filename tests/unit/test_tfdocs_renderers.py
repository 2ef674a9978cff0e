"""tools/hcl_module.py reads the module's interface (validations included) for the tests; tools/tfdocs.py renders
it, with the built-in renderer or terraform-docs when asked for and on PATH. The built-in renderer's output is
checked against terraform-docs' documented example in tests/module/test_docs.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from harness.paths import REPO_ROOT, TESTS_DIR
from tools import tfdocs
from tools.hcl_module import HclError, load_module

MODULE = load_module(REPO_ROOT)


def test_every_validation_is_read() -> None:
    blocks = sum(path.read_text().count("\n  validation {") for path in REPO_ROOT.glob("*.tf"))
    validations = [v for variable in MODULE.variables for v in variable.validations]
    assert blocks and len(validations) == blocks
    assert all(v.condition and v.error_message for v in validations)


def test_every_validation_message_has_a_bad_input_case() -> None:
    """Each validation of the root module fails at plan in a case of validation_cases.yaml (tests/test_validation)."""
    (cases_file,) = TESTS_DIR.rglob("validation_cases.yaml")
    messages = [case["message"] for case in yaml.safe_load(cases_file.read_text()).values()]
    untested = [
        f"{variable.name}: {v.error_message}"
        for variable in MODULE.variables
        for v in variable.validations
        if not any(message in " ".join(v.error_message.split()) for message in messages)
    ]
    assert untested == []


def test_validation_with_a_template_message_is_kept_as_written(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(
        textwrap.dedent(
            """
            variable "size" {
              type        = number
              description = "Size."

              validation {
                condition     = var.size > 0
                error_message = "size must be positive, not ${var.size}."
              }
            }
            """
        )
    )
    (variable,) = load_module(tmp_path).variables
    (validation,) = variable.validations
    assert validation.condition == "var.size > 0"
    assert validation.error_message == "size must be positive, not ${var.size}."


def test_a_description_template_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text('variable "x" {\n  description = "a ${var.y}"\n}\n')
    with pytest.raises(HclError, match="templates cannot be evaluated"):
        load_module(tmp_path)


def test_builtin_renderer_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(tfdocs.RENDERER_ENV, raising=False)
    assert tfdocs.select_renderer() == ("builtin", tfdocs.builtin)


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_terraform_docs_when_asked_for_and_on_path(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.setenv(tfdocs.RENDERER_ENV, "terraform-docs" if how == "environment" else "builtin")
    name = "terraform-docs" if how == "argument" else None
    chosen, renderer = tfdocs.select_renderer(name, which=lambda binary: f"/usr/local/bin/{binary}")
    assert chosen == "terraform-docs" and renderer is not tfdocs.builtin
    assert tfdocs.select_renderer(name, which=lambda binary: None) == ("builtin", tfdocs.builtin)


def test_unknown_renderer_is_an_error() -> None:
    with pytest.raises(tfdocs.TfDocsError, match="unknown renderer 'pandoc'"):
        tfdocs.select_renderer("pandoc")


def test_terraform_docs_missing_falls_back_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "outputs.tf").write_text('output "x" {\n  description = "X."\n  value = 1\n}\n')
    (tmp_path / "README.md").write_text(f"{tfdocs.BEGIN}\n{tfdocs.builtin(tmp_path)}\n{tfdocs.END}\n")
    monkeypatch.setenv("PATH", str(tmp_path))  # no terraform-docs there
    assert tfdocs.main(["--check", "--renderer", "terraform-docs", str(tmp_path)]) == 0
    assert "terraform-docs is not on PATH: the built-in renderer is used" in capsys.readouterr().err
