"""What ``awsguard fix`` can do about each finding: the remedies, as data (no I/O here).

One finding, one remedy:

* the keys of a credentials-file section shadow a profile's ``aws login`` session - directly, or
  through the ``source_profile`` of a role (rules ``login-shadowed``, ``account-mismatch``) -
  :class:`FileFix`: remove ``aws_access_key_id``, ``aws_secret_access_key``,
  ``aws_session_token`` and ``aws_security_token`` from that section, in whatever spelling the
  CLI accepted them (the lines come from :func:`awsguard.predict.inifile.layout`, which reads the
  file exactly as configparser does), and the header when nothing else is left in the section;
* keys in the environment win (``env-overrides-profile``, or ``login-shadowed`` by ``env``) -
  :class:`EnvFix`: a process cannot change its parent shell, so it is an ``unset`` line;
* anything else (SSO, web identity or a role ahead of a login, ``expected-account``,
  ``read-only``, keys inherited from ``[DEFAULT]``…) - :class:`Manual`: what to change, where.

Findings of severity ``info`` (an expired login) are notes, not problems to repair.
"""

from __future__ import annotations

from awsguard import words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsguard.judge.policy import Finding
    from awsguard.predict.inifile import Layout
    from awsguard.predict.resolver import Resolution

# The options the shared-credentials provider reads as credentials (botocore
# SharedCredentialProvider: ACCESS_KEY, SECRET_KEY, TOKENS = session and security token).
KEY_OPTIONS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
)
# What EnvProvider reads (botocore/credentials.py EnvProvider._build_mapping).
ENV_KEYS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
)
_SHADOW_RULES = ("login-shadowed", "account-mismatch")


class FileFix:
    """Remove (or move) the keys of credentials-file section ``section``."""

    __slots__ = ("header", "lines", "options", "path", "role", "rules", "section")

    def __init__(
        self,
        path: str,
        section: str,
        options: list[str],
        lines: list[tuple[int, int]],
        header: int | None,
        rules: list[str],
        role: str | None,
    ) -> None:
        self.path = path
        self.section = section  # also the profile whose login session is shadowed
        self.options = options  # option names, in file order
        self.lines = lines  # (first, last) line of each, 1-based, inclusive
        self.header = header  # the header's line, removed when nothing else is left
        self.rules = rules
        self.role = role  # the role profile sourced from this one, or None (direct)

    def removed_lines(self) -> list[int]:
        out = [n for first, last in self.lines for n in range(first, last + 1)]
        if self.header is not None:
            out.append(self.header)
        return sorted(out)


class EnvFix:
    """Environment keys win: unset them (only the shell that exported them can)."""

    __slots__ = ("names", "rules")

    def __init__(self, names: list[str], rules: list[str]) -> None:
        self.names = names
        self.rules = rules

    def shell(self) -> str:
        return "unset " + " ".join(self.names)


class Manual:
    """A finding fix cannot repair: what to change and where."""

    __slots__ = ("fix", "message", "rule", "severity", "where")

    def __init__(self, rule: str, severity: str, message: str, fix: str, where: str | None) -> None:
        self.rule = rule
        self.severity = severity
        self.message = message
        self.fix = fix
        self.where = where


class Target:
    """A credentials-file section whose keys shadow a login session."""

    __slots__ = ("origin", "profile", "role", "rules")

    def __init__(self, profile: str, role: str | None, origin: str | None) -> None:
        self.profile = profile
        self.role = role
        self.origin = origin
        self.rules: list[str] = []


class Triage:
    """The findings of one resolution, sorted by what fix can do about them."""

    def __init__(self) -> None:
        self.env: EnvFix | None = None
        self.targets: list[Target] = []
        self.manual: list[Manual] = []
        self.notes: list[Finding] = []
        self.broken: list[Finding] = []  # unusable keys that stop the CLI before the login


def _shadow_cases(res: Resolution) -> list[tuple[str, str, str | None, str | None]]:
    """(method, profile, role, origin) of each ``login-shadowed`` finding, in the policy's order:
    the profile's own session, then the role source profile's."""
    cases: list[tuple[str, str, str | None, str | None]] = []
    session = res.session
    if session is not None and session.kind == "login" and res.source in words.BEFORE_LOGIN:
        cases.append((res.source, res.chain_profile, None, res.found_origin()))
    source = res.source_session
    if (
        source is not None
        and source.kind == "login"
        and res.source_profile is not None
        and res.source_method in words.BEFORE_LOGIN
        and res.source_method in words.PROFILE_PROVIDERS
    ):
        assert res.source_method is not None
        cases.append((res.source_method, res.source_profile, res.chain_profile, None))
    return cases


def triage(res: Resolution, findings: list[Finding], environ: Mapping[str, str]) -> Triage:
    """Sort ``findings`` of ``res`` into an environment fix, credentials-file targets, manual
    changes and notes."""
    out = Triage()
    cases = _shadow_cases(res)
    shadow_index = 0
    targets: dict[str, Target] = {}
    env_rules: list[str] = []
    for finding in findings:
        if finding.severity == "info":
            out.notes.append(finding)
            continue
        method: str | None = None
        profile = res.chain_profile
        role: str | None = None
        origin: str | None = None
        if finding.rule == "login-shadowed" and shadow_index < len(cases):
            method, profile, role, origin = cases[shadow_index]
            shadow_index += 1
        elif finding.rule == "account-mismatch":
            method, origin = res.source, res.found_origin()
        elif finding.rule == "env-overrides-profile":
            method = words.ENV
        if method == words.ENV:
            env_rules.append(finding.rule)
        elif method == words.SHARED_CREDENTIALS:
            target = targets.get(profile)
            if target is None:
                target = targets[profile] = Target(profile, role, origin)
            target.rules.append(finding.rule)
        else:
            out.manual.append(
                Manual(finding.rule, finding.severity, finding.message, finding.fix, origin)
            )
    broken = res.error
    if (
        broken is not None
        and broken.provider == words.SHARED_CREDENTIALS
        and res.session is not None
        and res.session.kind == "login"
        and res.chain_profile not in targets
    ):
        # Keys the CLI cannot use (a key id without its secret) stop it before the login
        # session: no finding names them (nothing wins), but they shadow it all the same.
        from awsguard.judge.policy import Finding

        target = targets[res.chain_profile] = Target(res.chain_profile, None, broken.origin)
        target.rules.append("login-shadowed")
        out.broken.append(
            Finding(
                "login-shadowed",
                "block",
                f"profile '{res.chain_profile}' is logged in as {res.session.principal} (aws "
                f"login), but the CLI stops at the keys in the credentials file before it: "
                f"{broken.code}",
                "remove them",
            )
        )
    if env_rules:
        names = [name for name in ENV_KEYS if name in environ]
        out.env = EnvFix(names or list(ENV_KEYS[:3]), env_rules)
    out.targets = list(targets.values())
    return out


def file_fix(target: Target, layout: Layout, path: str) -> FileFix | Manual:
    """The lines to remove from the credentials file for ``target``, or why that cannot work."""
    rules = ",".join(target.rules)
    own = layout.options.get(target.profile)
    inherited = layout.defaults.get("aws_access_key_id")
    if inherited is not None:
        # [DEFAULT] is inherited by every section of the file: removing the key there changes
        # every profile, and removing it anywhere else changes nothing.
        return Manual(
            rules,
            "block",
            f"the access key of [{target.profile}] is inherited from the [DEFAULT] section of "
            "the credentials file, which every profile in it inherits",
            f"remove aws_access_key_id (and its secret) from [DEFAULT] in {path}:{inherited[0]}, "
            "and give the profiles that need keys their own",
            f"{path}:{inherited[0]}",
        )
    if own is None or "aws_access_key_id" not in own:
        return Manual(
            rules,
            "block",
            f"the keys of profile '{target.profile}' could not be found in the credentials file",
            f"remove them by hand from {path}",
            path,
        )
    keys = sorted((span, key) for key, span in own.items() if key in KEY_OPTIONS)
    rest = [key for key in own if key not in KEY_OPTIONS]
    header = None
    if not rest and not layout.defaults:
        # Nothing else in the section: the header goes too.  With a [DEFAULT] section the empty
        # section would still inherit its settings, so it stays.
        header = layout.headers.get(target.profile)
    return FileFix(
        path,
        target.profile,
        [key for _, key in keys],
        [span for span, _ in keys],
        header,
        list(target.rules),
        target.role,
    )


def proven(after: Resolution, fix: FileFix) -> bool:
    """After the edit: the profile (or the role's source profile) now gets its credentials from
    its login session - the login provider wins, or the CLI stops at it (no cached token yet:
    ``aws login`` is what remains to do)."""
    if fix.role is None:
        if after.chain_profile != fix.section:
            return False
        if after.source == words.LOGIN:
            return True
        return after.error is not None and after.error.provider == words.LOGIN
    if after.source_profile != fix.section:
        return False
    return any(
        step.provider == words.LOGIN and step.status in ("matched", "error")
        for step in after.source_steps
    )


def valid_section_name(name: str) -> str | None:
    """Why ``name`` cannot be written as a new ``[name]`` header, or None when it can
    (aws-cli PR #10163: no CR/LF; no bracket that would end the header early)."""
    if not name:
        return "it is empty"
    if name != name.strip():
        return "it starts or ends with white space"
    if not name.isprintable():
        return "it holds a control or invisible character"
    if "[" in name or "]" in name:
        return "it holds a square bracket"
    if name == "DEFAULT":
        return "[DEFAULT] is inherited by every section"
    if len(name) > 128:
        return "it is longer than 128 characters"
    return None
