"""User and account reports: the class of each user from its facts and the judgement of its policy set, the fix
(only towards a real guard), warnings, a leaked key's reach. The JSON contract is made from these dataclasses."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from mfa_required.audit.facts import AccessKey, AccountFacts, Described, PolicyRef, UserFacts
from mfa_required.audit.judge import (
    ANY,
    ANY_RESOURCE,
    Decision,
    GuardKind,
    Judgement,
    KeyEscalation,
    Principal,
    ScpLevels,
    _shape_phrase,
    _takeover,
    judge_policies,
    key_escalations,
    principal_class,
    scp_level_label,
    scp_partition_documents,
)
from mfa_required.evaluator import PolicyError, PolicySet

__all__ = [
    "CLASSES",
    "FAIL_ON",
    "SCHEMA",
    "AccountReport",
    "UserClass",
    "UserReport",
    "classify",
    "exit_status",
    "judge_account",
]

SCHEMA = "mfa-required-audit/2"
UNUSED_KEY_DAYS = 90
OPEN_DOOR_LIMIT = 200  # open_without_mfa entries per user in the JSON; the count says how many there are


class UserClass(Described):
    """A user's class: what its policies prove about a session without MFA, and whether MFA is enrolled."""

    PROTECTED = (
        "protected",
        "console password, every request of a session without MFA is denied (whole catalogue, every context), "
        "MFA enrolled",
        "green",
    )
    MUST_ENROL = (
        "must-enrol",
        "console password, every request of a session without MFA is denied, no MFA device yet: sent to enrol",
        "yellow",
    )
    EXPOSED = ("exposed", "console password and a session without MFA has an open door, no MFA device", "bold red")
    MFA_OPTIONAL = (
        "mfa-optional",
        "MFA enrolled, but a session without MFA has an open door: the MFA requirement does not hold",
        "magenta",
    )
    KEYS_ONLY = ("keys-only", "no console password: access keys only", "cyan")


CLASSES = {c.value: c.meaning for c in UserClass}
FAIL_ON = {
    "exposed": frozenset({UserClass.EXPOSED}),
    "unenrolled": frozenset({UserClass.EXPOSED, UserClass.MUST_ENROL}),
    "never": frozenset(),
}


def _json(name: str) -> Any:
    return field(metadata={"json": name})


@dataclass
class OpenDoor:
    action: str  # an action, or "service:*" when every action of the service is open
    resource: str  # the resource shape: own user, other users, any role, *, service:type...
    context: dict[str, Any]  # keys that differ from an ordinary request (None: absent); {}: any request
    actions: int = 1


@dataclass
class UserReport:
    account: str
    user: str
    path: str
    arn: str
    class_: UserClass = _json("class")
    guard: GuardKind = GuardKind.NO_GUARD
    reasons: list[str] = field(default_factory=list)
    covering_policies: list[str] = field(default_factory=list)
    covering_scps: list[str] = field(default_factory=list)  # the SCPs among covering_policies (--organization)
    fix: str | None = None
    console_password: bool | None = None
    mfa_active: bool | None = None
    groups: list[str] = field(default_factory=list)
    access_keys_active: int = 0
    keys_affected: bool = False
    keys_unused_90_days: list[str] = field(default_factory=list)
    open_without_mfa: list[OpenDoor] = field(default_factory=list)
    open_without_mfa_count: int = 0
    warnings: list[str] = field(default_factory=list)
    conditional_keys: dict[str, list[str]] = field(default_factory=dict)
    key_escalations: list[KeyEscalation] = field(default_factory=list)
    password_without_mfa_days: int | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return _to_json(self)


def _to_json(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.metadata.get("json", f.name): _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 3)
    return value


@dataclass
class AccountReport:
    account: str
    status: str  # "ok" | "error"
    users: list[UserReport] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds by step: reads, per-user reads, judgement
    credential_report_generated: datetime | None = None
    policy_sets: int = 0  # distinct policy sets judged
    judgements: int = 0  # judgements made: users the policies cannot tell apart share one
    scps: list[dict[str, Any]] | None = None  # the SCP levels judged with (--organization), root first; None: none

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(CLASSES, 0)
        for user in self.users:
            counts[user.class_.value] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "status": self.status,
            "error": self.error,
            "counts": self.counts,
            "warnings": self.warnings,
            "api_calls": sum(self.api_calls.values()),
            "api_calls_by_operation": self.api_calls,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "seconds_by_step": {k: round(v, 3) for k, v in self.timings.items()},
            "credential_report_generated": _to_json(self.credential_report_generated),
            "policy_sets": self.policy_sets,
            "judgements": self.judgements,
            "scps": self.scps,
        }


def classify(console_password: bool, mfa_active: bool, judgement: Judgement) -> tuple[UserClass, list[str]]:
    """The user's class and the reasons for it, in words."""
    reasons: list[str] = []
    if not console_password:
        reasons.append("no console password")
        if judgement.keys_affected:
            reasons.append(
                f"long-term access keys are denied without MFA too ({', '.join(judgement.keys_denied_by)}): "
                "the user needs an MFA session (sts get-session-token) to work"
            )
        else:
            reasons.append("long-term access keys keep working (the MFA requirement applies to sessions)")
        return UserClass.KEYS_ONLY, reasons
    reasons.append("console password set")
    kind = judgement.kind
    if kind is GuardKind.COMPLETE:
        reasons.append(
            f"every request of a session without MFA is denied by {', '.join(judgement.covering)} "
            f"({judgement.catalogue_size:,} actions in {judgement.classes} classes, every attacker context)"
        )
        if mfa_active:
            return UserClass.PROTECTED, [*reasons, "MFA device enrolled"]
        return UserClass.MUST_ENROL, [*reasons, "no MFA device yet: the console will only let the user set one up"]
    doors = judgement.summary()
    if kind is GuardKind.FAIL_OPEN:
        reasons.append(
            f"{', '.join(judgement.covering)} denies a session without MFA only while aws:ViaAWSService is present: "
            "AWS does not send that key for some services, and then the Deny does not apply (it fails open; "
            f"BoolIfExists instead of Bool on aws:ViaAWSService fails closed); open: {doors}"
        )
    elif kind is GuardKind.CONDITIONAL:
        keys = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(judgement.conditional_keys.items()))
        reasons.append(
            f"{', '.join(judgement.covering)} denies a session without MFA only for some values of keys the "
            f"attacker chooses (escaping values: {keys}); open: {doors}"
        )
    elif kind is GuardKind.PARTIAL:
        reasons.append(f"{', '.join(judgement.covering)} leaves doors open to a session without MFA: {doors}")
        if judgement.fails_open:
            reasons.append(
                "it also fails open: some of its denials stop when aws:ViaAWSService is absent (Bool instead of "
                "BoolIfExists on that key)"
            )
    elif kind is GuardKind.ALLOW_ONLY:
        reasons.append(
            "its policies grant with MFA conditions but deny nothing: any other grant works without MFA; open: " + doors
        )
    else:
        reasons.append(f"no policy denies a session without MFA; open: {doors}")
    if mfa_active:
        return UserClass.MFA_OPTIONAL, [*reasons, "MFA device enrolled, but nothing requires it"]
    return UserClass.EXPOSED, [*reasons, "no MFA device"]


def _principal(facts: UserFacts, account: str, partition: str) -> Principal:
    return Principal(facts.name, facts.path, facts.user_id or "AIDAUNKNOWN", account, partition, dict(facts.tags))


def _unused_keys(keys: Sequence[AccessKey], now: datetime) -> list[str]:
    out = []
    limit = now - timedelta(days=UNUSED_KEY_DAYS)
    for key in keys:
        if not key.active:
            continue
        if key.last_used is not None:
            if key.last_used < limit:
                out.append(f"access key {key.number}: last used {key.last_used:%Y-%m-%d}")
        elif key.created is not None and key.created < limit:
            out.append(f"access key {key.number}: never used, created {key.created:%Y-%m-%d}")
    return out


def _open_doors(judgement: Judgement) -> tuple[list[OpenDoor], int]:
    """The open doors as JSON entries: IAM/STS requests one by one, a whole open service as "service:*"; made once
    per judgement (users of one policy set share it)."""
    if "open_doors" in judgement.cache:
        doors, total = judgement.cache["open_doors"]
        return [dataclasses.replace(d, context=dict(d.context)) for d in doors], total
    from mfa_required.audit.judge import catalogue

    cat = catalogue()
    merged: dict[tuple[str, ...], OpenDoor] = {}
    total = 0
    for c in judgement.door_classes:
        if c.decision is not Decision.OPEN:
            continue
        total += len(c.actions)
        context_key = repr(sorted(c.context.items()))
        for service, actions in c.by_service():
            start, end = cat.services.get(service, (0, 0))
            if service not in ("iam", "sts") and len(actions) == end - start:
                # a whole service split over classes by resource shape: one entry per service and context
                key = (f"{service}:*", context_key)
                if key in merged:
                    merged[key].resource = ANY_RESOURCE
                else:
                    merged[key] = OpenDoor(f"{service}:*", c.resource, dict(c.context), len(actions))
                continue
            for action in actions:
                merged.setdefault((action, context_key, c.resource), OpenDoor(action, c.resource, dict(c.context)))
    # When the list is cut (a policy open everywhere has ~630 entries), what matters most stays: takeovers and ways
    # past the guard, the other IAM/STS requests (credentials, the own user's rights), then the widest doors.
    ranked = sorted(enumerate(merged.values()), key=lambda item: (_door_rank(item[1]), -item[1].actions, item[0]))
    doors = [door for _, door in ranked[:OPEN_DOOR_LIMIT]]
    judgement.cache["open_doors"] = (doors, total)
    return [dataclasses.replace(d, context=dict(d.context)) for d in doors], total


def _door_rank(door: OpenDoor) -> int:
    phrase = door.action if door.resource in (ANY, ANY_RESOURCE) else f"{door.action} on {_shape_phrase(door.resource)}"
    if _takeover(phrase):
        return 0
    return 1 if door.action.startswith(("iam:", "sts:")) else 2


class Judge:
    """Judges the users of one account; judgements shared by users with the same policies and principal facts."""

    def __init__(self, facts: AccountFacts) -> None:
        self.facts = facts
        self.cache: dict[tuple[Any, ...], Judgement] = {}
        self.set_labels: dict[tuple[int, ...], str] = {}
        self.candidates: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
        self.classes: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        levels = facts.scp_levels or []
        self.scps: ScpLevels | None = [
            (level.name, [(p.label(level), p.document) for p in level.policies]) for level in levels
        ] or None
        self.scp_labels = frozenset(label for _, level in self.scps or () for label, _ in level) | {
            scp_level_label(name) for name, _ in self.scps or ()
        }
        self.scp_documents = scp_partition_documents(self.scps)

    def judgement(self, refs: Sequence[PolicyRef], principal: Principal) -> Judgement:
        usable = [r for r in refs if r.document is not None]
        documents = [r.document for r in usable]
        ids = tuple(id(r.document) for r in usable)
        classes = self.classes.get((ids, principal.key()))
        if classes is None:
            classes = principal_class([*documents, *self.scp_documents], principal)  # type: ignore[list-item]
            self.classes[(ids, principal.key())] = classes
        key = (ids, tuple(r.label for r in usable), classes)
        found = self.cache.get(key)
        if found is None:
            found = judge_policies(documents, principal, [r.label for r in usable], self.scps)  # type: ignore[arg-type]
            self.cache[key] = found
            self.set_labels.setdefault(ids, ", ".join(r.name for r in usable) or "(none)")
        return found

    def _guards(self, refs: Sequence[PolicyRef], principal: Principal) -> bool:
        try:
            j = self.judgement(refs, principal)
        except PolicyError:
            return False
        return j.kind is GuardKind.COMPLETE and not j.enrol_denied_by

    def carriers(self, user: UserFacts, principal: Principal) -> list[tuple[str, str]]:
        """Groups, then customer managed policies, whose policy set alone is a complete guard for this user that
        lets it enrol. Candidates are found once per path and tags (a stand-in user of that path and those tags:
        what a policy can tell apart besides the name), then each is proved again for the user itself."""
        key = (principal.path, tuple(sorted(principal.tags.items())))
        found = self.candidates.get(key)
        if found is None:
            stand_in = dataclasses.replace(principal, name="mfa-required-stand-in", user_id="AIDAMFAREQUIREDSTANDIN")
            found = [
                ("group", g) for g, refs in sorted(self.facts.groups.items()) if refs and self._guards(refs, stand_in)
            ]
            found += [
                ("policy", ref.name)
                for ref in sorted(self.facts.managed_guards.values(), key=lambda r: r.name)
                if self._guards([ref], stand_in)
            ]
            self.candidates[key] = found
        out = []
        for kind, name in found:
            if kind == "group" and name in user.groups:
                continue
            refs = (
                self.facts.groups[name]
                if kind == "group"
                else [r for r in self.facts.managed_guards.values() if r.name == name]
            )
            if self._guards(refs, principal):
                out.append((kind, name))
                break  # the fix names the first that holds for the user
        return out

    def fix(self, user: UserFacts, principal: Principal, judgement: Judgement) -> str:
        guards = ", ".join(judgement.covering)
        prefix = ""
        if judgement.kind is GuardKind.FAIL_OPEN or judgement.fails_open:
            prefix = (
                f"make {guards} fail closed (BoolIfExists on aws:ViaAWSService, as the mfa_required module does), or "
            )
        elif judgement.kind is GuardKind.CONDITIONAL:
            keys = ", ".join(sorted(judgement.conditional_keys))
            prefix = f"make {guards} deny whatever the value of {keys} (those conditions let requests escape), or "
        if judgement.kind is GuardKind.PARTIAL and guards:
            prefix += f"remove from {guards} the exemptions that leave open {judgement.summary(limit=3)}, or "
        carriers = self.carriers(user, principal)
        groups = [name for kind, name in carriers if kind == "group"]
        policies = [name for kind, name in carriers if kind == "policy"]
        if groups:
            return f"{prefix}add {user.name} to group {' or '.join(groups)}, which requires MFA"
        if policies:
            return (
                f"{prefix}attach {policies[0]} to {user.name}: with the mfa_required module, add "
                f'"{user.name}" to its `users`'
            )
        return f'{prefix}apply the mfa_required module and add "{user.name}" to its `users` (or to its group)'

    def user(self, facts: UserFacts, now: datetime) -> UserReport:
        errors = list(facts.errors) + [f"{r.label}: {r.error}" for r in facts.policies if r.error]
        notes = list(facts.notes)  # the facts stay as read: judging twice must not add notes twice
        principal = _principal(facts, self.facts.account, self.facts.partition)
        usable = [r for r in facts.policies if r.document is not None]
        try:
            judgement = self.judgement(usable, principal)
        except PolicyError as e:
            bad = []
            for ref in usable:
                try:
                    PolicySet([ref.document])  # type: ignore[list-item]
                except PolicyError as one:
                    bad.append(ref)
                    errors.append(f"{ref.label}: not understood by the evaluator: {one}")
            if not bad:
                errors.append(f"the policies could not be evaluated together: {e}")
            usable = [r for r in usable if r not in bad] if bad else []
            judgement = self.judgement(usable, principal)
        if errors:
            notes.append(
                "judged without the policies listed in errors: they could only deny more, so a user judged "
                "protected stays protected, and one judged exposed may not be"
            )
        password = bool(facts.console_password)
        mfa = bool(facts.mfa_active)
        class_, reasons = classify(password, mfa, judgement)
        if facts.console_password is None:
            reasons.append("console password unknown (not in the credential report): judged as none")
        warnings: list[str] = []
        if class_ in (UserClass.PROTECTED, UserClass.MUST_ENROL):
            if judgement.warnings():
                warnings.append(
                    "open without MFA, reaching no other principal or resource: " + judgement.summary(Decision.WARNING)
                )
            if judgement.enrol_denied_by and class_ is UserClass.MUST_ENROL:
                warnings.append(
                    f"{', '.join(judgement.enrol_denied_by)} also denies enrolling an MFA device without MFA: "
                    "the user will be locked out"
                )
            if judgement.denied_with_mfa:
                notes.append(
                    f"{', '.join(judgement.denied_with_mfa)} denies some of the same requests with MFA too: a Deny, "
                    "not only an MFA requirement"
                )
        password_days = None
        if class_ is UserClass.MUST_ENROL and facts.password_since is not None:
            password_days = max(0, (now - facts.password_since).days)
            warnings.append(
                f"password without MFA for {password_days} days: until the user enrols, whoever has the password "
                "can enrol a device of their own"
            )
        escalations: list[KeyEscalation] = []
        if any(k.active for k in facts.access_keys):
            try:
                escalations = key_escalations(
                    [r.document for r in usable],  # type: ignore[misc]
                    principal,
                    self.facts.roles,
                    self.scps,
                )
            except PolicyError:
                escalations = []
            if escalations:
                warnings.append(
                    "a leaked access key can "
                    + "; ".join(
                        dict.fromkeys(
                            f"{e.action} ({e.why})" if e.action != "sts:AssumeRole" else f"assume {e.resource}"
                            for e in escalations
                        )
                    )
                )
        if facts.permissions_boundary:
            notes.append(f"has permissions boundary {facts.permissions_boundary} (not evaluated)")
        if not judgement.contexts_exhaustive:
            notes.append("too many condition values to combine all: contexts changing one or two keys were judged")
        exposed = class_ in (UserClass.EXPOSED, UserClass.MFA_OPTIONAL)
        doors, door_count = _open_doors(judgement) if exposed or not password else ([], 0)
        fix = self.fix(facts, principal, judgement) if exposed else None
        covering = list(judgement.covering) if judgement.kind in (GuardKind.COMPLETE, GuardKind.FAIL_OPEN) else []
        return UserReport(
            account=self.facts.account,
            user=facts.name,
            path=facts.path,
            arn=facts.arn,
            class_=class_,
            guard=judgement.kind,
            reasons=reasons,
            covering_policies=covering,
            covering_scps=[label for label in covering if label in self.scp_labels],
            fix=fix,
            console_password=facts.console_password,
            mfa_active=facts.mfa_active,
            groups=list(facts.groups),
            access_keys_active=sum(k.active for k in facts.access_keys),
            keys_affected=judgement.keys_affected,
            keys_unused_90_days=_unused_keys(facts.access_keys, now),
            open_without_mfa=doors,
            open_without_mfa_count=door_count,
            warnings=warnings,
            conditional_keys=dict(judgement.conditional_keys),
            key_escalations=escalations,
            password_without_mfa_days=password_days,
            notes=notes,
            errors=errors,
        )


def judge_account(facts: AccountFacts, now: datetime | None = None) -> AccountReport:
    now = now or datetime.now(timezone.utc)
    started = time.perf_counter()
    judge = Judge(facts)
    users = [judge.user(u, now) for u in facts.users]
    timings = {**facts.timings, "judgement": time.perf_counter() - started}
    return AccountReport(
        facts.account,
        "ok",
        users,
        None,
        facts.warnings,
        dict(facts.api_calls),
        facts.pages,
        timings=timings,
        credential_report_generated=facts.report_generated,
        policy_sets=len(judge.set_labels),
        judgements=len(judge.cache),
        scps=_scp_levels_json(facts),
    )


def _scp_levels_json(facts: AccountFacts) -> list[dict[str, Any]] | None:
    if facts.scp_levels is None:
        return None
    return [
        {
            "target": level.target_id,
            "type": level.target_type,
            "policies": [{"id": p.policy_id, "name": p.name, "aws_managed": p.aws_managed} for p in level.policies],
        }
        for level in facts.scp_levels
    ]


def exit_status(reports: Sequence[AccountReport], fail_on: str) -> int:
    """0, or 1 when --fail-on finds a user of its classes, or an account could not be audited (unless "never")."""
    classes = FAIL_ON[fail_on]
    if fail_on == "never":
        return 0
    if any(r.status != "ok" for r in reports):
        return 1
    return 1 if any(u.class_ in classes for r in reports for u in r.users) else 0
