"""Predict, offline, which credentials ``aws ARGS`` will use: argv -> files -> chain -> identity.

``resolve()`` is a pure function of argv, an environment mapping, the file system and the clock.
It returns a :class:`Resolution` - the winner or the exact error the CLI would raise, every
provider's status with its reason and origin, and the identities involved - and never raises for
bad input: unreadable or malformed files become the error the CLI would report.
"""

from __future__ import annotations

from awsguard import words
from awsguard.predict import argv as argv_mod
from awsguard.predict import clientconfig, inifile, providers
from awsguard.predict.awsfiles import AwsFiles
from awsguard.predict.providers import CliError, IdentityFacts, Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# Profile environment variables in order of precedence (botocore/configprovider.py
# BOTOCORE_DEFAUT_SESSION_VARIABLES for v1; the v2 CLI swapped them - CHANGELOG 2.0.0).
PROFILE_VARS = {
    1: ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"),
    2: ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"),
}


class Session:
    """The logged-in session a profile is configured for (``aws login`` or SSO)."""

    __slots__ = ("account", "expires", "kind", "origin", "principal", "profile", "state")

    def __init__(
        self,
        kind: str,
        profile: str,
        principal: str | None,
        account: str | None,
        expires: float | None,
        state: str,
        origin: str | None,
    ) -> None:
        self.kind = kind  # login | sso
        self.profile = profile
        self.principal = principal
        self.account = account
        self.expires = expires
        self.state = state  # valid | expired | missing
        self.origin = origin


class Resolution:
    """Everything ``explain`` shows and ``policy`` judges."""

    def __init__(self, args: argv_mod.CliArgs, major: int, crt: bool | None, now: float) -> None:
        self.args = args
        self.major = major
        self.crt = crt
        self.now = now
        self.profile = "default"
        self.chain_profile = "default"
        self.profile_from = "implicit"
        self.profile_var_values: dict[str, str] = {}
        self.config_path: str | None = None
        self.credentials_path: str | None = None
        self.source: str | None = None
        self.error: CliError | None = None
        self.chain: list[Step] = []
        self.identity = IdentityFacts()
        self.found: providers.Found | None = None
        self.session: Session | None = None
        self.source_profile: str | None = None
        self.source_method: str | None = None
        self.source_steps: list[Step] = []
        self.source_session: Session | None = None
        self.hops: list[providers.Hop] = []
        self.env_keys_ignored = False
        # The files as this resolution read them, for callers that want one more setting
        # (the prompt's region) without reading them again.
        self.files: AwsFiles | None = None

    @property
    def explicit_profile(self) -> bool:
        return self.profile_from == "--profile"

    def found_origin(self) -> str | None:
        return self.found.origin if self.found is not None else None

    @property
    def shadowed(self) -> list[str]:
        return [step.provider for step in self.chain if step.status == "shadowed"]


def select_profile(
    args: argv_mod.CliArgs, environ: Mapping[str, str], major: int
) -> tuple[str | None, str]:
    """(profile name or None, where it came from); env vars count when present, even empty."""
    if args.profile:
        return args.profile, "--profile"
    for var in PROFILE_VARS[1 if major == 1 else 2]:
        if var in environ:
            return environ[var], var
    return None, "implicit"


def resolve(
    argv: Sequence[str],
    environ: Mapping[str, str],
    *,
    major: int | None = 2,
    crt: bool | None = None,
    now: float | None = None,
    validate: bool = True,
    cache_dir: str | None = None,
    configuration: bool = True,
) -> Resolution:
    """Predict the credential resolution of ``aws *argv`` under ``environ``.

    ``major`` is the real CLI's major version (None: unknown, treated as 2); ``crt`` whether its
    botocore has awscrt (None: unknown, assumed present).  ``cache_dir`` lets the outcome of
    whole-file validation be kept per file (keyed by the file's identity), so an unchanged
    10,000-profile config is not validated again on every call.

    ``configuration=False`` leaves out the CLI's checks of settings that have nothing to do with
    credentials (:mod:`clientconfig`: the region, ``defaults_mode`` …): what the chain would pick
    once they are corrected.  ``awsguard fix`` repairs that and names the setting.
    """
    if now is None:
        import time

        now = time.time()
    semantics = 1 if major == 1 else 2
    args = argv_mod.parse(list(argv), semantics)
    res = Resolution(args, semantics, crt, now)
    if args.usage_error:
        res.error = CliError("UsageError", f"the CLI rejects this command line: {args.usage_error}")
        return res
    named, res.profile_from = select_profile(args, environ, semantics)
    for var in PROFILE_VARS[2]:
        if var in environ:
            res.profile_var_values[var] = environ[var]
    # The name the session checks for existence (even "" - a `[profile ""]` section can define
    # it) versus the one the chain uses: create_credential_resolver takes
    # `get_config_variable('profile') or 'default'`.
    res.profile = "default" if named is None else named
    res.chain_profile = named or "default"
    files = AwsFiles(environ, validate=validate, cache_dir=cache_dir)
    res.files = files
    res.config_path, res.credentials_path = files.config_path, files.credentials_path
    try:
        files.load()
    except inifile.ParseError as exc:
        res.error = CliError(
            "ConfigParseError", f"Unable to parse config file: {exc.path}", _parse_origin(exc)
        )
        res.chain = [
            Step(m, "unreachable", "the CLI stops at the unreadable file") for m in providers.ORDER
        ]
        return res
    ctx = providers.Context(environ, files, crt=crt, now=now, major=semantics)
    # CLI v1 builds its command table before it reads --profile: with the profile the
    # environment names, or default (clientconfig.api_versions_problem).
    startup = next((environ[v] for v in PROFILE_VARS[semantics] if v in environ), "default")
    problem = clientconfig.api_versions_problem(ctx, startup) if configuration else None
    if problem is not None:
        _stop(res, problem, "the CLI stops before it parses the command line")
        return res
    # Then it parses it, and its session-initialized handlers read the profile's CLI settings.
    problem = (
        clientconfig.session_problem(ctx, res.profile, args.binary_format)
        if configuration
        else None
    )
    if problem is not None:
        _stop(res, problem, "the CLI stops as its session starts")
        return res
    if named is not None and not files.exists(named):
        # Session.get_scoped_config: a named profile must exist, even "default" or "".
        res.error = CliError(
            "ProfileNotFound", f"The config profile ({named}) could not be found", res.profile_from
        )
        res.chain = [
            Step(m, "unreachable", "the CLI stops: the profile does not exist")
            for m in providers.ORDER
        ]
        return res
    _credentials(res, ctx, configuration)
    return res


def _stop(res: Resolution, error: CliError, why: str) -> None:
    res.error = error
    res.chain = [Step(m, "unreachable", why) for m in providers.ORDER]


def _parse_origin(exc: inifile.ParseError) -> str:
    return f"{exc.path}:{exc.line}" if exc.line is not None else exc.path


def _credentials(res: Resolution, ctx: providers.Context, configuration: bool = True) -> None:
    """Everything after the files load and the profile exists: the chain, the checks
    ``create_client`` makes after it, and the logged-in sessions for explain and policy."""
    # The credential resolver is built when the session starts, the command's api_versions
    # read before its client is created: both before any provider is asked.
    # Then create_client validates the region, first of all.
    problem = (
        (
            clientconfig.resolver_problem(ctx, res.profile)
            or clientconfig.api_versions_problem(ctx, res.profile)
            or clientconfig.region_problem(ctx, res.profile, res.args.region)
        )
        if configuration
        else None
    )
    if problem is not None:
        _stop(res, problem, "the CLI stops before it looks for credentials")
        return
    if res.args.no_sign_request:
        res.chain = [
            Step(
                m,
                "skipped",
                "--no-sign-request: the CLI sends unsigned requests and looks for no credentials",
            )
            for m in providers.ORDER
        ]
    else:
        _walk(res, ctx)
    if res.error is None or res.error.code == "NoCredentialsError":
        # Session.create_client asks the token provider after the credentials (or instead of
        # them, for unsigned requests); its configuration errors come before NoCredentialsError.
        # Then the client's own configuration (clientconfig: defaults_mode, s3, retries, ...).
        problem = providers.sso_token_provider_problem(ctx, res.chain_profile)
        if problem is None and configuration:
            problem = clientconfig.client_problem(
                ctx, res.profile, unsigned=res.args.no_sign_request
            )
        if problem is not None:
            res.source = None
            res.error = problem
    _sessions(res, ctx)


def _walk(res: Resolution, ctx: providers.Context) -> None:
    """The chain as ``create_credential_resolver`` builds it for this command line, walked."""
    table = providers.PROVIDERS
    if res.explicit_profile:
        # create_credential_resolver removes EnvProvider when --profile was given.
        keys = bool(ctx.environ.get("AWS_ACCESS_KEY_ID"))
        res.env_keys_ignored = keys
        why = "removed from the chain because --profile was given"
        if keys:
            why += " (AWS_ACCESS_KEY_ID is set and ignored)"
        res.chain.append(Step(words.ENV, "skipped", why, "AWS_ACCESS_KEY_ID" if keys else None))
        table = tuple(entry for entry in table if entry[0] != words.ENV)
    request = providers.Request(res.chain_profile, disable_env=res.explicit_profile)
    walked = providers.walk(ctx, table, request)
    res.chain.extend(walked.steps)
    for method, _ in table[len(walked.steps) :]:
        res.chain.append(Step(method, "unreachable", "the CLI stopped at the error above"))
    res.error = walked.error
    role = walked.error.role if walked.error is not None else None
    if walked.found is not None:
        res.source, res.found = walked.method, walked.found
        res.identity = walked.found.identity
        role = walked.found.role
    elif walked.error is None:
        res.error = CliError(
            "NoCredentialsError", "Unable to locate credentials: no provider in the chain has any"
        )
    if role is not None:
        res.hops = list(role.hops)
        res.source_profile = role.source_profile
        res.source_method = role.source_method
        res.source_steps = list(role.source_steps)


def _sessions(res: Resolution, ctx: providers.Context) -> None:
    """The profile's logged-in session (login, else SSO), and the role source profile's."""
    res.session = profile_session(ctx, res.chain_profile)
    if res.source_profile is not None and res.source_profile != res.chain_profile:
        res.source_session = profile_session(ctx, res.source_profile)


def profile_session(ctx: providers.Context, profile: str) -> Session | None:
    merged = ctx.files.merged(profile)
    setting = merged.get("login_session")
    if setting is not None and isinstance(setting.value, str):
        arn = setting.value
        state, expires, account = providers.login_state(ctx, arn)
        if account is None:
            from awsguard.predict import identity

            parsed = identity.parse_arn(arn)
            account = parsed.account if parsed else None
        return Session(
            "login", profile, providers.shown(arn), account, expires, state, setting.origin
        )
    if "sso_account_id" in merged or "sso_role_name" in merged:
        try:
            config = providers.sso_config(ctx, profile)
        except CliError:
            config = None
        source = config or merged
        account_setting = source.get("sso_account_id")
        role_setting = source.get("sso_role_name")
        account = (
            account_setting.value
            if account_setting and isinstance(account_setting.value, str)
            else None
        )
        role = role_setting.value if role_setting and isinstance(role_setting.value, str) else None
        token = providers.sso_token_state(ctx, config) if config else None
        state, expires = token if token else ("missing", None)
        where = account_setting or role_setting
        origin = where.origin if where is not None else None
        principal = f"sso role {providers.shown(role)}" if role else None
        return Session(
            "sso",
            profile,
            principal,
            providers.shown(account) if account else None,
            expires,
            state,
            origin,
        )
    return None


# -- many profiles against one reading of the files (``awsguard status``) -------------------------


def profile_names(files: AwsFiles) -> list[str]:
    """Every profile the CLI knows in ``files`` (loaded): the config file's profile map in file
    order, then credentials-file sections it does not name (Session.available_profiles, ordered).
    Raises ``inifile.ParseError`` as loading does."""
    files.load()
    files._maps()  # botocore's build_profile_map over every section name
    names = list(files._profiles)
    known = set(names)
    if files.credentials is not None:
        names.extend(n for n in files.credentials.section_names() if n not in known)
    return names


def resolve_profiles(
    names: Sequence[str],
    environ: Mapping[str, str],
    *,
    files: AwsFiles,
    major: int | None = 2,
    crt: bool | None = None,
    now: float | None = None,
    tail: Sequence[str] = ("sts", "get-caller-identity"),
) -> list[Resolution]:
    """``resolve(["--profile", NAME, *tail], environ)`` for every name, against one loading of
    ``files`` (already loaded without error: see :func:`profile_names`).

    Each file is parsed whole once, so every profile's section is a dictionary lookup instead of
    a search of the text; views shared by profiles (a common ``source_profile``) are built once.
    The steps mirror :func:`resolve` after its file loading; tests/test_status.py checks each
    result against ``resolve`` itself.  A name is taken as given (even ``""``, which ``--profile``
    cannot pass).
    """
    if now is None:
        import time

        now = time.time()
    for ini in (files.config, files.credentials):
        if ini is not None and not ini.unreadable:
            ini._parse_full()  # one full parse instead of one text search per profile
    semantics = 1 if major == 1 else 2
    # The cache files (login, SSO) are read once for the whole run, not once per profile.
    shared_json: dict[str, object] = {}
    out: list[Resolution] = []
    for name in names:
        args = argv_mod.parse(list(tail), semantics)
        args.profile = name
        res = Resolution(args, semantics, crt, now)
        res.profile_from = "--profile"
        for var in PROFILE_VARS[2]:
            if var in environ:
                res.profile_var_values[var] = environ[var]
        res.profile = res.chain_profile = name
        res.files = files
        res.config_path, res.credentials_path = files.config_path, files.credentials_path
        out.append(res)
        if args.usage_error:
            res.error = CliError(
                "UsageError", f"the CLI rejects this command line: {args.usage_error}"
            )
            continue
        if not files.exists(name):
            res.error = CliError(
                "ProfileNotFound", f"The config profile ({name}) could not be found", "--profile"
            )
            res.chain = [
                Step(m, "unreachable", "the CLI stops: the profile does not exist")
                for m in providers.ORDER
            ]
            continue
        ctx = providers.Context(environ, files, crt=crt, now=now, major=semantics)
        ctx._json = shared_json
        problem = clientconfig.session_problem(ctx, name, None)
        if problem is not None:
            _stop(res, problem, "the CLI stops as its session starts")
            continue
        _credentials(res, ctx)
    return out
