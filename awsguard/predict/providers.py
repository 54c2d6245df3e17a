"""The CLI's credential provider chain as ordered data, predicted instead of loaded.

botocore/credentials.py ``create_credential_resolver`` builds the chain; ``CredentialResolver``
asks each provider in turn; the first one that returns credentials wins and one that raises aborts
the whole resolution.  Each function below mirrors one provider class under its ``METHOD`` name
and answers, from files and environment only, one of three things:

* :class:`Found`  - this provider would return credentials (with what we know of the identity);
* a ``str``       - it would return None; the string says why, for ``explain``;
* :class:`Failure` raised - the CLI would raise this exception here.

Network providers (container, instance metadata) and deferred ones (STS, SSO, ``credential_process``
output) are predicted from their configuration: awsguard never calls them.
"""

from __future__ import annotations

import os

from awsguard.host.fileio import decode_newlines, read_regular
from awsguard.host.record import note_path, note_time
from awsguard.predict import identity, paths
from awsguard.predict.awsfiles import AwsFiles, Profile, Setting, split_words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# Chain order (credentials.py create_credential_resolver + ProfileProviderBuilder.providers).
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

PROFILE_PROVIDERS = (WEB_IDENTITY, SSO, SHARED_CREDENTIALS, LOGIN, PROCESS, CONFIG_FILE)
ORDER = (ENV, ASSUME_ROLE, *PROFILE_PROVIDERS, EC2_CREDENTIALS_FILE, BOTO_CONFIG, CONTAINER, IMDS)

# CanonicalNameCredentialSourcer is given only these three; is_supported() is case-sensitive.
CREDENTIAL_SOURCES = {"Environment": ENV, "EcsContainer": CONTAINER, "Ec2InstanceMetadata": IMDS}


class Failure(Exception):
    """The CLI would raise ``code`` (a botocore exception class name) with roughly ``message``."""

    def __init__(self, code: str, message: str, origin: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.origin = origin


class Identity:
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
    """A provider that would return credentials."""

    __slots__ = ("detail", "identity", "origin", "why")

    def __init__(self, why: str, origin: str | None, ident: Identity, detail: str = "") -> None:
        self.why = why
        self.origin = origin
        self.identity = ident
        self.detail = detail


class Hop:
    """One role assumption of an assume-role chain, outermost first."""

    __slots__ = ("profile", "role_arn", "source")

    def __init__(self, profile: str, role_arn: str, source: str) -> None:
        self.profile = profile
        self.role_arn = role_arn
        self.source = source


class Context:
    """Everything the providers read: environment, files, CLI facts, the clock."""

    def __init__(
        self,
        environ: Mapping[str, str],
        files: AwsFiles,
        *,
        crt: bool | None,
        now: float,
    ) -> None:
        self.environ = environ
        self.files = files
        self.crt = crt
        self.now = now
        # Filled in by the assume-role provider for explain and policy.
        self.hops: list[Hop] = []
        self.source_profile: str | None = None
        self.source_steps: list[tuple[str, str, str]] = []  # (provider, status, why)
        self.source_method: str | None = None
        self._json: dict[str, object] = {}

    def read_json(self, path: str) -> object:
        """``json.load`` of a cache file, once per resolution (the login provider and the session
        report both read the login cache); ValueError where ``JSONFileCache`` would fail."""
        if path not in self._json:
            try:
                self._json[path] = _load_json_strict(path)
            except ValueError as exc:
                self._json[path] = exc
        value = self._json[path]
        if isinstance(value, ValueError):
            raise value
        return value

    def try_json(self, path: str) -> object:
        """Like :meth:`read_json`, with None for a missing or broken file."""
        try:
            return self.read_json(path)
        except ValueError:
            return None

    def timestamp(self, value: object, origin: str | None) -> float | None:
        """Parse an expiry the way botocore does (``dateutil.parser.parse``), or raise its error.

        ISO 8601 - what every AWS tool writes - is parsed here without any import.  Anything else
        goes to dateutil itself (a dependency of botocore, so present wherever awsguard is
        installed); only if it cannot be imported is the time taken as unknown.
        """
        if not isinstance(value, str):
            raise Failure(
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
            raise Failure(type(exc).__name__, "the expiry time cannot be parsed", origin) from None
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


def _key_identity(key_id: object, claim: str | None, claim_from: str) -> Identity:
    """Identity of static keys: the account decoded from the key id, else a declared one."""
    key = key_id if isinstance(key_id, str) else None
    decoded = identity.account_from_key_id(key) if key else None
    if decoded:
        return Identity(decoded, "key-id", None, None, key)
    if claim:
        return Identity(claim, claim_from, None, None, key)
    return Identity(None, None, None, None, key)


def _static_keys(profile: Profile, method: str, where: str) -> Found:
    # CredentialProvider._extract_creds_from_mapping: the key id triggers, a missing secret raises.
    key = profile["aws_access_key_id"]
    if "aws_secret_access_key" not in profile:
        raise Failure(
            "PartialCredentialsError",
            f"Partial credentials found in {method}, missing: aws_secret_access_key",
            key.origin,
        )
    claim = _text(profile.get("aws_account_id"))
    ident = _key_identity(key.value, shown(claim) if claim else None, "aws_account_id")
    return Found(f"aws_access_key_id is set in {where}", key.origin, ident)


def _arn_identity(arn: object, source: str) -> Identity:
    parsed = identity.parse_arn(arn) if isinstance(arn, str) else None
    account = parsed.account if parsed else None
    return Identity(account, source if account else None, shown(arn) if arn else None)


# -- 1. env ----------------------------------------------------------------------------------


def env(ctx: Context) -> Found | str:
    """``EnvProvider``: ``AWS_ACCESS_KEY_ID`` non-empty selects it; the secret must follow."""
    e = ctx.environ
    if not e.get("AWS_ACCESS_KEY_ID", ""):
        return (
            "AWS_ACCESS_KEY_ID is empty"
            if "AWS_ACCESS_KEY_ID" in e
            else "AWS_ACCESS_KEY_ID is not set"
        )
    if not e.get("AWS_SECRET_ACCESS_KEY", ""):
        raise Failure(
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


def assume_role(ctx: Context, profile_name: str) -> Found | str:
    """``AssumeRoleProvider``: the merged profile has ``role_arn`` (and no web identity file)."""
    profile = ctx.files.merged(profile_name)
    if not _has_role(profile):
        if "role_arn" in profile:
            return "role_arn is set, but web_identity_token_file makes it a web-identity profile"
        return "no role_arn in the profile"
    ctx.hops = []
    found = _assume(ctx, profile_name, [profile_name])
    return found


def _assume(ctx: Context, name: str, visited: list[str]) -> Found:
    profile = ctx.files.merged(name)
    role = profile["role_arn"]
    source_profile = profile.get("source_profile")
    credential_source = profile.get("credential_source")
    # AssumeRoleProvider._get_role_config
    if credential_source is not None and source_profile is not None:
        raise Failure(
            "InvalidConfigError",
            f'The profile "{name}" contains both source_profile and credential_source.',
            source_profile.origin,
        )
    if credential_source is None and source_profile is None:
        raise Failure(
            "PartialCredentialsError",
            "Partial credentials found in assume-role, missing: source_profile or credential_source",
            role.origin,
        )
    if credential_source is not None:
        source_name = credential_source.value
        if not isinstance(source_name, str) or source_name not in CREDENTIAL_SOURCES:
            raise Failure(
                "InvalidConfigError",
                f'The credential source "{shown(source_name)}" referenced in profile "{name}" is not valid.',
                credential_source.origin,
            )
        method = _from_credential_source(ctx, source_name, name, credential_source.origin)
        ctx.hops.append(Hop(name, shown(role.value), f"credential_source {source_name}"))
        ctx.source_method = method
        return _role_found(ctx, role)
    assert source_profile is not None
    source_value = source_profile.value
    _validate_source_profile(ctx, name, source_value, visited, source_profile.origin)
    assert isinstance(source_value, str)
    source = source_value
    visited.append(source)
    ctx.hops.append(Hop(name, shown(role.value), f"source_profile {source}"))
    # AssumeRoleProvider._resolve_credentials_from_profile
    source_cfg = ctx.files.merged(source)
    if _has_static(source_cfg) or not _has_role(source_cfg):
        found, source_method = _profile_chain(ctx, source)
        if found is None:
            raise Failure(
                "InvalidConfigError",
                f'The source profile "{source}" must have credentials.',
                source_profile.origin,
            )
        ctx.source_method = source_method
        return _role_found(ctx, role)
    return _assume(ctx, source, visited)


def _role_found(ctx: Context, role: Setting) -> Found:
    # The outermost role is what the CLI runs as; report it.
    outer = ctx.hops[0]
    ident = _arn_identity(ctx.files.merged(outer.profile)["role_arn"].value, "role_arn")
    via = " -> ".join(f"{h.profile}" for h in ctx.hops)
    detail = f"via {via}"
    if ctx.source_profile is not None and ctx.source_method is not None:
        detail += f"; source credentials: {ctx.source_method} of profile {ctx.source_profile}"
    elif ctx.source_method is not None:
        detail += f"; source credentials: {ctx.source_method}"
    first = ctx.files.merged(outer.profile)["role_arn"]
    return Found(
        f"role_arn is set (assumed through STS at first use; {detail})", first.origin, ident
    )


def _validate_source_profile(
    ctx: Context, parent: str, source: object, visited: list[str], origin: str
) -> None:
    # AssumeRoleProvider._validate_source_profile
    if not isinstance(source, str):
        raise Failure("TypeError", "unhashable type: 'dict'", origin)
    if not ctx.files.exists(source):
        raise Failure(
            "InvalidConfigError",
            f'The source_profile "{shown(source)}" referenced in the profile "{parent}" does not exist.',
            origin,
        )
    if source not in visited:
        return
    if source != parent or not _has_static(ctx.files.merged(source)):
        raise Failure(
            "InfiniteLoopConfigError",
            f"Infinite loop in credential configuration detected. Attempting to load from profile "
            f"{source} which has already been visited. Visited profiles: {', '.join(visited)}",
            origin,
        )


def _from_credential_source(ctx: Context, source: str, profile: str, origin: str) -> str:
    method = CREDENTIAL_SOURCES[source]
    if method == ENV:
        result: Found | str = env(ctx)
    elif method == CONTAINER:
        result = container(ctx)
    else:
        result = imds(ctx)
    if isinstance(result, str):
        raise Failure(
            "CredentialRetrievalError",
            f"Error when retrieving credentials from {source}: No credentials found in "
            f"credential_source referenced in profile {profile}",
            origin,
        )
    return method


def _profile_chain(ctx: Context, profile: str) -> tuple[Found | None, str | None]:
    """A source profile's own chain: the six profile providers, environment variables off."""
    ctx.source_profile = profile
    ctx.source_steps = []
    for method in PROFILE_PROVIDERS:
        try:
            result = run_profile_provider(ctx, method, profile, disable_env=True)
        except Failure as failure:
            ctx.source_steps.append((method, "error", failure.message))
            raise
        if isinstance(result, Found):
            ctx.source_steps.append((method, "matched", result.why))
            for later in PROFILE_PROVIDERS[PROFILE_PROVIDERS.index(method) + 1 :]:
                ctx.source_steps.append((later, *probe(ctx, later, profile, disable_env=True)))
            return result, method
        ctx.source_steps.append((method, "skipped", result))
    return None, None


def run_profile_provider(
    ctx: Context, method: str, profile: str, *, disable_env: bool
) -> Found | str:
    if method == WEB_IDENTITY:
        return web_identity(ctx, profile, disable_env)
    if method == SSO:
        return sso(ctx, profile)
    if method == SHARED_CREDENTIALS:
        return shared_credentials(ctx, profile)
    if method == LOGIN:
        return login(ctx, profile)
    if method == PROCESS:
        return process(ctx, profile)
    return config_file(ctx, profile)


def probe(ctx: Context, method: str, profile: str, *, disable_env: bool) -> tuple[str, str]:
    """Status of a provider the CLI never reaches because an earlier one won."""
    try:
        result = run_provider(ctx, method, profile, disable_env=disable_env)
    except Failure as failure:
        return "shadowed", f"configured, but would fail: {failure.message}"
    if isinstance(result, Found):
        return "shadowed", result.why
    return "skipped", result


def run_provider(ctx: Context, method: str, profile: str, *, disable_env: bool) -> Found | str:
    if method == ENV:
        return env(ctx)
    if method == ASSUME_ROLE:
        return assume_role(ctx, profile)
    if method in PROFILE_PROVIDERS:
        return run_profile_provider(ctx, method, profile, disable_env=disable_env)
    if method == EC2_CREDENTIALS_FILE:
        return ec2_credentials_file(ctx)
    if method == BOTO_CONFIG:
        return boto_config(ctx)
    if method == CONTAINER:
        return container(ctx)
    return imds(ctx)


# -- 3. web identity -------------------------------------------------------------------------

_WEB_IDENTITY_ENV = {
    "web_identity_token_file": "AWS_WEB_IDENTITY_TOKEN_FILE",
    "role_arn": "AWS_ROLE_ARN",
    "role_session_name": "AWS_ROLE_SESSION_NAME",
}


def web_identity(ctx: Context, profile_name: str, disable_env: bool) -> Found | str:
    """``AssumeRoleWithWebIdentityProvider``: a token file path from env (present wins, even
    empty) or the profile; an explicit ``--profile`` turns the variables off."""
    profile = ctx.files.merged(profile_name)

    def get(key: str) -> tuple[object, str | None]:
        var = _WEB_IDENTITY_ENV[key]
        if not disable_env and var in ctx.environ:
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
        raise Failure(
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
            raise Failure("TypeError", "unhashable type: 'dict'", session_name.origin)
        session = ctx.files.sso_session(session_name.value)
        if session is None:
            raise Failure(
                "InvalidConfigError",
                f'The specified sso-session does not exist: "{shown(session_name.value)}"',
                session_name.origin,
            )
        for key, setting in session.items():
            mine = config.get(key)
            if mine is not None and mine.value != setting.value:
                raise Failure(
                    "InvalidConfigError",
                    f"The value for {key} is inconsistent between profile and sso-session.",
                    mine.origin,
                )
            config[key] = setting
        required = (*_SSO_REQUIRED, "sso_session")
    missing = [key for key in required if key not in config]
    if missing:
        raise Failure(
            "InvalidConfigError",
            f'The profile "{profile_name}" is configured to use SSO but is missing required '
            f"configuration: {', '.join(missing)}",
            ctx.files.header_origin(profile_name),
        )
    return config


def sso(ctx: Context, profile_name: str) -> Found | str:
    config = sso_config(ctx, profile_name)
    if config is None:
        return "no sso_account_id or sso_role_name in the profile"
    account = _text(config["sso_account_id"])
    account = shown(account) if account else None
    role = _text(config["sso_role_name"])
    ident = Identity(
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


def sso_token_provider_problem(ctx: Context, profile_name: str) -> Failure | None:
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
        return Failure("TypeError", "unhashable type: 'dict'", setting.origin)
    session = ctx.files.sso_session(name)
    if not session:
        return Failure(
            "InvalidConfigError",
            f'The profile "{profile_name}" is configured to use the SSO token provider but the '
            f'"{shown(name)}" sso_session configuration does not exist.',
            setting.origin,
        )
    missing = [key for key in ("sso_start_url", "sso_region") if key not in session]
    if missing:
        return Failure(
            "InvalidConfigError",
            f'The profile "{profile_name}" is configured to use the SSO token provider but is '
            f"missing the following configuration: {missing}.",
            setting.origin,
        )
    return None


_S3_OVERRIDE_KEYS = ("s3_use_arn_region", "s3_us_east_1_regional_endpoint")
_S3_OVERRIDE_VARS = (
    "AWS_S3_USE_ARN_REGION",
    "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT",
    "AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS",
)


def s3_section_problem(ctx: Context, profile_name: str) -> Failure | None:
    """An empty ``s3 =`` breaks every ``create_client``, after the credentials are resolved.

    configprovider.SectionConfigProvider ignores a non-dict ``s3`` value only when it is truthy;
    an empty string reaches ``Config(s3='')``, whose validation calls ``s3.get`` - or, when an
    override (``AWS_S3_USE_ARN_REGION``, ``s3_use_arn_region`` …) is set, item assignment fails.
    """
    profile = ctx.files.merged(profile_name)
    setting = profile.get("s3")
    if setting is None or setting.value != "":
        return None
    if any(k in profile for k in _S3_OVERRIDE_KEYS) or any(
        v in ctx.environ for v in _S3_OVERRIDE_VARS
    ):
        return Failure("TypeError", "'str' object does not support item assignment", setting.origin)
    return Failure("AttributeError", "'str' object has no attribute 'get'", setting.origin)


# -- 5. shared credentials file --------------------------------------------------------------


def shared_credentials(ctx: Context, profile_name: str) -> Found | str:
    """``SharedCredentialProvider``: the credentials file section of exactly this name."""
    section = ctx.files.credentials_profile(profile_name)
    if section is None:
        return f"no [{profile_name}] section in the credentials file"
    if "aws_access_key_id" not in section:
        return f"[{profile_name}] in the credentials file has no aws_access_key_id"
    return _static_keys(section, SHARED_CREDENTIALS, "the credentials file")


# -- 6. login --------------------------------------------------------------------------------


def login_cache_path(ctx: Context, session: str) -> str:
    # botocore/utils.py generate_login_cache_key: sha256 of the session ARN.
    return os.path.join(paths.login_cache_dir(ctx.environ), identity.sha256_hex(session) + ".json")


_LOGIN_REQUIRED = ("accessToken", "refreshToken", "dpopKey", "clientId")


def login(ctx: Context, profile_name: str) -> Found | str:
    """``LoginProvider``: the merged profile has ``login_session``; the cache is read eagerly."""
    profile = ctx.files.merged(profile_name)
    setting = profile.get("login_session")
    if setting is None:
        return "no login_session in the profile"
    if ctx.crt is False:
        raise Failure(
            "MissingDependencyException",
            "Missing Dependency: Using the login credential provider requires an additional "
            'dependency. You will need to pip install "botocore[crt]" before proceeding.',
            setting.origin,
        )
    session = setting.value
    if not isinstance(session, str):
        raise Failure("AttributeError", "'dict' object has no attribute 'encode'", setting.origin)
    path = login_cache_path(ctx, session)
    # JSONFileCache: "in" is os.path.isfile; loading errors (unreadable, not JSON) are a KeyError;
    # a file holding JSON null reads as "no token" (LoginCredentialFetcher checks `is None`).
    token: object = None
    note_path(path)
    if os.path.isfile(path):
        try:
            token = ctx.read_json(path)
        except ValueError:
            raise Failure(
                "KeyError", f"the login cache file {path} is not valid JSON", path
            ) from None
    if token is None:
        raise Failure(
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
                raise Failure("KeyError", f"the login cache has no accessToken.{key}", path)
            values.append(access[key])
        elif isinstance(access, list | str):
            raise Failure("TypeError", f"{type(access).__name__} indices must be integers", path)
        else:
            raise Failure(
                "TypeError", f"'{type(access).__name__}' object is not subscriptable", path
            )
    expires = ctx.timestamp(values[3], path)
    account = values[4] if isinstance(values[4], str) and values[4] else None
    ident = Identity(account, "login-cache" if account else None, shown(session), expires)
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
            raise Failure(
                "LoginTokenLoadError",
                "Error loading login session token: Failed to load access token from token "
                f"cache, missing required fields: {', '.join(missing)}.",
                path,
            )
        if isinstance(token, dict):
            return token
        raise Failure("TypeError", f"{type(token).__name__} indices must be integers", path)
    raise Failure("TypeError", f"argument of type '{type(token).__name__}' is not iterable", path)


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


def process(ctx: Context, profile_name: str) -> Found | str:
    """``ProcessProvider``: ``credential_process`` in the merged profile (run at selection by the
    CLI; never by awsguard).  A command that cannot start is predicted; its output is not."""
    profile = ctx.files.merged(profile_name)
    setting = profile.get("credential_process")
    if setting is None:
        return "no credential_process in the profile"
    command = setting.value
    if not isinstance(command, str):
        raise Failure("AttributeError", "'dict' object has no attribute 'read'", setting.origin)
    words = split_words(command)
    if words is None:  # an unbalanced quote: let shlex word the error
        import shlex

        try:
            words = shlex.split(command)
        except ValueError as exc:
            raise Failure("ValueError", str(exc), setting.origin) from None
    if not words:
        raise Failure("IndexError", "credential_process is empty", setting.origin)
    problem = _exec_problem(words[0], ctx.environ)
    if problem is not None:
        raise Failure(problem, f"credential_process cannot be started: {words[0]}", setting.origin)
    claim = _text(profile.get("aws_account_id"))
    ident = Identity(shown(claim) if claim else None, "aws_account_id" if claim else None)
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
        note_path(candidate)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        import stat as stat_mod

        if stat_mod.S_ISREG(st.st_mode) and os.access(candidate, os.X_OK):
            return None
        saw_eacces = True
    return "PermissionError" if saw_eacces else "FileNotFoundError"


# -- 8. config file --------------------------------------------------------------------------


def config_file(ctx: Context, profile_name: str) -> Found | str:
    """``ConfigProvider``: static keys in the config file's own profile (not the merged view)."""
    profile = ctx.files.config_profile(profile_name)
    if profile is None:
        return "the profile is not in the config file"
    if "aws_access_key_id" not in profile:
        return "no aws_access_key_id in the config file profile"
    return _static_keys(profile, CONFIG_FILE, "the config file")


# -- 9. AWS_CREDENTIAL_FILE ------------------------------------------------------------------


def ec2_credentials_file(ctx: Context) -> Found | str:
    """``OriginalEC2Provider``: a key=value file named by ``AWS_CREDENTIAL_FILE`` (``~`` only)."""
    if "AWS_CREDENTIAL_FILE" not in ctx.environ:
        return "AWS_CREDENTIAL_FILE is not set"
    path = paths.expanduser(ctx.environ["AWS_CREDENTIAL_FILE"], ctx.environ)
    try:
        got = read_regular(path)
    except OSError:
        raise Failure(
            "ConfigNotFound",
            f"The specified config file ({path}) could not be found.",
            "AWS_CREDENTIAL_FILE",
        ) from None
    if got is None:
        # A FIFO or a device: the CLI's open() would wait on it; awsguard does not.
        raise Failure(
            "NotARegularFile",
            f"{path} is not a regular file: the CLI would block reading it",
            "AWS_CREDENTIAL_FILE",
        )
    raw = got[0]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure(
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
        raise Failure(
            "KeyError", f"{path} has AWSAccessKeyId but no AWSSecretKey", "AWS_CREDENTIAL_FILE"
        )
    return Found(
        f"AWSAccessKeyId is set in {path}",
        "AWS_CREDENTIAL_FILE",
        _key_identity(values["AWSAccessKeyId"], None, ""),
    )


# -- 10. boto config -------------------------------------------------------------------------


def boto_config(ctx: Context) -> Found | str:
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
            raise Failure(
                "ConfigParseError", f"Unable to parse config file: {path}", exc.path
            ) from None
        if ini is None:
            continue
        section = ini.section("Credentials")
        if section is None or "aws_access_key_id" not in section:
            continue  # BotoProvider.load moves on to the next candidate file
        key = section["aws_access_key_id"]
        if "aws_secret_access_key" not in section:
            raise Failure(
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


def container(ctx: Context) -> Found | str:
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
                raise Failure(
                    "NotARegularFile",
                    f"{token_file} is not a regular file: the CLI would block reading it",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                )
            # Text mode, as the CLI reads it: universal newlines (only CR/LF presence matters).
            token = decode_newlines(got[0].decode("utf-8"))
        except OSError as exc:
            raise Failure(
                type(exc).__name__,
                "the container authorization token file cannot be read",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            ) from None
        except UnicodeDecodeError:
            raise Failure(
                "UnicodeDecodeError",
                "the container authorization token file is not UTF-8",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            ) from None
    elif "AWS_CONTAINER_AUTHORIZATION_TOKEN" in e:
        token = e["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    if token is not None and ("\r" in token or "\n" in token):
        raise Failure(
            "ValueError",
            "Auth token value is not a legal header value",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        )
    if _CONTAINER_RELATIVE in e:
        return Found(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set (fetched over HTTP)",
            _CONTAINER_RELATIVE,
            Identity(),
        )
    url = e[_CONTAINER_FULL]
    problem = _container_url_problem(url)
    if problem is not None:
        raise Failure("ValueError", problem, _CONTAINER_FULL)
    return Found(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI is set (fetched over HTTP)", _CONTAINER_FULL, Identity()
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


def imds(ctx: Context) -> Found | str:
    """``InstanceMetadataProvider``: off only when AWS_EC2_METADATA_DISABLED is "true" in any
    case; otherwise the CLI asks the instance metadata service (1 s timeout by default)."""
    if ctx.environ.get("AWS_EC2_METADATA_DISABLED", "false").lower() == "true":
        return "AWS_EC2_METADATA_DISABLED is true"
    return Found(
        "would be tried: the CLI asks the EC2 instance metadata service (not checked offline)",
        None,
        Identity(),
    )


# -- JSON ------------------------------------------------------------------------------------


def _load_json_strict(path: str) -> object:
    """``json.load(open(path))`` as JSONFileCache does; ValueError for anything it rejects."""
    import json

    try:
        got = read_regular(path)
    except OSError:
        raise ValueError("unreadable") from None
    if got is None:
        raise ValueError("not a regular file")  # JSONFileCache's isfile() says "no entry"
    # json.load of a text-mode file: UTF-8 (a decode error is a ValueError too), universal
    # newlines, which JSON treats alike (whitespace outside strings, invalid inside them).
    return json.loads(decode_newlines(got[0].decode("utf-8")))
