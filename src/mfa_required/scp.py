"""The access matrix of a service control policy: the personas and requests of matrix.py, decided under an SCP.

The SCP is attached at the organization root, beside ``FullAWSAccess`` (which AWS attaches to every root, OU and
account unless it is replaced); the OU and the account below have ``FullAWSAccess`` only. An SCP grants nothing
(AWS Organizations User Guide, orgs_manage_policies_scps), so the matrix asks two questions, in matrix.py's modes:
with ``Allow *`` as the user's identity policy (what the SCP takes away from a user's permissions), and with no
identity policy (what the SCP grants: nothing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mfa_required.evaluator import FULL_AWS_ACCESS, Request, cached_policy_set, evaluate_with_scps
from mfa_required.matrix import ALLOW_ALL, MODES, Cell, CellKey, Matrix, account_and_partition, persona_requests

__all__ = ["LEVEL_NAMES", "cell_requests", "compute", "levels"]

LEVEL_NAMES = ("organization root", "organizational unit", "account")
IDENTITY = {"beside-allow-all": [ALLOW_ALL], "alone": []}
ScpQuestion = tuple[list[Mapping[str, Any]], list[list[Mapping[str, Any]]], Request]


def levels(scp: Mapping[str, Any]) -> list[list[Mapping[str, Any]]]:
    """The SCP levels of the matrix, root first: the SCP at the root, FullAWSAccess at every level."""
    return [[FULL_AWS_ACCESS, scp], [FULL_AWS_ACCESS], [FULL_AWS_ACCESS]]


def cell_requests(scp: Mapping[str, Any], account: str, partition: str) -> dict[CellKey, ScpQuestion]:
    """Every cell's question: identity policies, SCP levels, request."""
    chain = levels(scp)
    out: dict[CellKey, ScpQuestion] = {}
    for mode in MODES:
        identity: Sequence[Mapping[str, Any]] = IDENTITY[mode]
        for (persona, user, row), request in persona_requests(account, partition):
            out[persona, user, row, mode] = (list(identity), chain, request)
    return out


def compute(scp: Mapping[str, Any], account: str | None = None, partition: str | None = None) -> Matrix:
    """The matrix of an SCP; cells name the SCP statements that deny (or the identity statements that allow)."""
    cached_policy_set([scp])  # a malformed SCP fails here, with the policy's own location
    found_account, found_partition = account_and_partition(scp)
    account, partition = account or found_account, partition or found_partition
    cells = {}
    for key, (identity, chain, request) in cell_requests(scp, account, partition).items():
        result = evaluate_with_scps(identity, request, chain)
        if result.scp_matched and result.decision == "ExplicitlyDenied":
            sids = tuple(m.match.sid or f"statement {m.match.statement_index}" for m in result.scp_matched)
        else:  # the identity policies' statements that decided (allows, or their own denies)
            sids = tuple(m.sid or f"policy {m.policy_index} statement {m.statement_index}" for m in result.matched)
        cells[key] = Cell(result.decision, sids, result.note)
    return Matrix(account, partition, cells)
