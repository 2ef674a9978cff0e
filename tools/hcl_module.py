"""A Terraform module's interface read from its ``*.tf`` files with python-hcl2: requirements, variables (with
their validations), outputs, resources and module calls. The tests read variables and outputs through it, and
tools/tfdocs.py renders the README tables from it.

Only what terraform-docs needs is evaluated: string literals without heredocs or templates (a validation's
error_message that interpolates values is kept as its template), ``required_providers`` in their object form
(Terraform 0.13+), module versions from ``version`` (not ``?ref=``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions, process_escape_sequences

__all__ = ["HclError", "Module", "ModuleCall", "Output", "Resource", "Validation", "Variable", "load_module"]

_HCL_OPTIONS = SerializationOptions(with_comments=False, preserve_scientific_notation=False)


class HclError(Exception):
    """A module whose files use what this reader does not evaluate."""


@dataclass
class Validation:
    condition: str  # the HCL expression, as python-hcl2 prints it
    error_message: str  # the message, or its HCL template when it interpolates values


@dataclass
class Variable:
    name: str
    type: str | None  # HCL text of the type constraint
    description: str | None
    default: Any
    required: bool
    nullable: bool | None
    file: str
    validations: list[Validation] = field(default_factory=list)


@dataclass
class Output:
    name: str
    description: str | None
    file: str


@dataclass
class Resource:
    mode: str  # "managed" or "data"
    type: str
    name: str
    provider: str
    alias: str


@dataclass
class ModuleCall:
    name: str
    source: str
    version: str


@dataclass
class Module:
    required_core: list[str] = field(default_factory=list)
    provider_sources: dict[str, str] = field(default_factory=dict)
    provider_versions: dict[str, list[str]] = field(default_factory=dict)
    variables: list[Variable] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    module_calls: list[ModuleCall] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Reading python-hcl2's representation
# ---------------------------------------------------------------------------


def _labelled(items: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """[{'"label"': body}, ...] -> [(label, body), ...]; python-hcl2 keeps the quotes of labels."""
    return [(_unquote(key), body) for item in items for key, body in item.items() if not key.startswith("__")]


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _expression(text: str) -> str:
    """python-hcl2 wraps every non-literal expression in ${...}."""
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text


def _string(value: Any, what: str) -> str:
    """The value of an HCL quoted string literal as python-hcl2 returns it."""
    if not (isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"'):
        raise HclError(f"{what}: expected a string literal, got {value!r}")
    if value[1:].startswith("<<"):
        raise HclError(f"{what}: heredocs are not supported, write a quoted string")
    body = process_escape_sequences(value[1:-1])
    if re.search(r"(?<!\$)\$\{|(?<!%)%\{", body):
        raise HclError(f"{what}: templates cannot be evaluated: {value!r}")
    return body.replace("$${", "${").replace("%%{", "%{")


def _value(value: Any, what: str) -> Any:
    """A constant HCL value as the JSON-like value Terraform would give it."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        return [_value(item, what) for item in value]
    if isinstance(value, dict):
        return {_unquote(key): _value(item, what) for key, item in value.items() if not key.startswith("__")}
    if isinstance(value, str) and value.startswith('"'):
        return _string(value, what)
    raise HclError(f"{what}: cannot evaluate {value!r}; terraform-docs needs a constant")


def _validation(block: dict[str, Any], what: str) -> Validation:
    message = block.get("error_message", '""')
    try:
        text = _string(message, f"{what}: error_message")
    except HclError:  # a template: kept as written
        text = _expression(message)[1:-1] if isinstance(message, str) else str(message)
    return Validation(_expression(str(block.get("condition", ""))), text)


def load_module(module_dir: Path) -> Module:
    """The module's blocks that its documentation and tests read, from every *.tf file in `module_dir`."""
    module = Module()
    for path in sorted(module_dir.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            doc = hcl2.load(handle, serialization_options=_HCL_OPTIONS)
        for block in doc.get("terraform", []):
            if "required_version" in block:
                module.required_core.append(_string(block["required_version"], f"{path.name}: required_version"))
            for requirements in block.get("required_providers", []):
                for name, spec in requirements.items():
                    if name.startswith("__"):
                        continue
                    versions = module.provider_versions.setdefault(name, [])
                    if not isinstance(spec, dict):
                        raise HclError(f"{path.name}: required_providers.{name} must be an object (Terraform 0.13+)")
                    if "source" in spec:
                        module.provider_sources[name] = _string(spec["source"], f"{path.name}: {name}.source")
                    if "version" in spec:
                        versions.append(_string(spec["version"], f"{path.name}: {name}.version"))
        for name, body in _labelled(doc.get("variable", [])):
            what = f"{path.name}: variable {name}"
            module.variables.append(
                Variable(
                    name=name,
                    type=_expression(body["type"]) if "type" in body else None,
                    description=_string(body["description"], what) if "description" in body else None,
                    default=_value(body.get("default"), what),
                    required="default" not in body,
                    nullable=body.get("nullable"),
                    file=path.name,
                    validations=[_validation(block, what) for block in body.get("validation", [])],
                )
            )
        for name, body in _labelled(doc.get("output", [])):
            description = _string(body["description"], f"{path.name}: output {name}") if "description" in body else None
            module.outputs.append(Output(name, description, path.name))
        for mode, key in (("managed", "resource"), ("data", "data")):
            for rtype, blocks in _labelled(doc.get(key, [])):
                for name, body in _labelled([blocks]):
                    # Like Terraform: the provider is the type's prefix unless `provider` names one.
                    provider, _, alias = _expression(body.get("provider", rtype.split("_")[0])).partition(".")
                    module.resources.append(Resource(mode, rtype, name, provider, alias))
        for name, body in _labelled(doc.get("module", [])):
            source = _string(body.get("source", '""'), f"{path.name}: module {name}")
            version = _string(body["version"], f"{path.name}: module {name}") if "version" in body else ""
            module.module_calls.append(ModuleCall(name, source, version))
    return module
