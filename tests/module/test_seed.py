"""examples/seed-compatible behaves like the seed policy (tests/data/seed-policy.json), except in the cells that
the documented fixes change: FIXES lists each with its reason and both decisions. Any other difference fails."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import pytest

from harness.plans import PlanSummary, example_policy
from harness.readme import seed_document
from mfa_required.matrix import Matrix, compute
from mfa_required.personas import PERSONAS

XDIST_GROUP = "plan"

ACCOUNT = "000000000000"
BOTH_MODES = ("alone", "beside-allow-all")
BOTH_USERS = ("alice", "bob")
ALL_PERSONAS = tuple(p.key for p in PERSONAS)
# Denied by the MFA statements of both: the example does not exempt AWS service calls, like the seed.
NO_MFA = ("console", "sts", "service")
NOT_DENIED = ("access-key", "console-mfa", "sts-mfa")  # the MFA statements never apply to them
ROLE = ("role",)  # MFA "false" and no aws:username: denied, and no own-user exemption matches it
CONSOLE_SIGN_IN = ("signin:Authenticate", "signin:AuthorizeOAuth2Access console", "signin:CreateOAuth2Token console")
CLI_SIGN_IN = ("signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token")
USER_PERSONAS = tuple(p for p in ALL_PERSONAS if p not in ("federated", "role"))  # they carry aws:username
PATH_USER_ROWS = tuple(
    f"iam:{a} own"
    for a in (
        "ChangePassword",
        "GetLoginProfile",
        "EnableMFADevice",
        "ResyncMFADevice",
        "DeactivateMFADevice",
        "CreateLoginProfile",
        "UpdateLoginProfile",
        "DeleteLoginProfile",
    )
)


@dataclass(frozen=True)
class Fix:
    reason: str
    rows: tuple[str, ...]
    personas: tuple[str, ...]
    users: tuple[str, ...]
    modes: tuple[str, ...]
    seed: str  # the seed's decision
    module: str  # examples/seed-compatible's decision


GET_USER = "iam:GetUser is exempt and granted on the own user: the console's security-credentials page needs it"
SESSION_TOKEN = "sts:GetSessionToken is exempt and granted: CLI users need it to obtain an MFA session"
PATH = "users with an IAM path (user/engineering/bob) are matched by user/*/${aws:username}; the seed misses them"
FIXES = [
    Fix(GET_USER, ("iam:GetUser own",), NO_MFA, BOTH_USERS, BOTH_MODES, "ExplicitlyDenied", "Allowed"),
    Fix(GET_USER, ("iam:GetUser own",), NOT_DENIED, BOTH_USERS, ("alone",), "ImplicitlyDenied", "Allowed"),
    Fix(SESSION_TOKEN, ("sts:GetSessionToken",), NO_MFA + ROLE, BOTH_USERS, BOTH_MODES, "ExplicitlyDenied", "Allowed"),
    Fix(
        SESSION_TOKEN,
        ("sts:GetSessionToken",),
        (*NOT_DENIED, "federated"),
        BOTH_USERS,
        ("alone",),
        "ImplicitlyDenied",
        "Allowed",
    ),
    Fix(PATH, PATH_USER_ROWS, NO_MFA, ("bob",), BOTH_MODES, "ExplicitlyDenied", "Allowed"),
    Fix(PATH, PATH_USER_ROWS, NOT_DENIED, ("bob",), ("alone",), "ImplicitlyDenied", "Allowed"),
    Fix(
        PATH + " (the seed's second deny does not list iam:ListMFADevices, so its grant is only missing)",
        ("iam:ListMFADevices own",),
        USER_PERSONAS,
        ("bob",),
        ("alone",),
        "ImplicitlyDenied",
        "Allowed",
    ),
    Fix(
        "iam:ListVirtualMFADevices takes no resource type: the seed's grant, scoped to mfa/* and user ARNs, is dead",
        ("iam:ListVirtualMFADevices",),
        ALL_PERSONAS,
        BOTH_USERS,
        ("alone",),
        "ImplicitlyDenied",
        "Allowed",
    ),
    Fix(
        "the seed's second deny (NotResource: the caller's user and device) denies iam:GetAccountSummary, which "
        "takes no resource, on * without MFA although its first deny exempts it; the example exempts it",
        ("iam:GetAccountSummary",),
        NO_MFA + ROLE,
        BOTH_USERS,
        ("beside-allow-all",),
        "ExplicitlyDenied",
        "Allowed",
    ),
    Fix(
        "iam:GetAccountSummary: the seed's grant is dead (scoped to the user ARN), so the example does not grant it "
        "either; it only exempts it (additional_actions_without_mfa), so the seed's deny becomes not granted",
        ("iam:GetAccountSummary",),
        NO_MFA + ROLE,
        BOTH_USERS,
        ("alone",),
        "ExplicitlyDenied",
        "ImplicitlyDenied",
    ),
    Fix(
        "the seed lets a user without MFA list anyone's MFA devices (exempt from its first deny, missing from its "
        "second); the example denies every exempt action on other users",
        ("iam:ListMFADevices carol",),
        NO_MFA + ROLE,
        BOTH_USERS,
        ("beside-allow-all",),
        "Allowed",
        "ExplicitlyDenied",
    ),
    Fix(
        "iam:ListMFADevices on another user without MFA: see above (the seed never granted it)",
        ("iam:ListMFADevices carol",),
        NO_MFA + ROLE,
        BOTH_USERS,
        ("alone",),
        "ImplicitlyDenied",
        "ExplicitlyDenied",
    ),
    Fix(
        "a role session has no aws:username: the example's own-user exemptions match no one, so its second deny "
        "applies to iam:ListMFADevices, which the seed exempts and its second deny does not list",
        ("iam:ListMFADevices own",),
        ROLE,
        BOTH_USERS,
        ("beside-allow-all",),
        "Allowed",
        "ExplicitlyDenied",
    ),
    Fix(
        "iam:ListMFADevices for a role session: see above (the seed never granted it)",
        ("iam:ListMFADevices own",),
        ROLE,
        BOTH_USERS,
        ("alone",),
        "ImplicitlyDenied",
        "ExplicitlyDenied",
    ),
    Fix(
        "iam:GetMFADevice is granted on the own user (with MFA, or a key), as in AWS's self-manage-MFA example",
        ("iam:GetMFADevice own",),
        NOT_DENIED,
        BOTH_USERS,
        ("alone",),
        "ImplicitlyDenied",
        "Allowed",
    ),
    Fix(
        "console sign-in (signin:Authenticate, the OAuth actions on the console's resource) is exempt: signing in to "
        "enrol is never denied",
        CONSOLE_SIGN_IN,
        NO_MFA + ROLE,
        BOTH_USERS,
        ("beside-allow-all",),
        "ExplicitlyDenied",
        "Allowed",
    ),
    Fix(
        "console sign-in: exempt, not granted (see above)",
        CONSOLE_SIGN_IN,
        NO_MFA + ROLE,
        BOTH_USERS,
        ("alone",),
        "ExplicitlyDenied",
        "ImplicitlyDenied",
    ),
    Fix(
        "aws login (the OAuth actions on the CLI's clients) needs MFA whatever the request carries: a key or a "
        "federated session, without the MFA key, is denied",
        CLI_SIGN_IN,
        ("access-key", "federated"),
        BOTH_USERS,
        ("beside-allow-all",),
        "Allowed",
        "ExplicitlyDenied",
    ),
    Fix(
        "aws login without MFA: see above (the seed never granted it)",
        CLI_SIGN_IN,
        ("access-key", "federated"),
        BOTH_USERS,
        ("alone",),
        "ImplicitlyDenied",
        "ExplicitlyDenied",
    ),
]


def fixed_cells() -> dict[tuple[str, str, str, str], Fix]:
    cells: dict[tuple[str, str, str, str], Fix] = {}
    for fix in FIXES:
        for persona, user, row, mode in itertools.product(fix.personas, fix.users, fix.rows, fix.modes):
            assert (persona, user, row, mode) not in cells, f"listed twice: {persona} {user} {row} {mode}"
            cells[persona, user, row, mode] = fix
    return cells


def seed_matrix() -> Matrix:
    return compute(json.loads(seed_document(ACCOUNT)))


@pytest.fixture(scope="module")
def example_matrix(plan_all: PlanSummary) -> Matrix:
    return compute(json.loads(example_policy(plan_all, "seed-compatible")))


def test_seed_compatible_differs_from_the_seed_only_by_the_fixes(example_matrix: Matrix) -> None:
    seed, fixes = seed_matrix(), fixed_cells()
    assert (seed.account, example_matrix.account) == (ACCOUNT, ACCOUNT)
    problems = []
    for key, cell in seed.cells.items():
        got = (cell.decision, example_matrix[key].decision)
        fix = fixes.get(key)
        want = (fix.seed, fix.module) if fix else (cell.decision, cell.decision)
        if got != want:
            persona, user, row, mode = key
            problems.append(
                f"{persona:11} {user:5} {row:32} {mode:16} seed {got[0]:16} example {got[1]:16} "
                f"expected {want[0]} -> {want[1]}" + (f" ({fix.reason})" if fix else " (no fix listed)")
            )
    assert not problems, f"{len(problems)} cell(s) differ unexpectedly:\n" + "\n".join(problems)


def test_every_fix_changes_cells() -> None:
    """Each fix's cells exist in the matrix, and the seed really decides them as FIXES says."""
    seed = seed_matrix()
    for key, fix in fixed_cells().items():
        assert seed[key].decision == fix.seed, (key, fix.reason)
