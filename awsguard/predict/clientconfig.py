"""What the CLI checks of its configuration besides credentials, per major, in the CLI's order.

A credential chain that works is not enough: ``Session.create_client`` (botocore/session.py) and
the client it builds (botocore/args.py ``ClientArgsCreator``, botocore/config.py ``Config``)
validate a dozen more settings, and the first bad one stops every command.  Some of those checks
exist only in CLI v1's botocore (``defaults_mode``, ``api_versions``, ``sts_regional_endpoints``:
the v2 branch of aws-cli has no such settings and ignores them); the retry settings are checked
by both majors against different lists.  Everything here was seen failing with the real ``aws``
v1 (tests/test_client_config.py); the v2 answers come from reading aws-cli's v2 branch.

Each setting is looked up as botocore's ``ConfigValueStore`` does: its environment variable when
present (even empty), else the profile's key (the merged view of both files), else the default.
"""

from __future__ import annotations

from awsguard.predict.providers import CLIENT, CliError, Context, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from awsguard.predict.awsfiles import Profile

# default_config_resolver.get_default_modes() (sdk-default-configuration.json, plus legacy).
_DEFAULTS_MODES = ("legacy", "auto", "standard", "in-region", "cross-region", "mobile")
_CHECKSUM_OPTIONS = ("when_supported", "when_required")
_ACCOUNT_ID_ENDPOINT_MODES = ("preferred", "disabled", "required")
_RETRY_MODES = {1: ("legacy", "standard", "adaptive"), 2: ("standard", "adaptive")}
_ADDRESSING_STYLES = ("virtual", "auto", "path")

# An empty `s3 =` with one of these set makes SectionConfigProvider assign into the string.
_S3_OVERRIDE_KEYS = ("s3_use_arn_region", "s3_us_east_1_regional_endpoint")
_S3_OVERRIDE_VARS = (
    "AWS_S3_USE_ARN_REGION",
    "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT",
    "AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS",
)


class _Value:
    """One setting as the config store resolves it: the value and where it came from."""

    __slots__ = ("origin", "value")

    def __init__(self, value: object, origin: str | None) -> None:
        self.value = value
        self.origin = origin


def _lookup(ctx: Context, profile: Profile, key: str, env: str | None, default: object) -> _Value:
    if env is not None and env in ctx.environ:
        return _Value(ctx.environ[env], env)
    setting = profile.get(key)
    if setting is not None:
        return _Value(setting.value, setting.origin)
    return _Value(default, None)


def _error(code: str, message: str, origin: str | None) -> CliError:
    return CliError(code, message, origin, CLIENT)


# -- when the session starts ---------------------------------------------------------------------

_TIMESTAMP_FORMATS = {1: ("none", "wire", "iso8601"), 2: ("wire", "iso8601")}
_BINARY_FORMATS = ("base64", "raw-in-base64-out")


def session_problem(ctx: Context, profile_name: str, binary_format: str | None) -> CliError | None:
    """The CLI's own ``session-initialized`` handlers, run once the command line is parsed and
    before the command looks at the profile: they read the profile's settings with
    ``get_scoped_config()`` and fall back to a default when it does not exist (the
    ProfileNotFound comes later).

    ``cli_timestamp_format`` must be ``none``, ``wire`` or ``iso8601`` in v1
    (awscli/customizations/scalarparse.py: ValueError), ``wire`` or ``iso8601`` in v2
    (customizations/timestampformat.py: ConfigurationError; its handler runs first).  v2's
    ``cli_binary_format`` (unless ``--cli-binary-format`` is given) must be ``base64`` or
    ``raw-in-base64-out``: the handler looks it up in a dict (KeyError).  v1 has no such setting.
    """
    if not ctx.files.exists(profile_name):
        return None
    profile = ctx.files.merged(profile_name)
    setting = profile.get("cli_timestamp_format")
    if setting is not None and setting.value not in _TIMESTAMP_FORMATS[ctx.major]:
        if ctx.major == 1:
            return _error(
                "ValueError",
                f"Unknown cli_timestamp_format value: {shown(setting.value)}, valid values are "
                '"none", "wire" or "iso8601"',
                setting.origin,
            )
        return _error(
            "ConfigurationError",
            f"Unknown cli_timestamp_format value: {shown(setting.value)}, valid values are "
            '"wire" or "iso8601"',
            setting.origin,
        )
    if ctx.major == 1 or binary_format is not None:
        return None
    setting = profile.get("cli_binary_format")
    if setting is None or setting.value in _BINARY_FORMATS:
        return None
    if not isinstance(setting.value, str):
        return _error("TypeError", "unhashable type: 'dict'", setting.origin)
    return _error("KeyError", repr(shown(setting.value)), setting.origin)


# -- before the chain ----------------------------------------------------------------------------


def api_versions_problem(ctx: Context, profile: str) -> CliError | None:
    """CLI v1 reads ``api_versions`` of ``profile`` with ``.get(service)``: a plain value (not a
    nested section) is an AttributeError before any credential is looked at.

    The driver does it twice: while building its command table, for the profile the
    environment names (or ``default``) before ``--profile`` is read - a profile that does not
    exist is skipped there - and for the command's own profile before the client is created.
    """
    if ctx.major != 1 or not ctx.files.exists(profile):
        return None
    setting = ctx.files.merged(profile).get("api_versions")
    if setting is None or isinstance(setting.value, dict):
        return None
    return _error("AttributeError", "'str' object has no attribute 'get'", setting.origin)


def resolver_problem(ctx: Context, profile_name: str) -> CliError | None:
    """``create_credential_resolver`` reads the instance metadata settings before any provider
    runs (both majors build it when the session starts): the timeout and the number of attempts
    are converted with ``int``, the endpoint mode must be ipv4 or ipv6 (any case)."""
    profile = ctx.files.merged(profile_name)
    for key, env in (
        ("metadata_service_timeout", "AWS_METADATA_SERVICE_TIMEOUT"),
        ("metadata_service_num_attempts", "AWS_METADATA_SERVICE_NUM_ATTEMPTS"),
    ):
        number = _as_int(_lookup(ctx, profile, key, env, 1))
        if isinstance(number, CliError):
            return number
    found = _lookup(
        ctx,
        profile,
        "ec2_metadata_service_endpoint_mode",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        None,
    )
    mode = found.value
    if mode is None:
        return None
    if not isinstance(mode, str):
        return _error("AttributeError", "'dict' object has no attribute 'lower'", found.origin)
    if mode.lower() in ("ipv4", "ipv6"):
        return None
    return _error(
        "InvalidIMDSEndpointModeError",
        f"Invalid EC2 Instance Metadata endpoint mode: {shown(mode)} Valid endpoint modes "
        "(case-insensitive): ('ipv4', 'ipv6').",
        found.origin,
    )


def region_problem(ctx: Context, profile_name: str, argv_region: str | None) -> CliError | None:
    """``Session.create_client`` validates the region first of all, before it asks for
    credentials (``_resolve_region_name``; the same in both majors): a host label of letters,
    digits and inner hyphens, at most 63 long, not all digits; empty passes.

    The region is ``--region``, else (v2) ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the
    profile's ``region``.  A continuation line under ``region =`` makes the value two lines,
    which fails here: the CLI never reaches the credentials.
    """
    if argv_region is not None:
        found = _Value(argv_region, "--region")
    else:
        found = _lookup(ctx, ctx.files.merged(profile_name), "region", "AWS_DEFAULT_REGION", None)
        if ctx.major != 1 and "AWS_REGION" in ctx.environ:
            found = _Value(ctx.environ["AWS_REGION"], "AWS_REGION")
    value = found.value
    if value is None:
        return None
    if not isinstance(value, str):
        return _error("TypeError", "expected string or bytes-like object, got 'dict'", found.origin)
    if _host_label(value):
        return None
    return _error(
        "InvalidRegionError",
        f"Provided region_name {shown(value)!r} doesn't match a supported format.",
        found.origin,
    )


def _host_label(text: str) -> bool:
    """botocore's region pattern ``^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$``, spelled out.

    ``$`` also matches before one final newline, so ``"eu-west-1\\n"`` passes there: a value
    read from a file never ends so (the parser strips it), but an environment variable can.
    """
    body = text[:-1] if text.endswith("\n") else text
    if len(body) > 63 or body.isdigit():
        return False
    if body.startswith("-") or body.endswith("-"):
        return False
    return all(c == "-" or (c.isascii() and c.isalnum()) for c in body)


# -- after the chain -----------------------------------------------------------------------------


def client_problem(ctx: Context, profile_name: str, *, unsigned: bool) -> CliError | None:
    """The first configuration error ``create_client`` raises after the credentials and the
    token provider, or None.  ``unsigned``: ``--no-sign-request`` (account-id routing is off)."""
    profile = ctx.files.merged(profile_name)
    for check in (
        _defaults_mode,
        _s3_overrides,
        _max_attempts_type,
        _compression,
        _checksums,
        _account_id_endpoint_mode,
        _auth_scheme_preference,
        _express,
        _s3_section,
        _retries,
        _sts_regional_endpoints,
    ):
        problem = check(ctx, profile, unsigned)
        if problem is not None:
            return problem
    return None


def _defaults_mode(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # Session._resolve_defaults_mode (v1 only): mode.lower() must be a known mode.
    if ctx.major != 1:
        return None
    found = _lookup(ctx, profile, "defaults_mode", "AWS_DEFAULTS_MODE", "legacy")
    mode = found.value
    if not isinstance(mode, str):
        return _error("AttributeError", "'dict' object has no attribute 'lower'", found.origin)
    if mode.lower() in _DEFAULTS_MODES:
        return None
    return _error(
        "InvalidDefaultsMode",
        f"Client configured with invalid defaults mode: {shown(mode)}. Valid defaults modes "
        f"include: {', '.join(_DEFAULTS_MODES)}.",
        found.origin,
    )


def _s3_overrides(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # ClientArgsCreator.compute_s3_config, first thing: SectionConfigProvider lays the override
    # settings over the `s3` value - into an empty string it cannot.
    setting = profile.get("s3")
    if setting is None or setting.value != "":
        return None
    if any(k in profile for k in _S3_OVERRIDE_KEYS) or any(
        v in ctx.environ for v in _S3_OVERRIDE_VARS
    ):
        return _error("TypeError", "'str' object does not support item assignment", setting.origin)
    return None


def _as_int(found: _Value) -> int | CliError:
    """The config store's ``int`` conversion of a setting."""
    value = found.value
    if isinstance(value, dict):
        return _error(
            "TypeError",
            "int() argument must be a string, a bytes-like object or a real number, not 'dict'",
            found.origin,
        )
    assert isinstance(value, str | int)
    try:
        return int(value)
    except ValueError:
        return _error(
            "ValueError", f"invalid literal for int() with base 10: {shown(value)!r}", found.origin
        )


def _max_attempts(ctx: Context, profile: Profile) -> tuple[_Value, int | CliError | None]:
    # v1 has no default (the retry handler's own applies); v2 defaults to 3.
    found = _lookup(ctx, profile, "max_attempts", "AWS_MAX_ATTEMPTS", None if ctx.major == 1 else 3)
    return found, None if found.value is None else _as_int(found)


def _max_attempts_type(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # ClientArgsCreator._compute_retry_max_attempts reads it (converted) before anything else.
    _, number = _max_attempts(ctx, profile)
    return number if isinstance(number, CliError) else None


def _compression(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # ClientArgsCreator._validate_min_compression_size: an integer in 1..1048576.
    found = _lookup(
        ctx,
        profile,
        "request_min_compression_size_bytes",
        "AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES",
        10240,
    )
    value = found.value
    base = f'Invalid value "{shown(value)}" for request_min_compression_size_bytes.'
    try:
        if not isinstance(value, str | int):
            raise TypeError(value)
        size = int(value)
    except (TypeError, ValueError):
        kind = type(value).__name__
        return _error(
            "InvalidConfigError",
            f"{base} Value must be an integer. Received <class '{kind}'> instead.",
            found.origin,
        )
    if not 1 <= size <= 1048576:
        return _error(
            "InvalidConfigError", f"{base} Value must be between 1 and 1048576.", found.origin
        )
    return None


def _checksums(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # ClientArgsCreator._handle_checksum_config: request first, then response.
    for key, env in (
        ("request_checksum_calculation", "AWS_REQUEST_CHECKSUM_CALCULATION"),
        ("response_checksum_validation", "AWS_RESPONSE_CHECKSUM_VALIDATION"),
    ):
        found = _lookup(ctx, profile, key, env, "when_supported")
        value = found.value
        if isinstance(value, str) and value.lower() in _CHECKSUM_OPTIONS:
            continue
        return _error(
            "InvalidChecksumConfigError",
            f"Unsupported configuration value for {key}. Expected one of {_CHECKSUM_OPTIONS} "
            f"but got {shown(value.lower() if isinstance(value, str) else value)}.",
            found.origin,
        )
    return None


def _account_id_endpoint_mode(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # ClientArgsCreator._compute_account_id_endpoint_mode_config: skipped for unsigned requests.
    if unsigned:
        return None
    found = _lookup(
        ctx, profile, "account_id_endpoint_mode", "AWS_ACCOUNT_ID_ENDPOINT_MODE", "preferred"
    )
    value = found.value
    if isinstance(value, str) and value.lower() in _ACCOUNT_ID_ENDPOINT_MODES:
        return None
    shown_value = shown(value.lower() if isinstance(value, str) else value)
    return _error(
        "InvalidConfigError",
        f"The configured value '{shown_value}' for 'account_id_endpoint_mode' is invalid. "
        f"Valid values are: {_ACCOUNT_ID_ENDPOINT_MODES}.",
        found.origin,
    )


def _auth_scheme_preference(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # ClientArgsCreator._compute_auth_scheme_preference_config: a string, or nothing.
    found = _lookup(ctx, profile, "auth_scheme_preference", "AWS_AUTH_SCHEME_PREFERENCE", None)
    if found.value is None or isinstance(found.value, str):
        return None
    return _error(
        "InvalidConfigError",
        "auth_scheme_preference must be a comma-delimited string. Received <class 'dict'> instead.",
        found.origin,
    )


def _express(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # ClientArgsCreator._validate_s3_disable_express_session_auth: "true" or "false", any case.
    found = _lookup(
        ctx, profile, "s3_disable_express_session_auth", "AWS_S3_DISABLE_EXPRESS_SESSION_AUTH", None
    )
    value = found.value
    if value is None or (isinstance(value, str) and value.lower() in ("true", "false")):
        return None
    return _error(
        "InvalidConfigError",
        f'Invalid value "{shown(value)}" for s3_disable_express_session_auth. Value must be a '
        "boolean or a string ('true' or 'false').",
        found.origin,
    )


def _s3_section(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # Config(s3=...) validation: s3.get('addressing_style') - an empty string has no .get, a
    # nested section's addressing_style must be a known one.
    setting = profile.get("s3")
    if setting is None:
        return None
    value = setting.value
    if value == "":
        return _error("AttributeError", "'str' object has no attribute 'get'", setting.origin)
    if not isinstance(value, dict) or "addressing_style" not in value:
        return None
    style = value["addressing_style"]
    if style in _ADDRESSING_STYLES:
        return None
    return _error(
        "InvalidS3AddressingStyleError",
        f"S3 addressing style {shown(style)} is invalid. Valid options are: 'auto', 'virtual', "
        "and 'path'",
        setting.origin,
    )


def _retries(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # Config._validate_retry_configuration: the attempts (v1: total attempts >= 1; v2:
    # max_attempts >= 1), then the mode, which must be one of the major's modes exactly.
    found, number = _max_attempts(ctx, profile)
    if isinstance(number, int) and number < 1:
        least = "1" if ctx.major == 1 else "one"
        return _error(
            "InvalidMaxRetryAttemptsError",
            f'Value provided to "max_attempts": {number} must be an integer greater than or '
            f"equal to {least}.",
            found.origin,
        )
    modes = _RETRY_MODES[ctx.major]
    found = _lookup(ctx, profile, "retry_mode", "AWS_RETRY_MODE", modes[0])
    if found.value in modes:
        return None
    listed = str(modes) if ctx.major == 1 else '"standard" or "adaptive"'
    return _error(
        "InvalidRetryModeError",
        f'Invalid value provided to "mode": "{shown(found.value)}" must be one of: {listed}',
        found.origin,
    )


def _sts_regional_endpoints(ctx: Context, profile: Profile, unsigned: bool) -> CliError | None:
    # ClientArgsCreator._get_sts_regional_endpoints_config (v1 only), run for every service's
    # endpoint rules: empty means "regional"; otherwise exactly "legacy" or "regional".
    if ctx.major != 1:
        return None
    found = _lookup(ctx, profile, "sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS", None)
    value = found.value
    if not value or value in ("legacy", "regional"):
        return None
    return _error(
        "InvalidSTSRegionalEndpointsConfigError",
        f'STS regional endpoints option {shown(value)} is invalid. Valid options are: "legacy", '
        '"regional"',
        found.origin,
    )
