"""Run parliament on rendered policies; fail on any finding .parliament.yaml does not explain, or on an entry there
that explains nothing any more. Usage: python tools/parliament_check.py CONFIG POLICY.json..."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml
from parliament import analyze_policy_string


def main(config_path: str, *policies: str) -> int:
    expected = yaml.safe_load(Path(config_path).read_text())
    used: set[str] = set()
    unexplained = []
    for path in policies:
        for finding in analyze_policy_string(Path(path).read_text(), filepath=path).findings:
            entry = expected.get(finding.issue)
            if entry and re.fullmatch(entry["detail"], str(finding.detail), re.S):
                used.add(finding.issue)
            else:
                unexplained.append(f"{path}: {finding.issue}: {finding.detail}")
    stale = sorted(set(expected) - used)
    for line in unexplained:
        print(line, file=sys.stderr)
    for issue in stale:
        print(f"{config_path}: {issue} matches no finding any more: remove it", file=sys.stderr)
    print(f"parliament: {len(policies)} policies, expected findings {sorted(used)}, unexplained {len(unexplained)}")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
