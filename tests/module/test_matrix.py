"""The module's promises, each a test over the access matrix (src/mfa_required/matrix.py) of the default inputs and of
every example. What differs between them is data: EXPECT says which variant of each promise a policy keeps."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import pytest

from harness.plans import SINGLE_ACCOUNT_EXAMPLES, PlanSummary, example_policy
from mfa_required.matrix import (
    CREDENTIAL_CHANGES,
    EXEMPT_ACCOUNT_ACTIONS,
    EXEMPT_USER_ACTIONS,
    NEEDS_MFA_OWN,
    NEEDS_RESOURCE_POLICY,
    ROLE_ASSUMPTION,
    ROWS,
    SELF_SERVICE_CREDENTIALS,
    Matrix,
    compute,
)
from mfa_required.personas import PERSONAS, USERS

XDIST_GROUP = "plan"

BESIDE, ALONE = "beside-allow-all", "alone"
ALLOWED, DENIED, IMPLICIT = "Allowed", "ExplicitlyDenied", "ImplicitlyDenied"
WITH_MFA = ("console-mfa", "sts-mfa")
LOGIN_PROFILE = {f"{a} own" for a in CREDENTIAL_CHANGES if "LoginProfile" in a}
MFA_REMOVAL = {"iam:DeactivateMFADevice own", "iam:DeleteVirtualMFADevice own"}
# The access-key guard: no console takeover, no credential that outlives the key's rotation, no federation.
CREDENTIAL_ISSUING = {
    f"{a} own"
    for a in (
        "iam:CreateAccessKey",
        "iam:UpdateAccessKey",
        "iam:UploadSSHPublicKey",
        "iam:UploadSigningCertificate",
        "iam:CreateServiceSpecificCredential",
    )
}
FEDERATION = "sts:GetFederationToken own"
# MFA and login-profile changes: a key, or a service calling for the user without MFA, cannot make them.
CONSOLE_TAKEOVER = LOGIN_PROFILE | {"iam:DeactivateMFADevice own", "iam:EnableMFADevice own"}
GUARDED = CONSOLE_TAKEOVER | CREDENTIAL_ISSUING | {FEDERATION}
ROLE_ROWS = set(ROLE_ASSUMPTION)
# Identity policies alone never allow these (a trust or key policy must): with MFA they stay implicitly denied.
NEEDS_RESOURCE = set(NEEDS_RESOURCE_POLICY)
# Console sign-in is never denied (a user without MFA must sign in to enrol); aws login needs MFA, always.
SIGN_IN_CONSOLE = {"signin:Authenticate", "signin:AuthorizeOAuth2Access console", "signin:CreateOAuth2Token console"}
# aws login's clients (localhost, remote) and authorising an agent for an AWS service in a browser.
CLI_SIGN_IN = {
    "signin:AuthorizeOAuth2Access",
    "signin:CreateOAuth2Token",
    "signin:AuthorizeOAuth2Access remote",
    "signin:CreateOAuth2Token remote",
    "signin:AuthorizeOAuth2Access service",
}
# A token for an AWS service made by signing with existing credentials: denied where those credentials are.
SERVICE_TOKEN = "signin:CreateOAuth2Token service"
CAROL_USER_ROWS = {r.key for r in ROWS if r.target == "carol" and "VirtualMFADevice" not in r.action}
ALL_ROWS = [r.key for r in ROWS]


@dataclass(frozen=True)
class Expect:
    """Which variant of each promise a policy keeps; the defaults are the module's default inputs."""

    access_keys: str = "unaffected"  # or "enforced": denied like a session without MFA
    credential_guard: bool = True  # access keys cannot change MFA or the login profile
    service_calls: str = "exempt"  # or "denied": like a session without MFA
    device_names: str = "any"  # or "username": only a device named after the user
    list_users: str = "needs-mfa"  # or "exempt"
    mfa_removal: str = "needs-mfa"  # or "exempt"
    login_profile: str = "needs-mfa"  # or "exempt"
    extra_exempt: tuple[str, ...] = ()  # additional_actions_without_mfa (exempted, not granted)
    self_service: tuple[str, ...] = ()  # SELF_SERVICE_CREDENTIALS kinds granted on the own user
    role_guard: bool = False  # guard_role_assumption_from_access_keys: no role (or root) session without MFA

    def guard_denies(self, persona: str, row: str) -> bool:
        """The guards' denies, which no exemption lifts: to keys, federated users and service calls."""
        if persona not in ("access-key", "federated", "service"):
            return False
        if row in CLI_SIGN_IN or self.role_guard and row in ROLE_ROWS:
            return True
        if persona == "access-key":
            return self.credential_guard and row in GUARDED
        if persona == "service":
            return self.credential_guard and row in CONSOLE_TAKEOVER | CREDENTIAL_ISSUING
        return self.credential_guard and row == FEDERATION

    def no_mfa_personas(self) -> list[str]:
        """The personas denied everything but the exempt set."""
        return (
            ["console", "sts"]
            + (["access-key"] if self.access_keys == "enforced" else [])
            + (["service"] if self.service_calls == "denied" else [])
        )

    def devices(self) -> set[str]:
        """CreateVirtualMFADevice rows allowed without MFA."""
        targets = ("own", "own-other-name", "carol") if self.device_names == "any" else ("own",)
        return {f"iam:CreateVirtualMFADevice {t}" for t in targets}

    def exempt(self) -> set[str]:
        """Rows allowed without MFA (to a persona the access-key guard does not stop)."""
        rows = {f"{a} own" for a in EXEMPT_USER_ACTIONS} | {*EXEMPT_ACCOUNT_ACTIONS, "sts:GetSessionToken"}
        rows |= SIGN_IN_CONSOLE
        rows |= self.devices() | set(self.extra_exempt)
        rows |= {"iam:ListUsers"} if self.list_users == "exempt" else set()
        rows |= MFA_REMOVAL if self.mfa_removal == "exempt" else set()
        # An unfinished enrolment's device (mfa/<user>, never enabled) is deletable: IAM refuses an enabled one.
        rows |= {"iam:DeleteVirtualMFADevice own"} if self.device_names == "username" else set()
        return rows | (LOGIN_PROFILE if self.login_profile == "exempt" else set())

    def granted(self) -> set[str]:
        """Rows the policy alone allows with MFA, other users' devices aside (test_policy_alone_..._device)."""
        rows = self.exempt() - set(self.extra_exempt) - SIGN_IN_CONSOLE | MFA_REMOVAL | LOGIN_PROFILE
        rows |= {f"{a} own" for a in NEEDS_MFA_OWN}
        rows |= {"iam:DeleteVirtualMFADevice own-other-name"} if self.device_names == "any" else set()
        return rows | {f"{a} own" for kind in self.self_service for a in SELF_SERVICE_CREDENTIALS[kind]}


SEED_LIKE = Expect(
    service_calls="denied",
    device_names="username",
    list_users="exempt",
    mfa_removal="exempt",
    login_profile="exempt",
    extra_exempt=("iam:GetAccountSummary",),
)
EXPECT = {
    "default": Expect(),
    "basic": Expect(),
    "complete": Expect(
        extra_exempt=("iam:GetAccountSummary",),
        self_service=("access_keys", "ssh_public_keys", "service_specific_credentials"),
    ),
    "programmatic-mfa": Expect(access_keys="enforced", role_guard=True),
    "seed-compatible": SEED_LIKE,
    # Plan cases (tests/module/plan_cases.yaml) whose inputs no example sets alone.
    "role-assumption-guarded": Expect(role_guard=True),
    "device-names-username": Expect(device_names="username"),
}
PLAN_CASE_POLICIES = {
    "role-assumption-guarded": "role_assumption_guarded",
    "device-names-username": "device_names_username",
}
POLICIES = list(EXPECT)


@pytest.fixture(scope="module")
def matrices(plan_all: PlanSummary) -> dict[str, Matrix]:
    documents = {"default": str(plan_all.outputs["default"])} | {
        e: example_policy(plan_all, e) for e in SINGLE_ACCOUNT_EXAMPLES
    }
    documents |= {name: str(plan_all.outputs[case]) for name, case in PLAN_CASE_POLICIES.items()}
    return {name: compute(json.loads(text)) for name, text in documents.items()}


def check(matrix: Matrix, expected: dict[tuple[str, str, str], str], mode: str) -> None:
    """Every (persona, user, row) has the expected decision in `mode`; the failure lists each wrong cell."""
    wrong = [
        f"{persona:12} {user:6} {row:45} expected {want:16} got {cell.decision} {list(cell.sids)}"
        for (persona, user, row), want in expected.items()
        if (cell := matrix[persona, user, row, mode]).decision != want
    ]
    assert not wrong, f"{len(wrong)} cell(s) ({mode}):\n" + "\n".join(wrong)


def cells(personas: Iterable[str], rows: Iterable[str], decide: object) -> dict[tuple[str, str, str], str]:
    """{(persona, user, row): decision} for both users; `decide` is a decision or a function (persona, row)."""
    rows = list(rows)
    return {
        (p, u.name, r): decide(p, r) if callable(decide) else str(decide) for p in personas for u in USERS for r in rows
    }


def unless_resource_policy(row: str) -> str:
    """What Allow * beside the policy gives a request the policy does not deny."""
    return IMPLICIT if row in NEEDS_RESOURCE else ALLOWED


def test_every_example_has_expectations() -> None:
    assert sorted(POLICIES) == sorted(["default", *SINGLE_ACCOUNT_EXAMPLES, *PLAN_CASE_POLICIES])


@pytest.mark.parametrize("policy", POLICIES)
def test_no_mfa_nothing_but_self_service(matrices: dict[str, Matrix], policy: str) -> None:
    """Without MFA every request is explicitly denied except the self-service set (the access-key guard aside)."""
    e = EXPECT[policy]

    def decide(persona: str, row: str) -> str:
        return unless_resource_policy(row) if row in e.exempt() and not e.guard_denies(persona, row) else DENIED

    check(matrices[policy], cells(e.no_mfa_personas(), ALL_ROWS, decide), BESIDE)


@pytest.mark.parametrize("policy", POLICIES)
def test_access_keys_unaffected_by_default(matrices: dict[str, Matrix], policy: str) -> None:
    """Long-term access keys (no MFA key) lose nothing but the guarded credential changes, unless enforced."""
    e = EXPECT[policy]

    def decide(persona: str, row: str) -> str:
        if e.guard_denies(persona, row):
            return DENIED
        return unless_resource_policy(row) if e.access_keys == "unaffected" or row in e.exempt() else DENIED

    check(matrices[policy], cells(["access-key"], ALL_ROWS, decide), BESIDE)


@pytest.mark.parametrize("policy", POLICIES)
def test_access_key_cannot_change_mfa_login_profile_credentials_or_federate(
    matrices: dict[str, Matrix], policy: str
) -> None:
    """A leaked long-term key cannot take over the console (MFA, login profile, a federated console session) nor
    mint a credential that survives its rotation; an MFA session (GetSessionToken with a code) can."""
    e = EXPECT[policy]
    expected = cells(["access-key"], GUARDED, DENIED if e.credential_guard else ALLOWED)
    check(matrices[policy], expected, BESIDE)
    if e.credential_guard:
        check(matrices[policy], expected, ALONE)
        for persona, user, row in expected:
            sid = {FEDERATION: "DenyFederationWithAccessKey"}.get(row, "DenyCredentialChangesWithAccessKey")
            if row in CREDENTIAL_ISSUING:
                sid = "DenyCredentialCreationWithoutMFA"
            assert sid in matrices[policy][persona, user, row, ALONE].sids
    check(matrices[policy], cells(["sts-mfa"], GUARDED, ALLOWED), BESIDE)


@pytest.mark.parametrize("policy", POLICIES)
def test_removing_mfa_needs_mfa(matrices: dict[str, Matrix], policy: str) -> None:
    """Without MFA, no one removes an MFA device (unless exempt, as the seed did). With device_names = username,
    deleting the own-named device is exempt: IAM deletes it only while it is not enabled (an unfinished enrolment)."""
    e = EXPECT[policy]

    def decide(persona: str, row: str) -> str:
        if e.guard_denies(persona, row):
            return DENIED
        return ALLOWED if e.mfa_removal == "exempt" or row in e.exempt() else DENIED

    check(matrices[policy], cells(e.no_mfa_personas(), MFA_REMOVAL, decide), BESIDE)
    check(matrices[policy], cells(WITH_MFA, MFA_REMOVAL, ALLOWED), ALONE)


@pytest.mark.parametrize("policy", POLICIES)
def test_login_profile_changes_need_mfa(matrices: dict[str, Matrix], policy: str) -> None:
    e = EXPECT[policy]

    def decide(persona: str, row: str) -> str:
        return ALLOWED if e.login_profile == "exempt" and not e.guard_denies(persona, row) else DENIED

    check(matrices[policy], cells(e.no_mfa_personas(), LOGIN_PROFILE, decide), BESIDE)
    check(matrices[policy], cells(WITH_MFA, LOGIN_PROFILE, ALLOWED), ALONE)


@pytest.mark.parametrize("policy", POLICIES)
def test_nothing_on_another_user_without_mfa(matrices: dict[str, Matrix], policy: str) -> None:
    """Every request on carol's user or device is explicitly denied without MFA. Creating a device named "carol"
    is no exception to this: a virtual MFA device belongs to no one until enabled (test_any_device_name)."""
    e = EXPECT[policy]
    rows = CAROL_USER_ROWS | {"iam:DeleteVirtualMFADevice carol"}
    for mode in (ALONE, BESIDE):
        check(matrices[policy], cells(e.no_mfa_personas(), rows, DENIED), mode)


@pytest.mark.parametrize("policy", POLICIES)
def test_policy_alone_grants_nothing_on_another_user(matrices: dict[str, Matrix], policy: str) -> None:
    """Whoever calls, the policy alone allows nothing on carol's user."""
    granted = [
        k
        for k, c in matrices[policy].cells.items()
        if k[2] in CAROL_USER_ROWS and k[3] == ALONE and c.decision == ALLOWED
    ]
    assert not granted


@pytest.mark.parametrize("policy", POLICIES)
def test_other_users_unassigned_device_deletable_only_with_any_names(matrices: dict[str, Matrix], policy: str) -> None:
    """The documented trade-off of mfa_device_names = "any" (README, Known trade-offs): device names are not tied
    to users, so mfa/* also covers a device another user is enrolling. AWS refuses to delete a device while it
    is enabled for a user, and deactivating one is scoped to the caller's own user. Without MFA it stays denied."""
    granted = {
        persona
        for (persona, _user, row, mode), cell in matrices[policy].cells.items()
        if row == "iam:DeleteVirtualMFADevice carol" and mode == ALONE and cell.decision == ALLOWED
    }
    # Sessions without MFA that are not the user's own (a role's; a federated user's where keys are enforced) are
    # denied like the user's own sessions without MFA.
    without_mfa = {"role"} | ({"federated"} if EXPECT[policy].access_keys == "enforced" else set())
    allowed_personas = {p.key for p in PERSONAS} - set(EXPECT[policy].no_mfa_personas()) - without_mfa
    expected = allowed_personas if EXPECT[policy].device_names == "any" else set()
    assert granted == expected


@pytest.mark.parametrize("policy", POLICIES)
def test_with_mfa_nothing_denied(matrices: dict[str, Matrix], policy: str) -> None:
    check(matrices[policy], cells(WITH_MFA, ALL_ROWS, lambda p, r: unless_resource_policy(r)), BESIDE)


@pytest.mark.parametrize("policy", POLICIES)
def test_service_calls_not_denied(matrices: dict[str, Matrix], policy: str) -> None:
    """aws:ViaAWSService "true" with MFA "false": not denied, unless the policy does not exempt service calls (then
    exactly like a console session without MFA)."""
    e, m = EXPECT[policy], matrices[policy]
    if e.service_calls == "exempt":

        def decide(persona: str, row: str) -> str:
            # aws login, minting credentials and changing MFA or the login profile need MFA, even through a service
            return DENIED if e.guard_denies(persona, row) else unless_resource_policy(row)

        check(m, cells(["service"], ALL_ROWS, decide), BESIDE)
    else:
        for mode in (ALONE, BESIDE):

            def like_console(persona: str, row: str, mode: str = mode) -> str:
                return DENIED if e.guard_denies(persona, row) else m.decision("console", "alice", row, mode)

            check(m, cells(["service"], ALL_ROWS, like_console), mode)


@pytest.mark.parametrize("policy", POLICIES)
def test_self_service_allowed_by_policy_alone(matrices: dict[str, Matrix], policy: str) -> None:
    """With MFA the policy alone grants the self-service set and nothing else; without MFA, the exempt part of it."""
    e = EXPECT[policy]
    rows = [r for r in ALL_ROWS if r not in ("iam:DeleteVirtualMFADevice carol",)]  # its own test, above
    check(matrices[policy], cells(WITH_MFA, rows, lambda p, r: ALLOWED if r in e.granted() else IMPLICIT), ALONE)

    def without_mfa(persona: str, row: str) -> str:
        return DENIED if e.guard_denies(persona, row) else ALLOWED

    exempt_granted = e.exempt() - set(e.extra_exempt) - SIGN_IN_CONSOLE
    check(matrices[policy], cells(e.no_mfa_personas(), exempt_granted, without_mfa), ALONE)


@pytest.mark.parametrize("policy", POLICIES)
def test_any_device_name(matrices: dict[str, Matrix], policy: str) -> None:
    """Users may name their virtual MFA devices as they like (up to 8 per user), unless device_names = username."""
    e, m = EXPECT[policy], matrices[policy]
    create = {f"iam:CreateVirtualMFADevice {t}" for t in ("own", "own-other-name", "carol")}
    check(m, cells(e.no_mfa_personas(), create, lambda p, r: ALLOWED if r in e.devices() else DENIED), BESIDE)
    check(m, cells(WITH_MFA, create, lambda p, r: ALLOWED if r in e.devices() else IMPLICIT), ALONE)
    delete = ALLOWED if e.device_names == "any" else IMPLICIT
    check(m, cells(WITH_MFA, ["iam:DeleteVirtualMFADevice own-other-name"], delete), ALONE)


@pytest.mark.parametrize("policy", POLICIES)
def test_list_users_not_exempt(matrices: dict[str, Matrix], policy: str) -> None:
    e, m = EXPECT[policy], matrices[policy]
    if e.list_users == "exempt":
        for mode in (ALONE, BESIDE):
            check(m, cells([p.key for p in PERSONAS], ["iam:ListUsers"], ALLOWED), mode)
    else:
        check(m, cells(e.no_mfa_personas(), ["iam:ListUsers"], DENIED), BESIDE)
        check(m, cells(WITH_MFA, ["iam:ListUsers"], IMPLICIT), ALONE)


@pytest.mark.parametrize("policy", POLICIES)
def test_path_users_behave_like_root_path_users(matrices: dict[str, Matrix], policy: str) -> None:
    """bob (path /engineering/) gets exactly alice's decisions, from the same statements."""
    m = matrices[policy]
    alice, bob = (u.name for u in USERS)
    differ = [(p, r, mode) for (p, u, r, mode), cell in m.cells.items() if u == alice and cell != m[p, bob, r, mode]]
    assert not differ


@pytest.mark.parametrize("policy", POLICIES)
def test_role_session_without_mfa_gets_nothing_on_users(matrices: dict[str, Matrix], policy: str) -> None:
    """Attached to a role by mistake: a session without MFA has no aws:username, so no own-user exemption matches;
    only account-level exempt requests and device creation (mfa/*, or none with device_names = username) remain."""
    e, m = EXPECT[policy], matrices[policy]
    account_level = {r.key for r in ROWS if r.target == "-"}
    allowed = (e.exempt() & account_level) | {r for r in e.devices() if e.device_names == "any"}

    def decide(persona: str, row: str) -> str:
        return unless_resource_policy(row) if row in allowed else DENIED

    check(m, cells(["role"], ALL_ROWS, decide), BESIDE)


@pytest.mark.parametrize("policy", POLICIES)
def test_federated_session_is_treated_like_an_access_key(matrices: dict[str, Matrix], policy: str) -> None:
    """A GetFederationToken session carries no MFA key and no aws:username: the deny does not reach it unless
    access keys are enforced, which is why the guard denies GetFederationToken to long-term keys."""
    e, m = EXPECT[policy], matrices[policy]

    def decide(persona: str, row: str) -> str:
        if e.guard_denies(persona, row):
            return DENIED
        if e.access_keys == "enforced" and row not in e.exempt():
            return DENIED
        if e.access_keys == "enforced" and f"{row.split()[0]} own" in {f"{a} own" for a in EXEMPT_USER_ACTIONS}:
            return DENIED  # DenyOthersCredentialsIfNoMFA: with no aws:username, "own" is no one's
        return unless_resource_policy(row)

    check(m, cells(["federated"], ALL_ROWS, decide), BESIDE)


@pytest.mark.parametrize("policy", POLICIES)
def test_services_change_mfa_or_login_profile_only_with_mfa(matrices: dict[str, Matrix], policy: str) -> None:
    """AWS does not document which MFA context CloudFormation or Cloud Control forwards when it changes a login
    profile or an MFA device for the user: under the key guard such a change needs MFA "true". Enrolling in the
    console (aws:ViaAWSService "false") without MFA stays allowed."""
    e, m = EXPECT[policy], matrices[policy]
    assert e.credential_guard, "every policy of the matrix keeps the key guard: give this one its own expectations"
    for mode in (ALONE, BESIDE):
        check(m, cells(["service"], CONSOLE_TAKEOVER, DENIED), mode)
    for (persona, _user, row, _mode), cell in m.cells.items():
        if persona == "service" and row in CONSOLE_TAKEOVER:
            assert "DenyCredentialChangesThroughServiceWithoutMFA" in cell.sids, (row, cell.sids)
    check(m, cells(["console", "sts"], ["iam:EnableMFADevice own"], ALLOWED), BESIDE)
    check(m, cells(WITH_MFA, CONSOLE_TAKEOVER, ALLOWED), BESIDE)


@pytest.mark.parametrize("policy", POLICIES)
def test_role_assumption_needs_mfa_when_guarded(matrices: dict[str, Matrix], policy: str) -> None:
    """guard_role_assumption_from_access_keys: a key (or anything else without MFA) cannot assume a role or a member
    account's root; with MFA it can (sts:AssumeRole still needs the role's trust policy). Off, a key can."""
    e, m = EXPECT[policy], matrices[policy]
    without_mfa = ["access-key", "federated", "service", "console", "sts"]
    if e.role_guard:
        for mode in (ALONE, BESIDE):
            check(m, cells(without_mfa, ROLE_ROWS, DENIED), mode)
        assert "DenyRoleAssumptionWithoutMFA" in m["access-key", "alice", "sts:AssumeRole", ALONE].sids
    else:
        check(m, cells(["access-key"], ROLE_ROWS, lambda p, r: unless_resource_policy(r)), BESIDE)
    check(m, cells(WITH_MFA, ROLE_ROWS, lambda p, r: unless_resource_policy(r)), BESIDE)


@pytest.mark.parametrize("policy", POLICIES)
def test_aws_login_needs_mfa_and_a_service_token_follows_its_credentials(
    matrices: dict[str, Matrix], policy: str
) -> None:
    """aws login's clients and a browser authorisation for an AWS service need MFA, whatever the request carries; a
    token for an AWS service signed with existing credentials is denied exactly where those credentials are: a key
    keeps it unless access keys are enforced."""
    e, m = EXPECT[policy], matrices[policy]
    everyone = [p.key for p in PERSONAS]
    for mode in (ALONE, BESIDE):
        check(m, cells([p for p in everyone if p not in WITH_MFA], CLI_SIGN_IN, DENIED), mode)
    check(m, cells(WITH_MFA, CLI_SIGN_IN | {SERVICE_TOKEN}, ALLOWED), BESIDE)
    check(m, cells(e.no_mfa_personas() + ["role"], [SERVICE_TOKEN], DENIED), BESIDE)
    key_token = DENIED if e.access_keys == "enforced" else ALLOWED
    check(m, cells(["access-key", "federated"], [SERVICE_TOKEN], key_token), BESIDE)


@pytest.mark.parametrize("policy", POLICIES)
def test_unfinished_enrolment_can_be_restarted(matrices: dict[str, Matrix], policy: str) -> None:
    """device_names = username: the only device a user may create is mfa/<user>, so one left unassigned by an
    interrupted enrolment must be deletable without MFA (IAM refuses to delete it once enabled); no other device
    is. With any names the user picks another name (tests/module/test_interrupted_enrolment.py)."""
    e, m = EXPECT[policy], matrices[policy]
    if e.device_names != "username":
        check(m, cells(["console"], ["iam:CreateVirtualMFADevice own-other-name"], ALLOWED), BESIDE)
        return
    for mode in (ALONE, BESIDE):
        check(m, cells(["console", "sts"], ["iam:DeleteVirtualMFADevice own"], ALLOWED), mode)
    others = ["iam:DeleteVirtualMFADevice own-other-name", "iam:DeleteVirtualMFADevice carol"]
    check(m, cells(["console", "sts"], others, DENIED), BESIDE)
