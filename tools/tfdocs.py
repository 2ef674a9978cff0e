"""Keep a README's terraform-docs tables up to date, with the terraform-docs binary or without it.

The module is read by tools/hcl_module.py; this file renders what ``terraform-docs markdown table`` writes
between ``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->`` with its default settings (anchors, HTML,
escaped underscores, sorted by name), in the format of current terraform-aws-modules READMEs: ``|------|`` rules
and ``[x](#input\\_x)`` links. Not supported by the built-in renderer: a header read from main.tf's leading
comment, ``terraform-docs-ignore`` comments, versions from .terraform.lock.hcl (the terraform-docs renderer is
run without them too).

Renderers: ``builtin`` (the default), or ``terraform-docs`` (the binary, when it is on PATH) chosen with
``--renderer`` or the environment variable MFA_REQUIRED_TFDOCS; asked for but not on PATH, the built-in one is
used, with a note on stderr.

    python -m tools.tfdocs [--check] [--renderer builtin|terraform-docs] [MODULE_DIR] [README]

Without MODULE_DIR: the current directory (the repository root) and every modules/*/README.md and
examples/*/README.md that has the markers.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tools.hcl_module import HclError, Module, Output, Resource, Variable, load_module

# The reader's names stay importable from here (tests and `make docs` used them before the split).
__all__ = [
    "BEGIN",
    "END",
    "RENDERERS",
    "HclError",
    "Module",
    "Output",
    "TfDocsError",
    "Variable",
    "check",
    "load_module",
    "main",
    "readmes",
    "render",
    "select_renderer",
    "update",
]

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


class TfDocsError(Exception):
    """A module or README that the tables cannot be generated for."""


# ---------------------------------------------------------------------------
# HCL type constraints: python-hcl2 flattens them onto one line
# ---------------------------------------------------------------------------


def _split(text: str, separator: str, maxsplit: int = -1) -> list[str]:
    """Split at `separator` outside brackets and string literals."""
    parts, depth, start, in_string, index = [], 0, 0, False, 0
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\":
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == separator and depth == 0 and maxsplit != 0:
            parts.append(text[start:index].strip())
            start, maxsplit = index + 1, maxsplit - 1
        index += 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def _inline(text: str) -> str:
    """`terraform fmt` pads the braces of a one-line object: {a = 1} -> { a = 1 }."""
    out, in_string = [], False
    for index, char in enumerate(text):
        if in_string:
            in_string = not (char == '"' and text[index - 1] != "\\")
        elif char == '"':
            in_string = True
        elif char == "{" and text[index + 1 : index + 2] != "}" and text[index - 1 : index] not in ("$", "%"):
            char = "{ "
        elif char == "}" and text[index - 1 : index] != "{":
            char = " }"
        out.append(char)
    return "".join(out)


def render_type(text: str, indent: str = "  ") -> str:
    """The type as a `terraform fmt`-ed variable block holds it, `indent` being the `type =` line's.

    Object types are written one attribute per line (the source layout is lost in python-hcl2's
    representation; this is how modules write them), everything else on one line.
    """
    call = re.fullmatch(r"([A-Za-z_][\w-]*)\((.*)\)", text, re.S)
    if call is None:
        return _inline(text)
    name, args = call[1], _split(call[2], ",")
    if name == "object" and len(args) == 1 and args[0].startswith("{") and args[0].endswith("}"):
        return f"object({_render_object(args[0][1:-1], indent)})"
    return f"{name}({', '.join(render_type(arg, indent) for arg in args)})"


def _render_object(body: str, indent: str) -> str:
    items = [_split(item, "=", 1) for item in _split(body, ",")]
    if not items:
        return "{}"
    inner = indent + "  "
    lines: list[str] = []
    group: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(key) for key, _ in group), default=0)
        lines.extend(f"{inner}{key.ljust(width)} = {value}" for key, value in group)
        group.clear()

    for key, value in items:
        rendered = render_type(value, inner)
        if "\n" in rendered:  # fmt aligns the `=` of one-line attributes only, in runs
            flush()
            lines.append(f"{inner}{key} = {rendered}")
        else:
            group.append((key, rendered))
    flush()
    return "{\n" + "\n".join(lines) + f"\n{indent}}}"


# ---------------------------------------------------------------------------
# Values, as terraform-docs prints them (Go's encoding/json, two-space indent)
# ---------------------------------------------------------------------------


def _go_number(number: float) -> str:
    number = float(number)  # Terraform numbers reach terraform-docs as float64
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    if 1e-6 <= abs(number) < 1e21:
        return format(Decimal(repr(number)), "f")  # shortest digits, never an exponent
    return re.sub(r"e([+-])0(\d)", r"e\1\2", repr(number))


def _go_string(text: str) -> str:
    escaped = "".join(
        {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}.get(char)
        or (f"\\u{ord(char):04x}" if ord(char) < 0x20 or char in "\u2028\u2029" else char)
        for char in text
    )
    return f'"{escaped}"'


def go_json(value: Any, indent: str = "") -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _go_number(value)
    if isinstance(value, str):
        return _go_string(value)
    inner = indent + "  "
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + go_json(item, inner) for item in value) + f"\n{indent}]"
    if not value:
        return "{}"
    items = (f"{inner}{_go_string(key)}: {go_json(value[key], inner)}" for key in sorted(value))
    return "{\n" + ",\n".join(items) + f"\n{indent}}}"


def _type_of(variable: Variable) -> str:
    if variable.type is not None:
        return render_type(variable.type)
    default = variable.default  # terraform-docs guesses a missing type from the default
    for kind, name in ((bool, "bool"), (str, "string"), (int | float, "number"), (list, "list"), (dict, "map")):
        if isinstance(default, kind):
            return name
    return "any"


# ---------------------------------------------------------------------------
# Markdown, as terraform-docs sanitizes table cells (template/sanitizer.go)
# ---------------------------------------------------------------------------

_KEEP = "\0"
# An underscore that starts a line's first word, or _emphasis_, is left alone.
_UNESCAPED_UNDERSCORES = (
    (re.compile(r"^([\t\n\f\r ]*)(_+)([\t\n\f\r ]+)(.*)"), (2,)),
    (re.compile(r"([\t\n\f\r ]+)(_+)([^\t\n\f\r _])(.*)([^\t\n\f\r _])(_+)([\t\n\f\r ]+)"), (6, 2)),
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\t\n\f\r <>\"`]+")


def _segments(text: str, fence: str, normal: Callable[[str], str], code: Callable[[str], str]) -> str:
    """Apply `normal` outside and `code` inside `fence`d spans; empty spans vanish, as in Go."""
    in_code = text.startswith(fence)
    out = []
    for segment in text.split(fence):
        if segment:
            out.append(code(segment) if in_code else normal(segment))
            in_code = not in_code
    return "".join(out)


def _escape_underscores(line: str) -> str:
    for pattern, groups in _UNESCAPED_UNDERSCORES:
        for match in reversed(list(pattern.finditer(line))):
            for group in groups:  # the later group first, so the earlier offsets stay valid
                line = line[: match.start(group)] + _KEEP * len(match[group]) + line[match.end(group) :]
    return line.replace("_", "\\_").replace(_KEEP, "_")


def _cell_text(text: str) -> str:
    def backticked(segment: str) -> str:
        return f"`{segment}`"

    text = _segments(text, "`", lambda s: s.replace("|", "\\|"), backticked)
    text = _segments(text, "`", lambda s: "\n".join(map(_escape_underscores, s.split("\n"))), backticked)
    text = text.strip()
    text = re.sub(r"([^\t\n\f\r ]*)(\r?\n)([\t\n\f\r ]*)(\w+)", r"\1  \2\3\4", text, flags=re.ASCII)
    for old, new in (("    \n", "  \n"), ("  \n\n", "\n\n"), ("\n  \n", "\n\n"), ("  \n", "<br/>"), ("\n", "<br/>")):
        text = text.replace(old, new)
    for url in _URL.findall(text):
        text = text.replace(url, url.replace("\\", ""))
    return text


def _cell(text: str) -> str:
    if not text:
        return "n/a"

    def pre(segment: str) -> str:
        return "<pre>" + segment.strip().replace("\n", "<br/>").replace("\r", "") + "</pre>"

    return _segments(text, "```", _cell_text, pre)


def _code(text: str) -> str:
    return f"\n\n```\n{text}\n```\n" if "\n" in text else f"`{text}`"


def _anchor(kind: str, name: str) -> str:
    escaped = name.replace("_", "\\_")
    return f'<a name="{kind}_{name}"></a> [{escaped}](#{kind}\\_{escaped})'


# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------


def _section(title: str, columns: list[str], rows: list[str]) -> str:
    if not rows:
        return f"## {title}\n\nNo {title.lower()}."
    rule = [f":{'-' * len(c)}:" if c == "Required" else "-" * (len(c) + 2) for c in columns]
    return f"## {title}\n\n| {' | '.join(columns)} |\n|{'|'.join(rule)}|\n" + "\n".join(rows)


def _resource_url(module: Module, resource: Resource) -> str:
    source = module.provider_sources.get(resource.provider, f"hashicorp/{resource.provider}")
    if source.count("/") > 1:
        return ""
    namespace, _, name = source.partition("/")
    # terraform-docs links a version only when the last constraint pins one exactly.
    version = "latest"
    constraints = module.provider_versions.get(resource.provider, [])
    parts = constraints[-1].split(" ") if constraints else []
    if len(parts) == 1 and parts[0][:1].isdigit():
        version = parts[0]
    elif len(parts) == 1 and parts[0][:1] == "=":
        version = parts[0][1:]
    elif len(parts) == 2 and parts[0] == "=":
        version = parts[1]
    kind = "resources" if resource.mode == "managed" else "data-sources"
    short_type = resource.type.removeprefix(resource.provider + "_")
    return f"https://registry.terraform.io/providers/{namespace}/{name or namespace}/{version}/docs/{kind}/{short_type}"


def render(module: Module) -> str:
    """The text terraform-docs puts between the markers."""
    requirements = [f"| {_anchor('requirement', 'terraform')} | {version} |" for version in module.required_core]
    requirements += [
        f"| {_anchor('requirement', name)} | {version} |"
        for name in sorted(module.provider_versions)
        for version in module.provider_versions[name]
    ]

    # Providers are those the resources use; versions come from the constraints, never from
    # .terraform.lock.hcl, which `terraform init` rewrites and git ignores.
    used = sorted({(resource.provider, resource.alias) for resource in module.resources})
    providers = [
        f"| {_anchor('provider', f'{name}.{alias}' if alias else name)} | "
        f"{' '.join(module.provider_versions.get(name, [])) or 'n/a'} |"
        for name, alias in used
    ]

    modules = [
        f"| {_anchor('module', call.name)} | {call.source} | {call.version or 'n/a'} |"
        for call in sorted(module.module_calls, key=lambda call: call.name)
    ]

    resources = []
    for resource in sorted(
        module.resources,
        key=lambda r: (r.mode != "managed", f"{r.provider}_{r.type.removeprefix(r.provider + '_')}.{r.name}"),
    ):
        spec = f"{resource.type}.{resource.name}"
        url = _resource_url(module, resource)
        mode = "resource" if resource.mode == "managed" else "data source"
        resources.append(f"| {f'[{spec}]({url})' if url else spec} | {mode} |")

    inputs = []
    for variable in sorted(module.variables, key=lambda v: v.name):
        value = go_json(variable.default)
        default = "n/a" if variable.required and value == "null" else _cell(_code(value))
        inputs.append(
            f"| {_anchor('input', variable.name)} | {_cell(variable.description or '')} | "
            f"{_cell(_code(_type_of(variable)))} | {default} | {'yes' if variable.required else 'no'} |"
        )

    outputs = [
        f"| {_anchor('output', output.name)} | {_cell(output.description or '')} |"
        for output in sorted(module.outputs, key=lambda o: o.name)
    ]

    return "\n\n".join(
        [
            _section("Requirements", ["Name", "Version"], requirements),
            _section("Providers", ["Name", "Version"], providers),
            _section("Modules", ["Name", "Source", "Version"], modules),
            _section("Resources", ["Name", "Type"], resources),
            _section("Inputs", ["Name", "Description", "Type", "Default", "Required"], inputs),
            _section("Outputs", ["Name", "Description"], outputs),
        ]
    )


# ---------------------------------------------------------------------------
# Renderers: a module directory -> the text between the markers
# ---------------------------------------------------------------------------

Renderer = Callable[[Path], str]
RENDERER_ENV = "MFA_REQUIRED_TFDOCS"
# The built-in renderer's settings: terraform-docs' defaults, without main.tf's header comment and without
# .terraform.lock.hcl (provider versions come from the constraints, as in terraform-aws-modules' READMEs).
TERRAFORM_DOCS_ARGS = ("markdown", "table", "--lockfile=false", "--hide", "header,footer")


def builtin(module_dir: Path) -> str:
    return render(load_module(module_dir))


def terraform_docs(binary: str) -> Renderer:
    def run(module_dir: Path) -> str:
        done = subprocess.run([binary, *TERRAFORM_DOCS_ARGS, str(module_dir)], capture_output=True, text=True)
        if done.returncode:
            raise TfDocsError(f"terraform-docs failed on {module_dir}: {done.stderr.strip()}")
        return done.stdout.strip()

    return run


RENDERERS = ("builtin", "terraform-docs")


def select_renderer(name: str | None = None, which: Callable[[str], str | None] = shutil.which) -> tuple[str, Renderer]:
    """(name, renderer): terraform-docs when asked for (by `name`, else $MFA_REQUIRED_TFDOCS) and on PATH, else the
    built-in renderer."""
    name = name or os.environ.get(RENDERER_ENV) or "builtin"
    if name not in RENDERERS:
        raise TfDocsError(f"unknown renderer {name!r}: choose from {', '.join(RENDERERS)}")
    binary = which("terraform-docs") if name == "terraform-docs" else None
    return ("terraform-docs", terraform_docs(binary)) if binary else ("builtin", builtin)


# ---------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------


def inject(readme_text: str, content: str, readme_name: str = "README") -> str:
    begin = readme_text.find(BEGIN)
    end = readme_text.find(END, begin)
    if begin == -1 or end == -1:
        raise TfDocsError(f"{readme_name} has no {BEGIN} ... {END} markers")
    return readme_text[:begin] + f"{BEGIN}\n{content}\n{END}" + readme_text[end + len(END) :]


def check(module_dir: Path, readme: Path, renderer: Renderer = builtin) -> str:
    """A unified diff from `readme` to the up-to-date README; empty when it is up to date."""
    if not readme.is_file():
        raise TfDocsError(f"{readme} does not exist")
    current = readme.read_text(encoding="utf-8")
    updated = inject(current, renderer(module_dir), str(readme))
    return "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            updated.splitlines(keepends=True),
            fromfile=str(readme),
            tofile=f"{readme} (generated)",
        )
    )


def update(module_dir: Path, readme: Path, renderer: Renderer = builtin) -> bool:
    """Rewrite the tables in `readme`; True when it changed."""
    if not readme.is_file():
        raise TfDocsError(f"{readme} does not exist")
    current = readme.read_text(encoding="utf-8")
    updated = inject(current, renderer(module_dir), str(readme))
    if updated != current:
        readme.write_text(updated, encoding="utf-8")
    return updated != current


def readmes(root: Path) -> list[tuple[Path, Path]]:
    """(module dir, README) for `root` and each submodule and example whose README has the markers."""
    readmes = sorted(root.glob("modules/*/README.md")) + sorted(root.glob("examples/*/README.md"))
    marked = [path for path in readmes if BEGIN in path.read_text(encoding="utf-8")]
    return [(root, root / "README.md")] + [(path.parent, path) for path in marked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.tfdocs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff when a README is out of date")
    parser.add_argument(
        "module_dir",
        nargs="?",
        type=Path,
        help="default: the current directory (the repository root) and each modules/*/ and examples/*/ whose README "
        "has the markers",
    )
    parser.add_argument("readme", nargs="?", type=Path, help="default: MODULE_DIR/README.md")
    parser.add_argument(
        "--renderer",
        choices=RENDERERS,
        help=f"default: ${RENDERER_ENV}, else builtin; terraform-docs falls back to builtin when not on PATH",
    )
    args = parser.parse_args(argv)
    try:
        chosen, renderer = select_renderer(args.renderer)
    except TfDocsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if chosen != (args.renderer or os.environ.get(RENDERER_ENV) or "builtin"):
        print("note: terraform-docs is not on PATH: the built-in renderer is used", file=sys.stderr)
    targets = (
        readmes(Path("."))
        if args.module_dir is None
        else [(args.module_dir, args.readme or args.module_dir / "README.md")]
    )
    status = 0
    try:
        for module_dir, readme in targets:
            if not args.check:
                if update(module_dir, readme, renderer):
                    print(f"updated {readme}")
                continue
            diff = check(module_dir, readme, renderer)
            if diff:
                sys.stdout.write(diff)
                print(f"{readme} is out of date: run python -m tools.tfdocs {module_dir} {readme}")
                status = 1
    except (TfDocsError, HclError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
