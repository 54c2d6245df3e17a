"""Judge a resolution: findings (rule, severity, message, fix) and a verdict.

The rules and their default severities are docs/ARCHITECTURE.md §5.3.  Each rule is a small function of a
:class:`~awsguard.predict.resolver.Resolution`; the verdict is the strongest severity found (``info``
never changes it).  Messages follow one voice: what will happen, why, and the exact fix.
"""

from __future__ import annotations

from awsguard import words
from awsguard.predict import paths
from awsguard.predict.identity import mask_key_id
from awsguard.words import BLOCK, RANK, RULES, WARN, account_words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsguard.judge.settings import Settings
    from awsguard.predict.argv import CliArgs
    from awsguard.predict.resolver import Resolution, Session


class Finding:
    __slots__ = ("fix", "message", "rule", "severity")

    def __init__(self, rule: str, severity: str, message: str, fix: str) -> None:
        self.rule = rule
        self.severity = severity
        self.message = message
        self.fix = fix


def judge(
    res: Resolution,
    environ: Mapping[str, str],
    severities: Mapping[str, str] | None = None,
    *,
    settings: Settings | None = None,
) -> tuple[list[Finding], str]:
    """Findings for ``res`` and the verdict: "allow", "warn" or "block".

    Severities come from the defaults, then the policy file's ``[rules]``, then ``severities``;
    the mode (``AWSGUARD_MODE`` or the file's ``mode``) is applied last: ``warn`` caps every
    block at warn, ``strict`` raises every warn to block.
    """
    table = {name: rule.default for name, rule in RULES.items()}
    mode = None
    if settings is not None:
        table.update(settings.rules)
        mode = settings.mode
    if severities:
        table.update(severities)
    ctx = _Ctx(res, environ, settings)
    findings: list[Finding] = []
    for rule, check in _CHECKS:
        severity = table.get(rule, "off")
        if severity == "off":
            continue
        if mode == "warn" and severity == BLOCK:
            severity = WARN
        elif mode == "strict" and severity == WARN:
            severity = BLOCK
        for message, fix in check(ctx):
            findings.append(Finding(rule, severity, message, fix))
    return findings, verdict(findings)


class _Ctx:
    """What a rule looks at: the resolution, the environment and the settings."""

    __slots__ = ("environ", "res", "settings")

    def __init__(
        self, res: Resolution, environ: Mapping[str, str], settings: Settings | None
    ) -> None:
        self.res = res
        self.environ = environ
        self.settings = settings

    @property
    def mode(self) -> str | None:
        return self.settings.mode if self.settings is not None else None


# -- operations: read or mutating -------------------------------------------------------------

# Operation names that only read.  Anything else, and anything unknown, counts as mutating.
_READ_PREFIXES = (
    "describe-",
    "list-",
    "get-",
    "head-",
    "batch-get-",
    "search-",
    "lookup-",
    "query",
    "scan",
    "select-",
    "estimate-",
    "simulate-",
    "validate-",
)
_READ_OPERATIONS = frozenset({"wait", "help"})
# High-level commands of a few services, each an explicit verdict.
_CUSTOM: dict[str, dict[str, bool]] = {
    "s3": {
        "ls": True,
        "presign": True,
        "cp": False,
        "mv": False,
        "rm": False,
        "sync": False,
        "mb": False,
        "rb": False,
        "website": False,
    },
    "logs": {"tail": True, "start-live-tail": True},
    "cloudformation": {"deploy": False, "package": False},
}


def is_read(args: CliArgs) -> bool:
    """Whether ``aws <command> <operation>`` only reads (describe/list/get/head/..., s3 ls)."""
    command, operation = args.command, args.operation
    if not command or not operation:
        return False  # `aws s3` alone is a usage error; unknown shapes count as mutating
    custom = _CUSTOM.get(command)
    if custom is not None and operation in custom:
        return custom[operation]
    if operation in _READ_OPERATIONS:
        return True
    return operation.startswith(_READ_PREFIXES)


def needs_confirmation(res: Resolution, settings: Settings | None) -> bool:
    """``confirm = true`` for the profile and the operation is not a read."""
    if settings is None or res.error is not None or res.source is None:
        return False
    return settings.profile(res.chain_profile).confirm and not is_read(res.args)


def verdict(findings: list[Finding]) -> str:
    worst = max((RANK[f.severity] for f in findings), default=-1)
    return "block" if worst >= RANK[BLOCK] else "warn" if worst >= RANK[WARN] else "allow"


# -- rules -----------------------------------------------------------------------------------


def _where(res: Resolution, origin: str | None, environ: Mapping[str, str]) -> str:
    if not origin:
        return ""
    return f" ({paths.display(origin, environ)})"


def _login_shadowed(ctx: _Ctx) -> list[tuple[str, str]]:
    res, environ = ctx.res, ctx.environ
    out = []
    session = res.session
    if session is not None and session.kind == "login" and res.source in words.BEFORE_LOGIN:
        out.append(
            _shadow_message(
                res, session, res.chain_profile, res.source, res.found_origin(), environ
            )
        )
    if (
        res.source_session is not None
        and res.source_session.kind == "login"
        and res.source_method in words.BEFORE_LOGIN
        and res.source_method in words.PROFILE_PROVIDERS
    ):
        origin = next((s.origin for s in res.source_steps if s.status == "matched"), None)
        message, fix = _shadow_message(
            res, res.source_session, res.source_profile or "", res.source_method, origin, environ
        )
        out.append((f"role source profile: {message}", fix))
    return out


def _shadow_message(
    res: Resolution,
    session: Session,
    profile: str,
    method: str,
    origin: str | None,
    environ: Mapping[str, str],
) -> tuple[str, str]:
    who = words.source_long(method)
    message = (
        f"profile '{profile}' is logged in as {session.principal} (aws login), but "
        f"{who}{_where(res, origin, environ)} come first in the CLI's chain"
    )
    if profile == res.chain_profile:
        message += (
            f": aws will run as {account_words(res.identity.account, res.identity.account_from)}"
        )
    return message, shadow_fix(method, profile, origin, environ)


def shadow_fix(method: str, profile: str, origin: str | None, environ: Mapping[str, str]) -> str:
    where = paths.display(origin.rpartition(":")[0], environ) if origin and ":" in origin else None
    if method == words.ENV:
        return "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN"
    if method == words.SHARED_CREDENTIALS and where:
        option = "" if profile == "default" else f" --profile {profile}"
        return (
            f"awsguard fix{option}, or delete aws_access_key_id, aws_secret_access_key (and "
            f"aws_session_token) from [{profile}] in {where}"
        )
    if method == words.SSO and where:
        return (
            f"remove the sso_* settings from profile '{profile}' in {where}, or use another profile"
        )
    if method == words.WEB_IDENTITY:
        return f"remove web_identity_token_file from profile '{profile}' (or unset AWS_WEB_IDENTITY_TOKEN_FILE)"
    if method == words.ASSUME_ROLE and where:
        return f"remove role_arn from profile '{profile}' in {where}, or use another profile"
    return f"remove the other credential settings from profile '{profile}'"


def _account_mismatch(ctx: _Ctx) -> list[tuple[str, str]]:
    res, environ = ctx.res, ctx.environ
    session = res.session
    if session is None or res.source is None or session.account is None:
        return []
    if res.source == words.SESSION_METHOD[session.kind]:
        return []
    if res.source == words.ASSUME_ROLE:
        return []  # a role is expected to live in another account than its source
    account = res.identity.account
    if account is None or account == session.account:
        return []
    kind = words.SESSION_WORDS[session.kind]
    return [
        (
            f"aws will run as {account_words(account, res.identity.account_from)} through "
            f"{res.source}, but profile '{res.chain_profile}' is signed in ({kind}) to account "
            f"{session.account}",
            shadow_fix(res.source, res.chain_profile, res.found_origin(), environ),
        )
    ]


def _env_overrides_profile(ctx: _Ctx) -> list[tuple[str, str]]:
    res, environ = ctx.res, ctx.environ
    if res.source != words.ENV or res.profile_from not in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
    ):
        return []
    key = environ.get("AWS_ACCESS_KEY_ID", "")
    return [
        (
            f"{res.profile_from}={res.profile} is set, but the access keys in the environment "
            f"({mask_key_id(key)}) win: the CLI ignores the profile's credentials and runs as "
            f"{account_words(res.identity.account, res.identity.account_from)}",
            f"unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN  (or pass --profile {res.profile})",
        )
    ]


def _profile_env_disagree(ctx: _Ctx) -> list[tuple[str, str]]:
    res = ctx.res
    values = res.profile_var_values
    if res.explicit_profile or len(values) < 2:
        return []
    if values["AWS_PROFILE"] == values["AWS_DEFAULT_PROFILE"]:
        return []
    return [
        (
            f"AWS_PROFILE={values['AWS_PROFILE']} and AWS_DEFAULT_PROFILE="
            f"{values['AWS_DEFAULT_PROFILE']} differ: CLI v2 uses the first, CLI v1 and boto3 the "
            f"second (this aws uses '{res.profile}')",
            "unset AWS_DEFAULT_PROFILE",
        )
    ]


def _login_expired(ctx: _Ctx) -> list[tuple[str, str]]:
    res = ctx.res
    session = res.session
    if session is None or session.kind != "login" or session.state == "valid":
        return []
    if session.state == "missing":
        message = (
            f"profile '{res.chain_profile}' has no cached aws login token for {session.principal}"
        )
    else:
        message = (
            f"the cached aws login token of profile '{res.chain_profile}' has expired; the CLI will try to "
            "refresh it over the network"
        )
    profile_arg = "" if res.chain_profile == "default" else f" --profile {res.chain_profile}"
    return [(message, f"aws login{profile_arg}")]


def _expected_account(ctx: _Ctx) -> list[tuple[str, str]]:
    res = ctx.res
    if ctx.settings is None or res.error is not None or res.source is None:
        return []
    expect = ctx.settings.profile(res.chain_profile).expect_account
    if expect is None:
        return []
    account = res.identity.account
    where = (
        f"[profiles.{res.chain_profile}] in {paths.display(ctx.settings.file or '', ctx.environ)}"
    )
    if account is None:
        if ctx.mode != "strict":
            return []
        return [
            (
                f"profile '{res.chain_profile}' must run in account {expect}, but which account "
                f"{res.source} uses cannot be told offline (strict mode)",
                f"run `awsguard verify --profile {res.chain_profile}`, or drop expect_account from {where}",
            )
        ]
    if account == expect:
        return []
    return [
        (
            f"profile '{res.chain_profile}' must run in account {expect}, but aws will run as "
            f"{account_words(account, res.identity.account_from)} through {res.source}",
            f"use the credentials of account {expect} for this profile, or change expect_account in {where}",
        )
    ]


def _read_only(ctx: _Ctx) -> list[tuple[str, str]]:
    res = ctx.res
    if ctx.settings is None or res.error is not None or res.source is None:
        return []
    if not ctx.settings.profile(res.chain_profile).read_only or is_read(res.args):
        return []
    op = " ".join(w for w in (res.args.command, res.args.operation) if w) or "this command"
    where = (
        f"[profiles.{res.chain_profile}] in {paths.display(ctx.settings.file or '', ctx.environ)}"
    )
    return [
        (
            f"profile '{res.chain_profile}' is read-only, and `aws {op}` is not known to only read",
            f"use another profile for changes, or set read_only = false in {where}",
        )
    ]


# Each rule's check, in the order findings are reported (every rule of words.RULES has one).
_CHECKS = (
    (words.LOGIN_SHADOWED, _login_shadowed),
    (words.ACCOUNT_MISMATCH, _account_mismatch),
    (words.EXPECTED_ACCOUNT, _expected_account),
    (words.READ_ONLY, _read_only),
    (words.ENV_OVERRIDES_PROFILE, _env_overrides_profile),
    (words.PROFILE_ENV_DISAGREE, _profile_env_disagree),
    (words.LOGIN_EXPIRED, _login_expired),
)
