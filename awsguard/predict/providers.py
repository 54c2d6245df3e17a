"""The CLI's credential provider chain as ordered data, predicted instead of loaded.

botocore/credentials.py ``create_credential_resolver`` builds the chain; ``CredentialResolver``
asks each provider in turn; the first one that returns credentials wins and one that raises aborts
the whole resolution.  :data:`PROVIDERS` is that list: one ``(METHOD, provider)`` pair per provider
class, in chain order, every provider a :data:`Provider` - a function of the :class:`Context` and
the :class:`Request` that answers, from files and environment only, one of three things:

* :class:`Found`  - this provider would return credentials (with what we know of the identity);
* a ``str``       - it would return None; the string says why, for ``explain``;
* :class:`CliError` raised - the CLI would raise this exception here.

:func:`walk` is ``CredentialResolver.load_credentials`` over such a table; the resolver runs it
over the whole chain, the assume-role provider over the profile providers of a source profile.
Network providers (container, instance metadata) and deferred ones (STS, SSO, ``credential_process``
output) are predicted from their configuration: awsguard never calls them.
"""

from __future__ import annotations

import os

from awsguard.host.fileio import decode_newlines, is_regular, read_regular
from awsguard.host.record import note_path, note_time
from awsguard.predict import identity, paths
from awsguard.predict.awsfiles import AwsFiles, Profile, Setting, split_words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import NoReturn

    Provider = Callable[["Context", "Request"], "Found | str"]

# The providers' METHOD names and the profile providers live in the shared vocabulary
# (awsguard/words.py); their order here is PROVIDERS', at the end of the module, which a test
# holds equal to words.ORDER.
from awsguard.words import (  # noqa: E402
    ASSUME_ROLE,
    BOTO_CONFIG,
    CONFIG_FILE,
    CONTAINER,
    EC2_CREDENTIALS_FILE,
    ENV,
    IMDS,
    LOGIN,
    PROCESS,
    PROFILE_PROVIDERS,
    SHARED_CREDENTIALS,
    SSO,
    WEB_IDENTITY,
)

# Where an error after the chain comes from (CliError.provider): create_client's token provider,
# and the client's own configuration.
SSO_TOKEN = "sso-token"
CLIENT = "client-config"

# CanonicalNameCredentialSourcer is given only these three; is_supported() is case-sensitive.
CREDENTIAL_SOURCES = {"Environment": ENV, "EcsContainer": CONTAINER, "Ec2InstanceMetadata": IMDS}


class CliError(Exception):
    """The error the CLI would raise: ``code`` is the exception's class name (botocore's or
    Python's), ``message`` a short, secret-free account of it, ``origin`` the setting behind it
    (``path:line`` or a variable name), ``provider`` the chain method that raised it (None for
    errors outside the chain; ``sso-token`` and ``client-config`` for the two checks
    ``create_client`` makes after the chain).

    Raised by providers; the resolver keeps the one that stops the CLI as ``Resolution.error``.
    """

    def __init__(
        self, code: str, message: str, origin: str | None = None, provider: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.origin = origin
        self.provider = provider
        # The assume-role provider: how far its chain got before the error (explain shows it).
        self.role: RoleChain | None = None


class IdentityFacts:
    """What is known offline about the principal a set of credentials belongs to."""

    __slots__ = ("account", "account_from", "expires", "key_id", "principal")

    def __init__(
        self,
        account: str | None = None,
        account_from: str | None = None,
        principal: str | None = None,
        expires: float | None = None,
        key_id: str | None = None,
    ) -> None:
        self.account = account
        self.account_from = account_from
        self.principal = principal
        self.expires = expires
        self.key_id = key_id


class Found:
    """A provider that would return credentials; ``role`` is set by the assume-role provider."""

    __slots__ = ("identity", "origin", "role", "why")

    def __init__(
        self, why: str, origin: str | None, facts: IdentityFacts, role: RoleChain | None = None
    ) -> None:
        self.why = why
        self.origin = origin
        self.identity = facts
        self.role = role


class Step:
    """One provider's part in a resolution."""

    __slots__ = ("origin", "provider", "status", "why")

    def __init__(self, provider: str, status: str, why: str, origin: str | None = None) -> None:
        self.provider = provider
        self.status = status  # matched | skipped | shadowed | error | unreachable
        self.why = why
        self.origin = origin


class Hop:
    """One role assumption of an assume-role chain, outermost first."""

    __slots__ = ("profile", "role_arn", "source")

    def __init__(self, profile: str, role_arn: str, source: str) -> None:
        self.profile = profile
        self.role_arn = role_arn
        self.source = source


class RoleChain:
    """The assume-role provider's work: the roles assumed, outermost first, and where the
    innermost one gets its credentials (a credential source, or a source profile's own chain)."""

    __slots__ = ("hops", "source_method", "source_profile", "source_steps")

    def __init__(self) -> None:
        self.hops: list[Hop] = []
        self.source_profile: str | None = None
        self.source_method: str | None = None
        self.source_steps: list[Step] = []


class Request:
    """What the chain asks every provider (frozen): the profile, and whether environment
    variables are off - an explicit ``--profile`` turns off the web-identity ones
    (``disable_env_vars``), and a role's source profile is always resolved with them off."""

    __slots__ = ("disable_env", "profile")
    profile: str
    disable_env: bool

    def __init__(self, profile: str, *, disable_env: bool) -> None:
        object.__setattr__(self, "profile", profile)
        object.__setattr__(self, "disable_env", disable_env)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Request is frozen: cannot set {name}")


class Walk:
    """What ``CredentialResolver.load_credentials`` did over a table of providers: a step for
    each provider up to the one that raised (the rest are never asked), the winner if any."""

    __slots__ = ("error", "found", "method", "steps")

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.method: str | None = None
        self.found: Found | None = None
        self.error: CliError | None = None


class Context:
    """Everything the providers read: environment, files, CLI facts, the clock."""

    def __init__(
        self,
        environ: Mapping[str, str],
        files: AwsFiles,
        *,
        crt: bool | None,
        now: float,
        major: int,
    ) -> None:
        self.environ = environ
        self.files = files
        self.crt = crt
        self.now = now
        self.major = major  # 1 or 2: the CLI major whose rules apply
        self._json: dict[str, object] = {}

    def read_json(self, path: str) -> object:
        """A ``JSONFileCache`` entry, read once per resolution (the login provider and the session
        report both read the login cache): :data:`ABSENT` where ``path in cache`` is false (not
        a regular file), ValueError where loading it fails (botocore turns that into KeyError),
        :class:`TooDeep` where the CLI's decoder runs out of stack."""
        if path not in self._json:
            try:
                self._json[path] = _load_json(path, self.major)
            except (ValueError, TooDeep) as exc:
                self._json[path] = exc
        value = self._json[path]
        if isinstance(value, ValueError | TooDeep):
            raise value
        return value

    def try_json(self, path: str) -> object:
        """Like :meth:`read_json`, with None for a missing or broken file."""
        try:
            value = self.read_json(path)
        except (ValueError, TooDeep):
            return None
        return None if value is ABSENT else value

    def timestamp(self, value: object, origin: str | None) -> float | None:
        """Parse an expiry the way botocore does (``dateutil.parser.parse``), or raise its error.

        ISO 8601 - what every AWS tool writes - is parsed here without any import.  Anything else
        goes to dateutil itself (a dependency of botocore, so present wherever awsguard is
        installed); only if it cannot be imported is the time taken as unknown.
        """
        if not isinstance(value, str):
            raise CliError(
                "TypeError",
                f"Parser must be a string or character stream, not {type(value).__name__}",
                origin,
            )
        ts = identity.parse_timestamp(value)
        if ts is not None:
            note_time(ts)
            return ts
        try:
            ts = _dateutil_parse(value)
        except ImportError:
            return None
        except Exception as exc:  # the exact class is the prediction
            raise CliError(type(exc).__name__, "the expiry time cannot be parsed", origin) from None
        if ts is not None:
            note_time(ts)
        return ts


def _dateutil_parse(value: str) -> float | None:
    from dateutil.parser import parse

    parsed = parse(value)
    try:
        return float(parsed.timestamp())
    except (OverflowError, ValueError, OSError):
        return None


# -- helpers ---------------------------------------------------------------------------------


def shown(value: object) -> str:
    """A file value as it may appear in a message or report.

    Only its first line: an accidentally indented ``aws_secret_access_key = …`` on the next line
    becomes a continuation of the value above it, and must never be printed.  Long values are cut.
    """
    if not isinstance(value, str):
        return "<nested value>"
    first, newline, _ = value.partition("\n")
    if len(first) > 200:
        return first[:200] + "…"
    return first + ("…" if newline else "")


def _text(setting: Setting | None) -> str | None:
    if setting is None:
        return None
    value = setting.value
    return value if isinstance(value, str) else None


def _key_identity(key_id: object, claim: str | None, claim_from: str) -> IdentityFacts:
    """Identity of static keys: the account decoded from the key id, else a declared one."""
    key = key_id if isinstance(key_id, str) else None
    decoded = identity.account_from_key_id(key) if key else None
    if decoded:
        return IdentityFacts(decoded, "key-id", None, None, key)
    if claim:
        return IdentityFacts(claim, claim_from, None, None, key)
    return IdentityFacts(None, None, None, None, key)


def _static_keys(profile: Profile, method: str, where: str) -> Found:
    # CredentialProvider._extract_creds_from_mapping: the key id triggers, a missing secret raises.
    key = profile["aws_access_key_id"]
    if "aws_secret_access_key" not in profile:
        raise CliError(
            "PartialCredentialsError",
            f"Partial credentials found in {method}, missing: aws_secret_access_key",
            key.origin,
        )
    claim = _text(profile.get("aws_account_id"))
    ident = _key_identity(key.value, shown(claim) if claim else None, "aws_account_id")
    return Found(f"aws_access_key_id is set in {where}", key.origin, ident)


def _arn_identity(arn: object, source: str) -> IdentityFacts:
    parsed = identity.parse_arn(arn) if isinstance(arn, str) else None
    account = parsed.account if parsed else None
    return IdentityFacts(account, source if account else None, shown(arn) if arn else None)


# -- 1. env ----------------------------------------------------------------------------------


def env(ctx: Context, req: Request) -> Found | str:
    """``EnvProvider``: ``AWS_ACCESS_KEY_ID`` non-empty selects it; the secret must follow."""
    e = ctx.environ
    if not e.get("AWS_ACCESS_KEY_ID", ""):
        return (
            "AWS_ACCESS_KEY_ID is empty"
            if "AWS_ACCESS_KEY_ID" in e
            else "AWS_ACCESS_KEY_ID is not set"
        )
    if not e.get("AWS_SECRET_ACCESS_KEY", ""):
        raise CliError(
            "PartialCredentialsError",
            "Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY",
            "AWS_SECRET_ACCESS_KEY",
        )
    expires = None
    expiration = e.get("AWS_CREDENTIAL_EXPIRATION", "")
    if expiration:
        expires = ctx.timestamp(expiration, "AWS_CREDENTIAL_EXPIRATION")
    ident = _key_identity(e["AWS_ACCESS_KEY_ID"], e.get("AWS_ACCOUNT_ID") or None, "AWS_ACCOUNT_ID")
    ident.expires = expires
    return Found("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set", "AWS_ACCESS_KEY_ID", ident)


# -- 2. assume-role --------------------------------------------------------------------------


def _has_role(profile: Profile) -> bool:
    # AssumeRoleProvider._has_assume_role_config_vars
    return "role_arn" in profile and "web_identity_token_file" not in profile


def _has_static(profile: Profile) -> bool:
    return "aws_secret_access_key" in profile or "aws_access_key_id" in profile


def assume_role(ctx: Context, req: Request) -> Found | str:
    """``AssumeRoleProvider``: the merged profile has ``role_arn`` (and no web identity file).

    The result (or the error) carries the :class:`RoleChain` walked: the roles from this profile
    to the one whose source has credentials of its own.
    """
    profile = ctx.files.merged(req.profile)
    if not _has_role(profile):
        if "role_arn" in profile:
            return "role_arn is set, but web_identity_token_file makes it a web-identity profile"
        return "no role_arn in the profile"
    chain = RoleChain()
    try:
        return _assume(ctx, req.profile, chain)
    except CliError as exc:
        exc.role = chain
        raise


# How many roles the CLI can chain (docs/hostile-inputs.md §4).  botocore follows source_profile by
# recursion, three frames per role while the chain loads and seven per role when the credentials
# are first used (each role's fetcher refreshes its source first); past sys.getrecursionlimit()
# the CLI dies of RecursionError.  Measured with the real `aws` v1 and PyPI's botocore behind
# the CLI (tests/test_depth.py): a chain of 135 roles fails at first use (134 for operations the
# CLI paginates: one frame deeper), and loading stops at 325 roles, where a configuration
# error further down is never reached (a few errors still surface at 325 or 326 roles: they are
# raised a frame or two higher).  v2 runs the same botocore code; unmeasured.
ROLES_AT_FIRST_USE = 135
ROLES_AT_LOAD = 325


def _too_deep(ctx: Context, chain: RoleChain, when: str) -> CliError:
    outer = chain.hops[0].profile
    return CliError(
        "RecursionError",
        f"maximum recursion depth exceeded {when}: the chain from profile {outer} assumes "
        f"{len(chain.hops)} roles or more, and the CLI follows source_profile by recursion",
        ctx.files.merged(outer)["role_arn"].origin,
    )


def _assume(ctx: Context, first: str, chain: RoleChain) -> Found:
    """``AssumeRoleProvider._load_creds_via_assume_role`` and its recursion through
    ``_resolve_source_credentials``, as a loop: one iteration per role."""
    name = first
    visited = [first]
    while True:
        profile = ctx.files.merged(name)
        role = profile["role_arn"]
        source_profile = profile.get("source_profile")
        credential_source = profile.get("credential_source")
        # AssumeRoleProvider._get_role_config
        if credential_source is not None and source_profile is not None:
            raise CliError(
                "InvalidConfigError",
                f'The profile "{name}" contains both source_profile and credential_source.',
                source_profile.origin,
            )
        if credential_source is None and source_profile is None:
            raise CliError(
                "PartialCredentialsError",
                "Partial credentials found in assume-role, missing: source_profile or credential_source",
                role.origin,
            )
        if credential_source is not None:
            source_name = credential_source.value
            if not isinstance(source_name, str) or source_name not in CREDENTIAL_SOURCES:
                raise CliError(
                    "InvalidConfigError",
                    f'The credential source "{shown(source_name)}" referenced in profile "{name}" is not valid.',
                    credential_source.origin,
                )
            method = _from_credential_source(ctx, source_name, name, credential_source.origin)
            chain.hops.append(Hop(name, shown(role.value), f"credential_source {source_name}"))
            chain.source_method = method
            return _role_found(ctx, chain)
        assert source_profile is not None
        source = source_profile.value
        _validate_source_profile(ctx, name, source, visited, source_profile.origin)
        assert isinstance(source, str)
        visited.append(source)
        chain.hops.append(Hop(name, shown(role.value), f"source_profile {source}"))
        if len(chain.hops) >= ROLES_AT_LOAD:
            raise _too_deep(ctx, chain, "while loading the role chain")
        # AssumeRoleProvider._resolve_credentials_from_profile
        source_cfg = ctx.files.merged(source)
        if _has_static(source_cfg) or not _has_role(source_cfg):
            chain.source_profile = source
            # A source profile's own chain: the profile providers, environment variables off.
            walked = walk(ctx, PROFILE_TABLE, Request(source, disable_env=True))
            chain.source_steps = walked.steps
            if walked.error is not None:
                raise walked.error
            if walked.found is None:
                raise CliError(
                    "InvalidConfigError",
                    f'The source profile "{source}" must have credentials.',
                    source_profile.origin,
                )
            chain.source_method = walked.method
            return _role_found(ctx, chain)
        name = source


def _role_found(ctx: Context, chain: RoleChain) -> Found:
    if len(chain.hops) >= ROLES_AT_FIRST_USE:
        raise _too_deep(ctx, chain, "when the role credentials are first used")
    # The outermost role is what the CLI runs as; report it.
    first = ctx.files.merged(chain.hops[0].profile)["role_arn"]
    facts = _arn_identity(first.value, "role_arn")
    detail = "via " + " -> ".join(h.profile for h in chain.hops)
    if chain.source_profile is not None and chain.source_method is not None:
        detail += f"; source credentials: {chain.source_method} of profile {chain.source_profile}"
    elif chain.source_method is not None:
        detail += f"; source credentials: {chain.source_method}"
    return Found(
        f"role_arn is set (assumed through STS at first use; {detail})", first.origin, facts, chain
    )


def _validate_source_profile(
    ctx: Context, parent: str, source: object, visited: list[str], origin: str
) -> None:
    # AssumeRoleProvider._validate_source_profile
    if not isinstance(source, str):
        raise CliError("TypeError", "unhashable type: 'dict'", origin)
    if not ctx.files.exists(source):
        raise CliError(
            "InvalidConfigError",
            f'The source_profile "{shown(source)}" referenced in the profile "{parent}" does not exist.',
            origin,
        )
    if source not in visited:
        return
    if source != parent or not _has_static(ctx.files.merged(source)):
        raise CliError(
            "InfiniteLoopConfigError",
            f"Infinite loop in credential configuration detected. Attempting to load from profile "
            f"{source} which has already been visited. Visited profiles: {', '.join(visited)}",
            origin,
        )


def _from_credential_source(ctx: Context, source: str, profile: str, origin: str) -> str:
    method = CREDENTIAL_SOURCES[source]
    result = provider(method)(ctx, Request(profile, disable_env=False))
    if isinstance(result, str):
        raise CliError(
            "CredentialRetrievalError",
            f"Error when retrieving credentials from {source}: No credentials found in "
            f"credential_source referenced in profile {profile}",
            origin,
        )
    return method


# -- 3. web identity -------------------------------------------------------------------------

_WEB_IDENTITY_ENV = {
    "web_identity_token_file": "AWS_WEB_IDENTITY_TOKEN_FILE",
    "role_arn": "AWS_ROLE_ARN",
    "role_session_name": "AWS_ROLE_SESSION_NAME",
}


def web_identity(ctx: Context, req: Request) -> Found | str:
    """``AssumeRoleWithWebIdentityProvider``: a token file path from env (present wins, even
    empty) or the profile; an explicit ``--profile`` turns the variables off."""
    profile = ctx.files.merged(req.profile)

    def get(key: str) -> tuple[object, str | None]:
        var = _WEB_IDENTITY_ENV[key]
        if not req.disable_env and var in ctx.environ:
            return ctx.environ[var], var
        setting = profile.get(key)
        if setting is not None:
            return setting.value, setting.origin
        return None, None

    token, token_origin = get("web_identity_token_file")
    if not token:
        if token == "":
            return "the web identity token file setting is empty"
        return "no web identity token file configured"
    role, _ = get("role_arn")
    if not role:
        raise CliError(
            "InvalidConfigError",
            "The provided profile or the current environment is configured to assume role with "
            "web identity but has no role ARN configured.",
            token_origin,
        )
    ident = _arn_identity(role, "role_arn")
    return Found(
        "a web identity token file and role ARN are configured (STS at first use)",
        token_origin,
        ident,
    )


# -- 4. SSO ----------------------------------------------------------------------------------

_SSO_REQUIRED = ("sso_role_name", "sso_account_id", "sso_start_url", "sso_region")


def sso_config(ctx: Context, profile_name: str) -> dict[str, Setting] | None:
    """``SSOProvider._load_sso_config``: None when not an SSO profile, raises when incomplete."""
    profile = ctx.files.merged(profile_name)
    if "sso_role_name" not in profile and "sso_account_id" not in profile:
        return None
    config = dict(profile)
    required: tuple[str, ...] = _SSO_REQUIRED
    session_name = profile.get("sso_session")
    if session_name is not None:
        if not isinstance(session_name.value, str):
            raise CliError("TypeError", "unhashable type: 'dict'", session_name.origin)
        session = ctx.files.sso_session(session_name.value)
        if session is None:
            raise CliError(
                "InvalidConfigError",
                f'The specified sso-session does not exist: "{shown(session_name.value)}"',
                session_name.origin,
            )
        for key, setting in session.items():
            mine = config.get(key)
            if mine is not None and mine.value != setting.value:
                raise CliError(
                    "InvalidConfigError",
                    f"The value for {key} is inconsistent between profile and sso-session.",
                    mine.origin,
                )
            config[key] = setting
        required = (*_SSO_REQUIRED, "sso_session")
    missing = [key for key in required if key not in config]
    if missing:
        raise CliError(
            "InvalidConfigError",
            f'The profile "{profile_name}" is configured to use SSO but is missing required '
            f"configuration: {', '.join(missing)}",
            ctx.files.header_origin(profile_name),
        )
    return config


def sso(ctx: Context, req: Request) -> Found | str:
    config = sso_config(ctx, req.profile)
    if config is None:
        return "no sso_account_id or sso_role_name in the profile"
    account = _text(config["sso_account_id"])
    account = shown(account) if account else None
    role = _text(config["sso_role_name"])
    ident = IdentityFacts(
        account, "sso_account_id" if account else None, f"sso role {shown(role)}" if role else None
    )
    state = sso_token_state(ctx, config)
    if state is not None:
        ident.expires = state[1]
    origin = (config.get("sso_account_id") or config["sso_role_name"]).origin
    return Found("the profile is configured for IAM Identity Center (SSO)", origin, ident)


def sso_token_state(ctx: Context, config: dict[str, Setting]) -> tuple[str, float | None] | None:
    """(state, expiry) of the SSO token the profile would use, read from its cache file."""
    session = config.get("sso_session")
    key = _text(session) if session is not None else _text(config.get("sso_start_url"))
    if key is None:
        return None
    path = os.path.join(paths.sso_cache_dir(ctx.environ), identity.sha1_hex(key) + ".json")
    token = ctx.try_json(path)
    if token is None:
        return ("missing", None)
    expires_at = token.get("expiresAt") if isinstance(token, dict) else None
    expires = identity.parse_timestamp(expires_at) if isinstance(expires_at, str) else None
    if expires is None:
        return ("valid", None)
    note_time(expires)
    return ("valid" if expires > ctx.now else "expired", expires)


def sso_token_provider_problem(ctx: Context, profile_name: str) -> CliError | None:
    """``SSOTokenProvider._load_sso_config``, run by every ``create_client`` after credentials.

    A profile naming an ``sso_session`` needs that section, non-empty, with ``sso_start_url`` and
    ``sso_region`` - even when other credentials win (botocore/tokens.py; session.create_client
    calls ``get_auth_token`` unconditionally).
    """
    profile = ctx.files.merged(profile_name)
    setting = profile.get("sso_session")
    if setting is None:
        return None
    name = setting.value
    if not isinstance(name, str):
        return CliError("TypeError", "unhashable type: 'dict'", setting.origin, SSO_TOKEN)
    session = ctx.files.sso_session(name)
    if not session:
        return CliError(
            "InvalidConfigError",
            f'The profile "{profile_name}" is configured to use the SSO token provider but the '
            f'"{shown(name)}" sso_session configuration does not exist.',
            setting.origin,
            SSO_TOKEN,
        )
    missing = [key for key in ("sso_start_url", "sso_region") if key not in session]
    if missing:
        return CliError(
            "InvalidConfigError",
            f'The profile "{profile_name}" is configured to use the SSO token provider but is '
            f"missing the following configuration: {missing}.",
            setting.origin,
            SSO_TOKEN,
        )
    return None


# -- 5. shared credentials file --------------------------------------------------------------


def shared_credentials(ctx: Context, req: Request) -> Found | str:
    """``SharedCredentialProvider``: the credentials file section of exactly this name."""
    section = ctx.files.credentials_profile(req.profile)
    if section is None:
        return f"no [{req.profile}] section in the credentials file"
    if "aws_access_key_id" not in section:
        return f"[{req.profile}] in the credentials file has no aws_access_key_id"
    return _static_keys(section, SHARED_CREDENTIALS, "the credentials file")


# -- 6. login --------------------------------------------------------------------------------


def login_cache_path(ctx: Context, session: str) -> str:
    # botocore/utils.py generate_login_cache_key: sha256 of the session ARN.
    return os.path.join(paths.login_cache_dir(ctx.environ), identity.sha256_hex(session) + ".json")


_LOGIN_REQUIRED = ("accessToken", "refreshToken", "dpopKey", "clientId")


def login(ctx: Context, req: Request) -> Found | str:
    """``LoginProvider``: the merged profile has ``login_session``; the cache is read eagerly."""
    profile = ctx.files.merged(req.profile)
    setting = profile.get("login_session")
    if setting is None:
        return "no login_session in the profile"
    if ctx.crt is False:
        raise CliError(
            "MissingDependencyException",
            "Missing Dependency: Using the login credential provider requires an additional "
            'dependency. You will need to pip install "botocore[crt]" before proceeding.',
            setting.origin,
        )
    session = setting.value
    if not isinstance(session, str):
        raise CliError("AttributeError", "'dict' object has no attribute 'encode'", setting.origin)
    path = login_cache_path(ctx, session)
    # JSONFileCache: "in" is os.path.isfile; loading errors (unreadable, not JSON) are a KeyError;
    # a file holding JSON null reads as "no token" (LoginCredentialFetcher checks `is None`).
    try:
        token = ctx.read_json(path)
    except ValueError:
        raise CliError("KeyError", f"the login cache file {path} is not valid JSON", path) from None
    except TooDeep as exc:
        # JSONFileCache catches only OSError and ValueError: the RecursionError goes through.
        raise CliError(
            "RecursionError",
            f"maximum recursion depth exceeded while decoding a JSON {exc.kind} from a unicode "
            f"string (the login cache file {path} is nested too deep)",
            path,
        ) from None
    if token is None or token is ABSENT:
        raise CliError(
            "LoginTokenLoadError",
            f"Error loading login session token: Unable to load a existing login session for "
            f"session {shown(session)}. Please reauthenticate with 'aws login'.",
            setting.origin,
        )
    fields = _login_fields(token, path)
    access = fields["accessToken"]
    values = []
    for key in ("accessKeyId", "secretAccessKey", "sessionToken", "expiresAt", "accountId"):
        if isinstance(access, dict):
            if key not in access:
                raise CliError("KeyError", f"the login cache has no accessToken.{key}", path)
            values.append(access[key])
        elif isinstance(access, list | str):
            raise CliError("TypeError", f"{type(access).__name__} indices must be integers", path)
        else:
            raise CliError(
                "TypeError", f"'{type(access).__name__}' object is not subscriptable", path
            )
    expires = ctx.timestamp(values[3], path)
    account = values[4] if isinstance(values[4], str) and values[4] else None
    ident = IdentityFacts(account, "login-cache" if account else None, shown(session), expires)
    if account is None:
        arn_account = _arn_identity(session, "login_session")
        ident.account, ident.account_from = arn_account.account, arn_account.account_from
    return Found("login_session is set and its cached token was found", setting.origin, ident)


def _login_fields(token: object, path: str) -> dict[str, object]:
    # LoginCredentialFetcher.load_cached_credentials: `key not in token` works on any container
    # (a list or a string too), then token['accessToken'] needs a mapping.
    if isinstance(token, dict | list | str):
        missing = [key for key in _LOGIN_REQUIRED if key not in token]
        if missing:
            raise CliError(
                "LoginTokenLoadError",
                "Error loading login session token: Failed to load access token from token "
                f"cache, missing required fields: {', '.join(missing)}.",
                path,
            )
        if isinstance(token, dict):
            return token
        raise CliError("TypeError", f"{type(token).__name__} indices must be integers", path)
    raise CliError("TypeError", f"argument of type '{type(token).__name__}' is not iterable", path)


def login_state(ctx: Context, session: str) -> tuple[str, float | None, str | None]:
    """(state, expiry, account) of a login session from its cache file, never raising."""
    path = login_cache_path(ctx, session)
    token = ctx.try_json(path)
    if not isinstance(token, dict):
        return ("missing", None, None)
    access = token.get("accessToken")
    if not isinstance(access, dict):
        return ("missing", None, None)
    account = access.get("accountId") if isinstance(access.get("accountId"), str) else None
    expires_at = access.get("expiresAt")
    expires = identity.parse_timestamp(expires_at) if isinstance(expires_at, str) else None
    if expires is None:
        return ("valid", None, account)
    note_time(expires)
    return ("valid" if expires > ctx.now else "expired", expires, account)


# -- 7. credential_process -------------------------------------------------------------------


def process(ctx: Context, req: Request) -> Found | str:
    """``ProcessProvider``: ``credential_process`` in the merged profile (run at selection by the
    CLI; never by awsguard).  A command that cannot start is predicted; its output is not."""
    profile = ctx.files.merged(req.profile)
    setting = profile.get("credential_process")
    if setting is None:
        return "no credential_process in the profile"
    command = setting.value
    if not isinstance(command, str):
        raise CliError("AttributeError", "'dict' object has no attribute 'read'", setting.origin)
    words = split_words(command)
    if words is None:  # an unbalanced quote: let shlex word the error
        import shlex

        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise CliError("ValueError", str(exc), setting.origin) from None
    if not words:
        raise CliError("IndexError", "credential_process is empty", setting.origin)
    if any("\x00" in word for word in words):
        # subprocess.Popen refuses it before it starts anything.
        raise CliError("ValueError", "embedded null byte", setting.origin)
    problem = _exec_problem(words[0], ctx.environ)
    if problem is not None:
        raise CliError(problem, f"credential_process cannot be started: {words[0]}", setting.origin)
    claim = _text(profile.get("aws_account_id"))
    ident = IdentityFacts(shown(claim) if claim else None, "aws_account_id" if claim else None)
    return Found(
        f"credential_process is set (runs {os.path.basename(words[0])})", setting.origin, ident
    )


def _exec_problem(program: str, environ: Mapping[str, str]) -> str | None:
    """The OSError subclass ``subprocess.Popen`` would raise for ``program``, or None.

    The CLI starts the process with its own environment; when awsguard predicts for the same
    environment, PATH is the same.  Mirrors _posixsubprocess: EACCES anywhere beats ENOENT.
    """
    if "/" in program:
        candidates = [program]
    else:
        path = environ.get("PATH", os.defpath)
        candidates = [os.path.join(d or ".", program) for d in path.split(os.pathsep)]
    saw_eacces = False
    for candidate in candidates:
        note_path(candidate)  # its type and mode are looked at, never its content
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if is_regular(st.st_mode) and os.access(candidate, os.X_OK):
            return None
        saw_eacces = True
    return "PermissionError" if saw_eacces else "FileNotFoundError"


# -- 8. config file --------------------------------------------------------------------------


def config_file(ctx: Context, req: Request) -> Found | str:
    """``ConfigProvider``: static keys in the config file's own profile (not the merged view)."""
    profile = ctx.files.config_profile(req.profile)
    if profile is None:
        return "the profile is not in the config file"
    if "aws_access_key_id" not in profile:
        return "no aws_access_key_id in the config file profile"
    return _static_keys(profile, CONFIG_FILE, "the config file")


# -- 9. AWS_CREDENTIAL_FILE ------------------------------------------------------------------


def ec2_credentials_file(ctx: Context, req: Request) -> Found | str:
    """``OriginalEC2Provider``: a key=value file named by ``AWS_CREDENTIAL_FILE`` (``~`` only)."""
    if "AWS_CREDENTIAL_FILE" not in ctx.environ:
        return "AWS_CREDENTIAL_FILE is not set"
    path = paths.expanduser(ctx.environ["AWS_CREDENTIAL_FILE"], ctx.environ)
    try:
        got = read_regular(path)
    except OSError:
        raise CliError(
            "ConfigNotFound",
            f"The specified config file ({path}) could not be found.",
            "AWS_CREDENTIAL_FILE",
        ) from None
    if got is None:
        # A FIFO or a device: the CLI's open() would wait on it; awsguard does not.
        raise CliError(
            "NotARegularFile",
            f"{path} is not a regular file: the CLI would block reading it",
            "AWS_CREDENTIAL_FILE",
        )
    raw = got[0]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(
            "UnicodeDecodeError", f"{path} is not valid UTF-8", "AWS_CREDENTIAL_FILE"
        ) from None
    # utils.parse_key_val_file_contents (text mode read: universal newlines, then splitlines).
    values: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    if "AWSAccessKeyId" not in values:
        return f"{path} has no AWSAccessKeyId"
    if "AWSSecretKey" not in values:
        raise CliError(
            "KeyError", f"{path} has AWSAccessKeyId but no AWSSecretKey", "AWS_CREDENTIAL_FILE"
        )
    return Found(
        f"AWSAccessKeyId is set in {path}",
        "AWS_CREDENTIAL_FILE",
        _key_identity(values["AWSAccessKeyId"], None, ""),
    )


# -- 10. boto config -------------------------------------------------------------------------


def boto_config(ctx: Context, req: Request) -> Found | str:
    """``BotoProvider``: ``[Credentials]`` in ``$BOTO_CONFIG`` only, else /etc/boto.cfg, ~/.boto."""
    from awsguard.predict import inifile

    if "BOTO_CONFIG" in ctx.environ:
        candidates = [ctx.environ["BOTO_CONFIG"]]
    else:
        candidates = ["/etc/boto.cfg", "~/.boto"]
    for candidate in candidates:
        path = paths.expand(candidate, ctx.environ)
        try:
            ini = inifile.load(path)
        except inifile.ParseError as exc:
            raise CliError(
                "ConfigParseError", f"Unable to parse config file: {path}", exc.path
            ) from None
        if ini is None:
            continue
        section = ini.section("Credentials")
        if section is None or "aws_access_key_id" not in section:
            continue  # BotoProvider.load moves on to the next candidate file
        key = section["aws_access_key_id"]
        if "aws_secret_access_key" not in section:
            raise CliError(
                "PartialCredentialsError",
                "Partial credentials found in boto-config, missing: aws_secret_access_key",
                f"{path}:{key.line}",
            )
        return Found(
            f"aws_access_key_id is set in {path}",
            f"{path}:{key.line}",
            _key_identity(key.value, None, ""),
        )
    return "no boto config file with [Credentials] aws_access_key_id"


# -- 11. container ---------------------------------------------------------------------------

_CONTAINER_RELATIVE = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
_CONTAINER_FULL = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
_CONTAINER_HOSTS = ("169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost")


def container(ctx: Context, req: Request) -> Found | str:
    """``ContainerProvider``: either URI variable present (even empty) selects it; the HTTP
    fetch happens at once in the CLI, so a failure there aborts the chain (not predictable)."""
    e = ctx.environ
    if _CONTAINER_RELATIVE not in e and _CONTAINER_FULL not in e:
        return "no container credentials URI in the environment"
    # fetch_creds: the Authorization header is built first, then a full URI is validated.
    token_file = e.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    token: str | None = None
    if token_file is not None:
        try:
            got = read_regular(token_file)
            if got is None:
                # A FIFO or a device: the CLI's open() would wait on it; awsguard does not.
                raise CliError(
                    "NotARegularFile",
                    f"{token_file} is not a regular file: the CLI would block reading it",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                )
            # Text mode, as the CLI reads it: universal newlines (only CR/LF presence matters).
            token = decode_newlines(got[0].decode("utf-8"))
        except OSError as exc:
            raise CliError(
                type(exc).__name__,
                "the container authorization token file cannot be read",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            ) from None
        except UnicodeDecodeError:
            raise CliError(
                "UnicodeDecodeError",
                "the container authorization token file is not UTF-8",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            ) from None
    elif "AWS_CONTAINER_AUTHORIZATION_TOKEN" in e:
        token = e["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    if token is not None and ("\r" in token or "\n" in token):
        raise CliError(
            "ValueError",
            "Auth token value is not a legal header value",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        )
    if _CONTAINER_RELATIVE in e:
        return Found(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set (fetched over HTTP)",
            _CONTAINER_RELATIVE,
            IdentityFacts(),
        )
    url = e[_CONTAINER_FULL]
    problem = _container_url_problem(url)
    if problem is not None:
        raise CliError("ValueError", problem, _CONTAINER_FULL)
    return Found(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI is set (fetched over HTTP)",
        _CONTAINER_FULL,
        IdentityFacts(),
    )


def _container_url_problem(url: str) -> str | None:
    # ContainerMetadataFetcher._validate_allowed_url: https anywhere; http only to loopback or
    # the listed hosts.
    from ipaddress import ip_address
    from urllib.parse import urlparse

    try:
        parsed = urlparse(url)
        host = parsed.hostname
    except ValueError as exc:
        return str(exc)
    if parsed.scheme == "https":
        return None
    try:
        if host is not None and ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    if host in _CONTAINER_HOSTS:
        return None
    return f"Unsupported host '{host}'.  Can only retrieve metadata from a loopback address or one of these hosts: {', '.join(_CONTAINER_HOSTS)}"


# -- 12. instance metadata -------------------------------------------------------------------


def imds(ctx: Context, req: Request) -> Found | str:
    """``InstanceMetadataProvider``: off only when AWS_EC2_METADATA_DISABLED is "true" in any
    case; otherwise the CLI asks the instance metadata service (1 s timeout by default)."""
    if ctx.environ.get("AWS_EC2_METADATA_DISABLED", "false").lower() == "true":
        return "AWS_EC2_METADATA_DISABLED is true"
    return Found(
        "would be tried: the CLI asks the EC2 instance metadata service (not checked offline)",
        None,
        IdentityFacts(),
    )


# -- the chain -------------------------------------------------------------------------------

# create_credential_resolver's list, in order: (METHOD, provider).
PROVIDERS: tuple[tuple[str, Provider], ...] = (
    (ENV, env),
    (ASSUME_ROLE, assume_role),
    (WEB_IDENTITY, web_identity),
    (SSO, sso),
    (SHARED_CREDENTIALS, shared_credentials),
    (LOGIN, login),
    (PROCESS, process),
    (CONFIG_FILE, config_file),
    (EC2_CREDENTIALS_FILE, ec2_credentials_file),
    (BOTO_CONFIG, boto_config),
    (CONTAINER, container),
    (IMDS, imds),
)
ORDER = tuple(method for method, _ in PROVIDERS)

# The profile providers (AssumeRoleProvider resolves a source profile with these).
PROFILE_TABLE = tuple((m, p) for m, p in PROVIDERS if m in PROFILE_PROVIDERS)


def provider(method: str) -> Provider:
    """The provider of ``method``."""
    for name, fn in PROVIDERS:
        if name == method:
            return fn
    raise KeyError(method)


def walk(ctx: Context, table: tuple[tuple[str, Provider], ...], req: Request) -> Walk:
    """``CredentialResolver.load_credentials`` over ``table``: the first provider with
    credentials wins, one that raises stops the walk.  Providers after the winner are probed
    (what they would do had it not been there) for ``explain``; none are asked after an error."""
    out = Walk()
    for method, fn in table:
        if out.found is not None:
            out.steps.append(_probe(ctx, method, fn, req))
            continue
        try:
            result = fn(ctx, req)
        except CliError as exc:
            exc.provider = method
            out.error = exc
            out.steps.append(Step(method, "error", exc.message, exc.origin))
            return out
        if isinstance(result, Found):
            out.method, out.found = method, result
            out.steps.append(Step(method, "matched", result.why, result.origin))
        else:
            out.steps.append(Step(method, "skipped", result))
    return out


def _probe(ctx: Context, method: str, fn: Provider, req: Request) -> Step:
    """A provider the CLI never asks because an earlier one won."""
    if method == IMDS:
        return Step(method, "skipped", "only asked when nothing earlier matched")
    try:
        result = fn(ctx, req)
    except CliError as exc:
        return Step(method, "shadowed", f"configured, but would fail: {exc.message}")
    if isinstance(result, Found):
        return Step(method, "shadowed", result.why)
    return Step(method, "skipped", result)


# -- JSON ------------------------------------------------------------------------------------


class _Absent:
    """The type of :data:`ABSENT`."""


ABSENT = _Absent()  # a JSONFileCache entry that is not there: `key in cache` is false


def _load_json(path: str, major: int) -> object:
    """``key in cache`` then ``json.load(open(path))``, as ``JSONFileCache`` does them:
    :data:`ABSENT` where ``os.path.isfile`` is false, ValueError for anything the load rejects,
    :class:`TooDeep` where the CLI's ``json.load`` would raise RecursionError."""
    try:
        got = read_regular(path)
    except OSError:
        # Not opened: a file that is there but unreadable fails the load; anything else (no
        # such path, a directory, a path os.stat cannot pass) is not in the cache.
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return ABSENT
        if not is_regular(st.st_mode):
            return ABSENT
        raise ValueError("unreadable") from None
    if got is None:
        return ABSENT  # a FIFO or a device: isfile() is false
    # json.load of a text-mode file: UTF-8 (a decode error is a ValueError too), universal
    # newlines, which JSON treats alike (whitespace outside strings, invalid inside them).
    return parse_json(decode_newlines(got[0].decode("utf-8")), major)


# How deep the CLI's json.load can nest arrays and objects (docs/hostile-inputs.md §4): the C
# decoder counts each level against the interpreter's recursion limit.  CLI v1 (Python 3.11:
# one limit, sys.getrecursionlimit() = 1000, shared with the Python frames below the call)
# raises RecursionError for a login cache nested 977 levels deep, measured with the real
# `aws` reading it (tests/test_depth.py).  CLI v2 bundles Python 3.12 or later, where C
# recursion has a limit of its own (at least 1500 levels on every release): 1400 is a depth
# every such v2 parses; deeper documents are predicted to fail there too, unmeasured.
JSON_DEPTH_LIMIT = {1: 977, 2: 1400}
# Fewer brackets than this cannot nest deep enough to matter: no scan.
_JSON_SHALLOW = 200


class TooDeep(Exception):
    """The CLI's json.load would raise RecursionError (at an array or an object)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "array" | "object"


def parse_json(text: str, major: int) -> object:
    """``json.loads(text)`` as the CLI's own decoder ends: the value, ValueError, or
    :class:`TooDeep` where the CLI's recursion limit is reached before any syntax error.

    awsguard's own stack is not the CLI's: documents nested deeper than a few hundred levels
    are parsed with the recursion limit raised just enough (never past the fixed bound of
    :data:`JSON_DEPTH_LIMIT`), so the answer does not depend on how deep awsguard is.
    """
    import json

    if text.count("[") + text.count("{") < _JSON_SHALLOW:
        return json.loads(text)
    limit = JSON_DEPTH_LIMIT[1 if major == 1 else 2]
    depth, at, kind = _json_depth(text, limit)
    if at is not None:
        # The decoder works left to right: a syntax error before the too-deep bracket, or a
        # bracket where no value may start, wins.  Both show with a value put in its place.
        try:
            _loads_deep(text[:at] + "null", depth)
        except json.JSONDecodeError as exc:
            if exc.pos < at + 4:
                raise
        raise TooDeep(kind)
    return _loads_deep(text, depth)


def _loads_deep(text: str, depth: int) -> object:
    """``json.loads`` with room for ``depth`` more levels than awsguard's own stack has."""
    import json
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(old + depth + 50)
    try:
        return json.loads(text)
    finally:
        sys.setrecursionlimit(old)


def _json_depth(text: str, limit: int) -> tuple[int, int | None, str]:
    """(deepest nesting of arrays and objects outside strings, stopping at ``limit``; the index
    of the bracket that reaches ``limit``, or None; its kind).  A loop, not a recursion."""
    import re

    depth = deepest = 0
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text, re.DOTALL):
        c = match.group()
        if c == "[" or c == "{":
            depth += 1
            if depth >= limit:
                return depth, match.start(), "array" if c == "[" else "object"
            deepest = max(deepest, depth)
        elif c == "]" or c == "}":
            depth = max(depth - 1, 0)
    return deepest, None, ""
