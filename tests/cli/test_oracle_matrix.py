"""Every cell of every access matrix (default inputs, each example, the seed; alone and with Allow * beside it),
decided by the independent oracle (tests/oracle/README.md) in one batch: our evaluator must agree on each."""

from __future__ import annotations

import json
from typing import Any

from harness.oracle import Oracle, known_deviation
from harness.plans import SINGLE_ACCOUNT_EXAMPLES, PlanSummary, example_policy
from harness.readme import seed_document
from mfa_required.evaluator import cached_policy_set
from mfa_required.matrix import MODES, ROWS, cell_requests, compute
from mfa_required.personas import PERSONAS, USERS

XDIST_GROUP = "plan"

# Cells the oracle's documented NotResource deviation can decide (harness.oracle.known_deviation): the personas
# without aws:username (federated user, role session) meet the statements whose NotResource names it (about 142 of
# each policy's cells). Any other refusal or disagreement fails the test.
MAX_DEVIATING_CELLS_PER_POLICY = 150


def test_evaluator_agrees_with_oracle_on_every_matrix_cell(plan_all: PlanSummary) -> None:
    policies: dict[str, dict[str, Any]] = {
        "default": json.loads(str(plan_all.outputs["default"])),
        "seed": json.loads(seed_document()),
    } | {f"example {e}": json.loads(example_policy(plan_all, e)) for e in SINGLE_ACCOUNT_EXAMPLES}
    # The guards' inputs that no example sets alone.
    for case in ("role_assumption_guarded", "device_names_username"):
        policies[case] = json.loads(str(plan_all.outputs[case]))
    questions, deviating = [], []
    for name, policy in policies.items():
        matrix = compute(policy)
        for key, (documents, request) in cell_requests(policy, matrix.account, matrix.partition).items():
            if known_deviation(documents, request):
                deviating.append((name, key))
            else:
                questions.append((name, key, documents, request, matrix[key].decision))
    assert 0 < len(deviating) <= MAX_DEVIATING_CELLS_PER_POLICY * len(policies)
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
    assert len(questions) + len(deviating) == len(policies) * len(MODES) * len(PERSONAS) * len(USERS) * len(ROWS)
    assert not disagreements, f"{len(disagreements)} disagreement(s):\n" + "\n".join(disagreements)
