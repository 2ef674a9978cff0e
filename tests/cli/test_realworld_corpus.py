"""The real-world corpus (tests/data/realworld): MFA policies nobody here wrote, each with its source and a verdict
derived with iam-simulate (tools/realworld_verdicts.py). Every recorded open door is open, and every covered guard
denies a broad sample explicitly, for iam-simulate and for our evaluator alike; both also agree on every candidate
door in every attacker's context, so the recorded verdicts are what both engines say today."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from harness import realworld
from harness.oracle import Oracle, known_deviation
from mfa_required.audit import Principal, judge_policies
from mfa_required.evaluator import PolicySet, Request
from tools.realworld_verdicts import verdict

SLUGS = realworld.slugs()
ENTRIES = {slug: realworld.load(slug) for slug in SLUGS}


@pytest.fixture(scope="module")
def oracle() -> Any:
    with Oracle() as running:
        yield running


def test_the_corpus_covers_every_kind_of_guard() -> None:
    assert len(SLUGS) >= 15
    kinds = Counter(entry.expected["kind"] for entry in ENTRIES.values())
    assert set(kinds) == set(realworld.KINDS), kinds
    published = [e for e in ENTRIES.values() if "variant_of" not in e.source]
    assert len(published) >= 14  # the constructed variants say so in their source
    for entry in ENTRIES.values():
        assert entry.name and entry.notes and entry.policies
        assert "url" in entry.source or {"repository", "path", "commit"} <= set(entry.source), entry.slug
        assert entry.expected["covered"] == (entry.expected["kind"] == "complete"), entry.slug
        assert bool(entry.expected["open_doors"]) == (entry.expected["kind"] != "complete"), entry.slug
        PolicySet(entry.policies)  # our evaluator reads every published document


@pytest.mark.parametrize("slug", SLUGS)
def test_every_recorded_door_is_open_for_both_engines(oracle: Oracle, slug: str) -> None:
    entry = ENTRIES[slug]
    requests = [realworld.door_request(door) for door in entry.expected["open_doors"]]
    assert oracle.decide([(entry.judged, r) for r in requests], trusting=True) == ["Allowed"] * len(requests)
    ours = PolicySet(entry.judged)
    closed = [(r.action, r.resource, dict(r.context)) for r in requests if not realworld.opens(ours.evaluate(r), r)]
    assert not closed, closed


@pytest.mark.parametrize("slug", [s for s in SLUGS if ENTRIES[s].expected["covered"]])
def test_a_covered_guard_denies_the_broad_sample_for_both_engines(oracle: Oracle, slug: str) -> None:
    entry = ENTRIES[slug]
    sample = realworld.covered_sample()
    refused: list[str] = []
    theirs = oracle.decide([(entry.judged, r) for r in sample], refusals=refused)
    assert len(refused) < len(sample) // 20, refused  # actions the oracle's catalogue does not know
    ours = PolicySet(entry.judged)
    escaped = [
        (r.action, r.resource, dict(r.context), t, ours.evaluate(r).decision)
        for r, t in zip(sample, theirs, strict=True)
        if t not in ("ExplicitlyDenied", "") or ours.evaluate(r).decision != "ExplicitlyDenied"
    ]
    assert not escaped, escaped[:10]


@pytest.mark.parametrize("slug", SLUGS)
def test_the_recorded_verdict_is_the_oracles_and_ours_agrees_on_every_candidate(oracle: Oracle, slug: str) -> None:
    entry = ENTRIES[slug]
    assert verdict(oracle, entry) == dict(entry.expected)
    questions = [
        Request(action, resource, realworld.context(overrides), realworld.ALICE)
        for action, resource, overrides in realworld.door_questions(entry.policies)
    ]
    asked = [r for r in questions if not known_deviation(entry.judged, r)]
    theirs = oracle.decide([(entry.judged, r) for r in asked], trusting=True)
    ours = PolicySet(entry.judged)
    disagree = [
        (r.action, r.resource, dict(r.context), t)
        for r, t in zip(asked, theirs, strict=True)
        if realworld.opens(ours.evaluate(r), r) != (t == "Allowed")
    ]
    assert not disagree, disagree[:10]


# --- the audit's own verdicts, confirmed by iam-simulate ------------------------------------------------------------

DOORS_PER_USER = 16
ALICE = Principal("alice", "/", realworld.BASE_CONTEXT["aws:userid"], realworld.ACCOUNT)
PRINCIPALS = [
    (slug, principal)
    for slug in SLUGS
    for principal in [
        ALICE,
        *(
            Principal("alice", "/", ALICE.user_id, realworld.ACCOUNT, tags=tags)
            for tags in realworld.principal_tags(ENTRIES[slug].policies)
        ),
    ]
]


@pytest.mark.parametrize(
    ("slug", "principal"), PRINCIPALS, ids=[f"{s}-{'-'.join(p.tags) or 'untagged'}" for s, p in PRINCIPALS]
)
def test_the_audits_doors_are_open_and_its_covered_verdicts_denied_for_iam_simulate(
    oracle: Oracle, slug: str, principal: Principal
) -> None:
    """Every `covered` verdict of the audit and a sample of every user's open doors, for iam-simulate: each sampled
    door (spread over services, shapes and contexts) is allowed with `Allow *` beside the policies; a covered user's
    broad sample (an action of each service, the candidate doors, console and STS sessions) is explicitly denied."""
    entry = ENTRIES[slug]
    judgement = judge_policies(list(entry.policies), principal)
    if judgement.covered:
        assert not principal.tags  # the sample's requests are alice's, who has no tags
        sample = realworld.covered_sample()
        refused: list[str] = []
        answers = oracle.decide([(entry.judged, r) for r in sample], refusals=refused)
        assert len(refused) < len(sample) // 20, refused
        escaped = [
            (r.action, r.resource, a) for r, a in zip(sample, answers, strict=True) if a not in ("", "ExplicitlyDenied")
        ]
        assert not escaped, escaped[:10]
        return
    doors = realworld.door_sample(judgement.open_doors(), DOORS_PER_USER)
    requests = [realworld.audit_request(door, principal) for door in doors]
    asked = [r for r in requests if not known_deviation(entry.judged, r)]
    refused = []
    answers = oracle.decide([(entry.judged, r) for r in asked], trusting=True, refusals=refused)
    assert len(asked) - len(refused) >= min(len(doors), DOORS_PER_USER) // 2, refused
    closed = [(r.action, r.resource, a) for r, a in zip(asked, answers, strict=True) if a not in ("", "Allowed")]
    assert not closed, closed
