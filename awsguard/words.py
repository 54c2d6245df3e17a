"""awsguard's shared vocabulary: one home for every word more than one module uses.

* the credential providers, by their botocore method names, in the CLI's chain order, with the
  long words messages use and the short word a prompt uses;
* the rules, with their default severity and the few words a prompt shows for them;
* the error classes the CLI can raise, as a prompt names them;
* :func:`clean`, the one display function every value from a file or the environment passes
  through before a person sees it.

A leaf: it imports nothing, so every layer (predict, judge, present, host, the commands) can
use it without creating a cycle.  Standard library only, nothing at import time: the shim and
the prompt import it on their hot paths.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# -- the providers ------------------------------------------------------------------------------
# botocore/credentials.py METHOD names: a public contract (explain JSON "source", "provider").

ENV = "env"
ASSUME_ROLE = "assume-role"
WEB_IDENTITY = "assume-role-with-web-identity"
SSO = "sso"
SHARED_CREDENTIALS = "shared-credentials-file"
LOGIN = "login"
PROCESS = "custom-process"
CONFIG_FILE = "config-file"
EC2_CREDENTIALS_FILE = "ec2-credentials-file"
BOTO_CONFIG = "boto-config"
CONTAINER = "container-role"
IMDS = "iam-role"

# method -> (how messages name it, the prompt's one word), in the CLI's chain order.
SOURCES: dict[str, tuple[str, str]] = {
    ENV: ("the access keys in the environment", "env"),
    ASSUME_ROLE: ("the role in role_arn", "role"),
    WEB_IDENTITY: ("the web identity role", "web-id"),
    SSO: ("the SSO configuration", "sso"),
    SHARED_CREDENTIALS: ("the access keys in the credentials file", "keys"),
    LOGIN: ("the aws login session", "login"),
    PROCESS: ("credential_process", "process"),
    CONFIG_FILE: ("the access keys in the config file", "config-keys"),
    EC2_CREDENTIALS_FILE: ("the keys in AWS_CREDENTIAL_FILE", "keys-file"),
    BOTO_CONFIG: ("the keys in the boto config", "boto"),
    CONTAINER: ("the container credentials endpoint", "container"),
    IMDS: ("the instance metadata role", "imds"),
}
ORDER: tuple[str, ...] = tuple(SOURCES)

# The providers that come before the login provider: configured for a logged-in profile, each
# of them shadows the session.
BEFORE_LOGIN: frozenset[str] = frozenset(ORDER[: ORDER.index(LOGIN)])

# The providers that read a profile's own settings: what a role's source profile can resolve to.
PROFILE_PROVIDERS = (WEB_IDENTITY, SSO, SHARED_CREDENTIALS, LOGIN, PROCESS, CONFIG_FILE)

# Providers that answer over the network (a local endpoint, the instance metadata service):
# offline, awsguard can say the CLI would ask them, never whether they will answer.
ASKS_THE_NETWORK: frozenset[str] = frozenset({CONTAINER, IMDS})

# A logged-in session's kind -> the provider that uses it.
SESSION_METHOD = {"login": LOGIN, "sso": SSO}
SESSION_WORDS = {"login": "aws login", "sso": "SSO"}


def source_long(method: str | None) -> str:
    """How a provider is named in messages ("the access keys in the credentials file")."""
    if method is None:
        return "no credentials"
    words = SOURCES.get(method)
    return words[0] if words else clean(method, 40)


def source_short(method: str | None, default: str = "?") -> str:
    """A provider in one word, for a prompt ("keys")."""
    words = SOURCES.get(method or "")
    return words[1] if words else default


# Where the profile name came from (Resolution.profile_from) -> words.
PROFILE_FROM = {
    "--profile": "from --profile",
    "AWS_PROFILE": "from AWS_PROFILE",
    "AWS_DEFAULT_PROFILE": "from AWS_DEFAULT_PROFILE",
    "implicit": "no profile named: default",
}


def profile_from_words(source: str) -> str:
    """``from AWS_PROFILE``, ``no profile named: default``…"""
    return PROFILE_FROM.get(source, source)


# -- the rules ---------------------------------------------------------------------------------

OFF, INFO, WARN, BLOCK = "off", "info", "warn", "block"
SEVERITIES = (OFF, INFO, WARN, BLOCK)
RANK = {OFF: -1, INFO: 0, WARN: 1, BLOCK: 2}

LOGIN_SHADOWED = "login-shadowed"
ACCOUNT_MISMATCH = "account-mismatch"
EXPECTED_ACCOUNT = "expected-account"
ENV_OVERRIDES_PROFILE = "env-overrides-profile"
PROFILE_ENV_DISAGREE = "profile-env-disagree"
READ_ONLY = "read-only"
LOGIN_EXPIRED = "login-expired"


class Rule:
    """One rule: its name, default severity, and how a prompt shows it.

    ``alert``: the prompt's words for it (None: built from the resolution, or not shown).
    ``per_operation``: judged per command (``aws s3 rm``), so a prompt cannot judge it.
    """

    __slots__ = ("alert", "default", "name", "per_operation")

    def __init__(
        self, name: str, default: str, alert: str | None, *, per_operation: bool = False
    ) -> None:
        self.name = name
        self.default = default
        self.alert = alert
        self.per_operation = per_operation


# The rules and their defaults (docs/ARCHITECTURE.md, "Rules and defaults"), in report order.
RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(LOGIN_SHADOWED, BLOCK, None),  # "login shadowed by <source>"
        Rule(ACCOUNT_MISMATCH, BLOCK, "account != login"),
        Rule(EXPECTED_ACCOUNT, BLOCK, "unexpected account"),
        Rule(ENV_OVERRIDES_PROFILE, WARN, "env keys override profile"),
        Rule(PROFILE_ENV_DISAGREE, WARN, "AWS_PROFILE != AWS_DEFAULT_PROFILE"),
        Rule(READ_ONLY, BLOCK, None, per_operation=True),
        Rule(LOGIN_EXPIRED, INFO, None),
    )
}

# -- errors ------------------------------------------------------------------------------------

# The botocore exception the CLI would raise -> how a prompt names it.
ERROR_WORDS = {
    "ProfileNotFound": "no such profile",
    "NoCredentialsError": "no credentials",
    "ConfigParseError": "config unreadable",
    "PartialCredentialsError": "partial keys",
    "InvalidConfigError": "bad config",
    "InfiniteLoopConfigError": "role loop",
    "LoginTokenLoadError": "no login token",
    "UsageError": "bad command line",
}

# -- accounts ----------------------------------------------------------------------------------

# Where an account id was learnt (Resolution identity "account_from") -> words.
ACCOUNT_FROM = {
    "key-id": "decoded from the key id",
    "aws_account_id": "declared by aws_account_id",
    "AWS_ACCOUNT_ID": "declared by AWS_ACCOUNT_ID",
    "login-cache": "from the login cache",
    "login_session": "from the login session ARN",
    "sso_account_id": "from sso_account_id",
    "role_arn": "from role_arn",
}


def account_words(account: str | None, account_from: str | None) -> str:
    """``account 123456789012 (decoded from the key id)``, or what we cannot tell."""
    if not account:
        return "an account awsguard cannot tell offline"
    how = ACCOUNT_FROM.get(account_from or "")
    return f"account {clean(account, 40)}" + (f" ({how})" if how else "")


# -- awsguard's own settings -------------------------------------------------------------------


def _seconds(value: str) -> str | None:
    """A positive number of seconds below an hour, or why not."""
    try:
        seconds = float(value)
    except ValueError:
        return "not a number"
    return None if 0 < seconds < 3600 else "not between 0 and 3600"


class Variable:
    """One ``AWSGUARD_*`` environment variable: its default, what it accepts, what it does.

    ``accepted``: the exact values allowed (``""`` means unset is fine), or None for any text
    that ``check`` (if given) accepts.  ``accepts``: the words an error message uses.
    """

    __slots__ = ("accepted", "accepts", "check", "default", "help", "name")

    def __init__(
        self,
        name: str,
        default: str,
        help: str,
        accepted: tuple[str, ...] | None = None,
        *,
        check: Callable[[str], str | None] | None = None,
        accepts: str = "",
    ) -> None:
        self.name = name
        self.default = default
        self.help = help
        self.accepted = accepted
        self.check = check
        self.accepts = accepts or ", ".join(v for v in accepted or () if v) + (
            ", or unset" if accepted and "" in accepted else ""
        )

    def problem(self, value: str) -> str | None:
        """Why ``value`` is not valid, or None."""
        if self.accepted is not None and value not in self.accepted:
            return "not one of the accepted values"
        if self.check is not None and value:
            return self.check(value)
        return None


# Every variable awsguard reads: the one table each is validated from (judge/settings.py
# check_environment for the whole environment, value() for one).
VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable(
            "AWSGUARD",
            "",
            "off: the shim passes every call straight through",
            ("", "on", "off"),
            accepts="off (pass every call straight through), on, or unset",
        ),
        Variable(
            "AWSGUARD_MODE",
            "",
            "warn: never block, only warn; strict: warnings and internal errors block",
            ("", "warn", "strict"),
            accepts="warn (never block), strict (warnings and errors block), or unset",
        ),
        Variable(
            "AWSGUARD_CONFIG",
            "",
            "the policy file (default ${XDG_CONFIG_HOME:-~/.config}/awsguard/config.toml)",
        ),
        Variable(
            "AWSGUARD_TIMEOUT",
            "2",
            "seconds of its own CPU time the shim may take to decide; past that aws runs "
            "unchecked (strict mode: blocks)",
            check=_seconds,
            accepts="a number of seconds between 0 and 3600, e.g. 2 or 0.5",
        ),
        Variable("AWSGUARD_AWS", "", "absolute path of the real aws (skips the PATH search)"),
        Variable(
            "AWSGUARD_CLI_MAJOR",
            "",
            "follow CLI v1 or v2 rules whatever aws is found",
            ("", "1", "2"),
        ),
        Variable(
            "AWSGUARD_HOME",
            "",
            "where `awsguard install` puts the aws shim (default ~/.local/share/awsguard)",
        ),
        Variable("AWSGUARD_DEBUG", "", "1 shows tracebacks of internal errors", ("", "0", "1")),
        Variable(
            "AWSGUARD_PROMPT_FORMAT",
            "aws:{profile} {source} {account} {region} {expires} {marker}",
            "layout of the prompt segment; fields {profile} {source} {account} {region} "
            "{expires} {marker} {verdict}, {{ and }} for braces",
        ),
        Variable(
            "AWSGUARD_PROMPT_AUTO",
            "1",
            "0: `awsguard init` leaves PS1/RPROMPT alone and only sets $AWSGUARD_PROMPT",
            ("", "0", "1"),
        ),
        Variable(
            "AWSGUARD_PROMPT_SHOW",
            "context",
            "when the segment shows: with an AWS profile or credentials in play, always, or "
            "only for a warning, a block or an error",
            ("", "context", "always", "alert"),
        ),
        Variable(
            "AWSGUARD_PROMPT_ACCOUNT",
            "short",
            "the account in the prompt: its last 4 digits, or all 12",
            ("", "short", "full"),
        ),
    )
}


# -- the display function ----------------------------------------------------------------------

ELLIPSIS = "…"


def clean(text: str, limit: int = 200) -> str:
    """A value from a file or the environment, made safe to show a person.

    * **First line only.**  A value can span lines (configparser joins indented continuation
      lines into it) and the lines after the first may hold anything, a secret included: they
      are never shown.  A cut value ends in ``…``.
    * **Visible.**  C0/C1 controls and DEL become ``^X`` / ``\\xNN``; every other character
      that does not print itself (bidi controls, zero-width characters, lone surrogates,
      unassigned code points) becomes ``<U+XXXX>``.  Legitimate names are shown exactly.
    * **Bounded** to ``limit`` characters (at least 1), the ``…`` included.
    """
    limit = max(limit, 1)
    lines = text.splitlines()
    first = lines[0] if lines else ""
    cut = len(lines) > 1 or (bool(lines) and len(first) != len(text))
    if not (first.isascii() and first.isprintable()):
        out = []
        for ch in first:
            code = ord(ch)
            if code < 0x20 or code == 0x7F:
                out.append("^" + chr(code ^ 0x40))
            elif 0x80 <= code < 0xA0:
                out.append(f"\\x{code:02x}")
            elif not ch.isprintable():
                # Bidi controls ("Trojan Source"), zero-width characters, the BOM, lone
                # surrogates, unassigned and private-use code points, odd spaces: by number.
                out.append(f"<U+{code:04X}>")
            else:
                out.append(ch)
        first = "".join(out)
    if cut or len(first) > limit:
        return first[: limit - 1] + ELLIPSIS
    return first
