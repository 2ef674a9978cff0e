"""The code blocks of the README and the documentation (docs/, CONTRIBUTING.md), and how to point them at this
checkout and LocalStack's account."""

from __future__ import annotations

import re

from harness.paths import DATA_DIR, REPO_ROOT

README = REPO_ROOT / "README.md"
README_TEXT = README.read_text(encoding="utf-8")
# Every page a user reads: the README first, then docs/ and CONTRIBUTING.md (the README's moved sections).
DOC_FILES = (README, *sorted((REPO_ROOT / "docs").glob("*.md")), REPO_ROOT / "CONTRIBUTING.md")
DOCS_TEXT = "\n".join(path.read_text(encoding="utf-8") for path in DOC_FILES)
REGISTRY_SOURCE = "mfa-required/mfa-required/aws"
README_VERSION = "~> 1.0"
README_ACCOUNT = "123456789012"  # the account id the README's import block uses
LOCALSTACK_ACCOUNT = "000000000000"
SEED_POLICY_NAME = "RequireMFA"


def fenced_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def section(text: str, heading: str) -> str:
    """The text under a heading of any level, up to the next heading of the same or a higher level."""
    found = re.search(rf"(?m)^(#+) {re.escape(heading)}\n", text)
    if found is None:
        raise ValueError(f"no heading {heading!r}")
    level = len(found[1])
    end = re.compile(rf"(?m)^#{{1,{level}}} ").search(text, found.end())
    return text[found.start() : end.start() if end else None]


def localise(block: str, name: str = "mfa_required") -> str:
    """A README block pointed at this checkout and LocalStack's account: registry source replaced by the repository
    path, `version` dropped (a local path takes none), module renamed to `name`, import ids in LocalStack's account."""
    text, sources = re.subn(
        rf'(?m)^(\s*)source\s*=\s*"{re.escape(REGISTRY_SOURCE)}"$', rf'\1source = "{REPO_ROOT}"', block
    )
    assert sources == block.count('module "'), f"every module block must use the registry source:\n{block}"
    text = re.sub(r'(?m)^\s*version\s*=\s*"[^"]*"\n', "", text)
    text = text.replace('module "mfa_required"', f'module "{name}"').replace("module.mfa_required.", f"module.{name}.")
    return text.replace(f"arn:aws:iam::{README_ACCOUNT}:", f"arn:aws:iam::{LOCALSTACK_ACCOUNT}:")


def seed_document(account: str = LOCALSTACK_ACCOUNT) -> str:
    """The seed's copy-pasted JSON with an account filled in, as a user would have created it."""
    return (DATA_DIR / "seed-policy.json").read_text().replace("YOUR_ACCOUNT_ID", account)
