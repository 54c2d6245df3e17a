"""Settings the CLI validates when it creates a client, against the real ``aws`` v1.

A working credential chain does not make a working command: ``Session.create_client`` and the
client it builds reject bad values of a dozen other settings, and the first one stops every
command (awsguard/predict/clientconfig.py).  Each case runs the real CLI as
tests/test_real_cli.py does (loopback stub, network guard) on a config with static keys and one
odd setting, and awsguard must name the same exception class - or, for the controls (a valid
spelling of the same setting), the same winner.  The retry settings are the two the runner
pins for safety (``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``); a case about one of them leaves
that variable out.

CLI v2 cannot be run here.  What it does comes from reading aws-cli's v2 branch: its
``Session.create_client`` looks up neither ``api_versions`` nor ``defaults_mode``, its
configprovider has no ``defaults_mode``, ``api_versions`` or ``sts_regional_endpoints``, and its
``Config`` accepts the retry modes ``standard`` and ``adaptive`` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import oracle
import pytest
import test_real_cli as realcli
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from awsguard.predict import clientconfig
from awsguard.predict.resolver import resolve

pytestmark = [pytest.mark.oracle, pytest.mark.slow]

KEYS = "aws_access_key_id = AKIAQ2EXAMPLEKEY0001\naws_secret_access_key = s\n"
GCI = ("sts", "get-caller-identity")
OK = ("shared-credentials-file", None)


def case(
    config: str,
    *,
    credentials: str | None = f"[default]\n{KEYS}",
    env: Mapping[str, str] | None = None,
    argv: Sequence[str] = GCI,
) -> oracle.Scenario:
    return oracle.scenario(config=config, credentials=credentials, env=env, argv=argv)


def outcomes(
    scn: oracle.Scenario, drop_env: tuple[str, ...] = (), *, pin_region: bool = True
) -> tuple[tuple[str | None, str | None], tuple[str | None, str | None]]:
    """(the real CLI's (source, error), awsguard's) on the same files, argv and environment."""
    with oracle.materialize(scn) as m:
        cli = realcli.run_real_cli(m, drop_env=drop_env, pin_region=pin_region)
        assert not cli.guard_reports, "\n".join(cli.guard_reports)
        argv, env = realcli.cli_invocation(m, pin_region=pin_region)
        for name in drop_env:
            env.pop(name, None)
        asked = oracle.Materialized(scenario=scn, home=m.home, env=env, argv=argv)
        predicted, _ = oracle.run_awsguard(asked, major=1, crt=True)
    return cli.outcome.key(), predicted.key()


def _error(code: str) -> tuple[None, str]:
    return (None, code)


PROFILE_P = ["--profile", "p", *GCI]

CASES: dict[str, tuple[oracle.Scenario, tuple[str | None, str | None], tuple[str, ...]]] = {
    # api_versions: read with .get(service) - a plain value is an AttributeError, before any
    # credential; while the command table is built, from the environment's profile or default.
    "api_versions plain": (case("[default]\napi_versions = x\n"), _error("AttributeError"), ()),
    "api_versions empty": (case("[default]\napi_versions =\n"), _error("AttributeError"), ()),
    "api_versions nested (control)": (
        case("[default]\napi_versions =\n  sts = 2011-06-15\n"),
        OK,
        (),
    ),
    "api_versions in the credentials file": (
        case("[default]\nregion = us-east-1\n", credentials=f"[default]\n{KEYS}api_versions = x\n"),
        _error("AttributeError"),
        (),
    ),
    "api_versions of --profile": (
        case("[profile p]\napi_versions = x\n", credentials=f"[p]\n{KEYS}", argv=PROFILE_P),
        _error("AttributeError"),
        (),
    ),
    "api_versions of default, --profile fine": (
        case(
            "[default]\napi_versions = x\n[profile p]\n", credentials=f"[p]\n{KEYS}", argv=PROFILE_P
        ),
        _error("AttributeError"),
        (),
    ),
    "api_versions of default beats ProfileNotFound": (
        case("[default]\napi_versions = x\n", argv=["--profile", "nosuch", *GCI]),
        _error("AttributeError"),
        (),
    ),
    "api_versions beats a chain error": (
        case("[default]\napi_versions = x\n", credentials="[default]\naws_access_key_id = A\n"),
        _error("AttributeError"),
        (),
    ),
    "api_versions of another profile (control)": (
        case("[default]\nregion = us-east-1\n[profile p]\napi_versions = x\n"),
        OK,
        (),
    ),
    "environment names a missing profile, --profile fine (control)": (
        case(
            "[default]\napi_versions = x\n[profile p]\n",
            credentials=f"[p]\n{KEYS}",
            env={"AWS_PROFILE": "nosuch", "AWS_DEFAULT_PROFILE": "nosuch"},
            argv=PROFILE_P,
        ),
        OK,
        (),
    ),
    # defaults_mode: one of the modes, any case; after the chain, before the client.
    "defaults_mode bogus": (
        case("[default]\ndefaults_mode = bogus\n"),
        _error("InvalidDefaultsMode"),
        (),
    ),
    "defaults_mode empty": (
        case("[default]\ndefaults_mode =\n"),
        _error("InvalidDefaultsMode"),
        (),
    ),
    "defaults_mode from the environment": (
        case("[default]\n", env={"AWS_DEFAULTS_MODE": "bogus"}),
        _error("InvalidDefaultsMode"),
        (),
    ),
    "defaults_mode Standard (control)": (case("[default]\ndefaults_mode = Standard\n"), OK, ()),
    "defaults_mode without credentials": (
        case("[default]\ndefaults_mode = bogus\n", credentials=None),
        _error("InvalidDefaultsMode"),
        (),
    ),
    "a chain error comes before defaults_mode": (
        case(
            "[default]\ndefaults_mode = bogus\n", credentials="[default]\naws_access_key_id = A\n"
        ),
        _error("PartialCredentialsError"),
        (),
    ),
    "defaults_mode unsigned": (
        case(
            "[default]\ndefaults_mode = bogus\n", credentials=None, argv=["--no-sign-request", *GCI]
        ),
        _error("InvalidDefaultsMode"),
        (),
    ),
    # sts_regional_endpoints: exactly legacy or regional (empty: regional), for every service.
    "sts_regional_endpoints bogus": (
        case("[default]\nsts_regional_endpoints = bogus\n"),
        _error("InvalidSTSRegionalEndpointsConfigError"),
        (),
    ),
    "sts_regional_endpoints Regional": (
        case("[default]\nsts_regional_endpoints = Regional\n"),
        _error("InvalidSTSRegionalEndpointsConfigError"),
        (),
    ),
    "sts_regional_endpoints for s3": (
        case("[default]\nsts_regional_endpoints = bogus\n", argv=["s3", "ls"]),
        _error("InvalidSTSRegionalEndpointsConfigError"),
        (),
    ),
    "sts_regional_endpoints empty (control)": (
        case("[default]\nsts_regional_endpoints =\n"),
        OK,
        (),
    ),
    "sts_regional_endpoints legacy (control)": (
        case("[default]\nsts_regional_endpoints = legacy\n"),
        OK,
        (),
    ),
    # Both majors: compression size, checksums, account-id routing, S3 Express, auth schemes.
    "compression size not a number": (
        case("[default]\nrequest_min_compression_size_bytes = bogus\n"),
        _error("InvalidConfigError"),
        (),
    ),
    "compression size 0": (
        case("[default]\nrequest_min_compression_size_bytes = 0\n"),
        _error("InvalidConfigError"),
        (),
    ),
    "compression size 1048577": (
        case("[default]\nrequest_min_compression_size_bytes = 1048577\n"),
        _error("InvalidConfigError"),
        (),
    ),
    "compression size 1_0 (control: int() reads it)": (
        case("[default]\nrequest_min_compression_size_bytes = 1_0\n"),
        OK,
        (),
    ),
    "request checksum bogus": (
        case("[default]\nrequest_checksum_calculation = bogus\n"),
        _error("InvalidChecksumConfigError"),
        (),
    ),
    "response checksum from the environment": (
        case("[default]\n", env={"AWS_RESPONSE_CHECKSUM_VALIDATION": "sometimes"}),
        _error("InvalidChecksumConfigError"),
        (),
    ),
    "request checksum WHEN_REQUIRED (control)": (
        case("[default]\nrequest_checksum_calculation = WHEN_REQUIRED\n"),
        OK,
        (),
    ),
    "account id endpoint mode bogus": (
        case("[default]\naccount_id_endpoint_mode = bogus\n"),
        _error("InvalidConfigError"),
        (),
    ),
    "account id endpoint mode unsigned (control)": (
        case("[default]\naccount_id_endpoint_mode = bogus\n", argv=["--no-sign-request", *GCI]),
        (None, None),
        (),
    ),
    "s3 express flag bogus": (
        case("[default]\ns3_disable_express_session_auth = yes\n"),
        _error("InvalidConfigError"),
        (),
    ),
    "s3 express flag TRUE (control)": (
        case("[default]\ns3_disable_express_session_auth = TRUE\n"),
        OK,
        (),
    ),
    "auth scheme preference nested": (
        case("[default]\nauth_scheme_preference =\n  a = b\n"),
        _error("InvalidConfigError"),
        (),
    ),
    "s3 addressing style bogus": (
        case("[default]\ns3 =\n  addressing_style = bogus\n"),
        _error("InvalidS3AddressingStyleError"),
        (),
    ),
    "s3 addressing style path (control)": (
        case("[default]\ns3 =\n  addressing_style = path\n"),
        OK,
        (),
    ),
    # Retries (v1 lists: legacy, standard, adaptive; exact case; at least one attempt).
    "retry mode bogus": (
        case("[default]\nretry_mode = bogus\n"),
        _error("InvalidRetryModeError"),
        ("AWS_RETRY_MODE",),
    ),
    "retry mode Standard": (
        case("[default]\nretry_mode = Standard\n"),
        _error("InvalidRetryModeError"),
        ("AWS_RETRY_MODE",),
    ),
    "retry mode legacy (control)": (
        case("[default]\nretry_mode = legacy\n"),
        OK,
        ("AWS_RETRY_MODE",),
    ),
    "max attempts bogus": (
        case("[default]\nmax_attempts = bogus\n"),
        _error("ValueError"),
        ("AWS_MAX_ATTEMPTS",),
    ),
    "max attempts 0": (
        case("[default]\nmax_attempts = 0\n"),
        _error("InvalidMaxRetryAttemptsError"),
        ("AWS_MAX_ATTEMPTS",),
    ),
    "max attempts nested": (
        case("[default]\nmax_attempts =\n  a = b\n"),
        _error("TypeError"),
        ("AWS_MAX_ATTEMPTS",),
    ),
    # The instance metadata settings are read when the credential resolver is built: before
    # any provider, even for unsigned requests and when the chain itself would fail.
    "metadata timeout bogus": (
        case("[default]\nmetadata_service_timeout = bogus\n"),
        _error("ValueError"),
        (),
    ),
    "metadata attempts unsigned": (
        case("[default]\nmetadata_service_num_attempts =\n", argv=["--no-sign-request", *GCI]),
        _error("ValueError"),
        (),
    ),
    "metadata endpoint mode beats a chain error": (
        case(
            "[default]\nec2_metadata_service_endpoint_mode = ipv5\n",
            credentials="[default]\naws_access_key_id = A\n",
        ),
        _error("InvalidIMDSEndpointModeError"),
        (),
    ),
    "metadata endpoint mode IPv6 (control)": (
        case("[default]\nec2_metadata_service_endpoint_mode = IPv6\n"),
        OK,
        (),
    ),
    # The region: create_client validates it before it asks for any credential (both majors).
    "region with spaces": (
        case("[default]\nregion = us east 1\n"),
        _error("InvalidRegionError"),
        (),
    ),
    "region continued on the next line": (
        case("[default]\nregion = eu-west-1\n  wJalrXUtnFEMIK7MDENG\n"),
        _error("InvalidRegionError"),
        (),
    ),
    "region nested": (case("[default]\nregion =\n  a = b\n"), _error("TypeError"), ()),
    "region all digits": (case("[default]\nregion = 123\n"), _error("InvalidRegionError"), ()),
    "region with a leading hyphen": (
        case("[default]\nregion = -eu\n"),
        _error("InvalidRegionError"),
        (),
    ),
    "region of 64 letters": (
        case(f"[default]\nregion = {'a' * 64}\n"),
        _error("InvalidRegionError"),
        (),
    ),
    "region of 63 letters (control)": (case(f"[default]\nregion = {'a' * 63}\n"), OK, ()),
    "region empty (control)": (case("[default]\nregion =\n"), OK, ()),
    "region from --region": (
        case("[default]\nregion = us-east-1\n", argv=["--region", "us_east_1", *GCI]),
        _error("InvalidRegionError"),
        (),
    ),
    "--region beats a bad file region (control)": (
        case("[default]\nregion = us east 1\n", argv=["--region", "us-east-1", *GCI]),
        OK,
        (),
    ),
    "region from AWS_DEFAULT_REGION": (
        case("[default]\n", env={"AWS_DEFAULT_REGION": "eu west"}),
        _error("InvalidRegionError"),
        (),
    ),
    "AWS_DEFAULT_REGION beats a bad file region (control)": (
        case("[default]\nregion = us east 1\n", env={"AWS_DEFAULT_REGION": "eu-west-1"}),
        OK,
        (),
    ),
    "v1 does not read AWS_REGION (control)": (
        case("[default]\nregion = us-east-1\n", env={"AWS_REGION": "eu west"}),
        OK,
        (),
    ),
    "region in the credentials file": (
        case("[default]\n", credentials=f"[default]\n{KEYS}region = a b\n"),
        _error("InvalidRegionError"),
        (),
    ),
    "region of another profile (control)": (
        case("[default]\nregion = us-east-1\n[profile p]\nregion = a b\n"),
        OK,
        (),
    ),
    "region without credentials": (
        case("[default]\nregion = a b\n", credentials=None),
        _error("InvalidRegionError"),
        (),
    ),
    "region beats a chain error": (
        case("[default]\nregion = a b\n", credentials="[default]\naws_access_key_id = A\n"),
        _error("InvalidRegionError"),
        (),
    ),
    "region unsigned": (
        case("[default]\nregion = a b\n", credentials=None, argv=["--no-sign-request", *GCI]),
        _error("InvalidRegionError"),
        (),
    ),
    # The CLI's own session-initialized handlers: cli_timestamp_format (v1: none, wire, iso8601).
    "timestamp format bogus": (
        case("[default]\ncli_timestamp_format = bogus\n"),
        _error("ValueError"),
        (),
    ),
    "timestamp format ISO8601 (exact case)": (
        case("[default]\ncli_timestamp_format = ISO8601\n"),
        _error("ValueError"),
        (),
    ),
    "timestamp format empty": (
        case("[default]\ncli_timestamp_format =\n"),
        _error("ValueError"),
        (),
    ),
    "timestamp format none (control)": (
        case("[default]\ncli_timestamp_format = none\n"),
        OK,
        (),
    ),
    "timestamp format in the credentials file": (
        case("[default]\n", credentials=f"[default]\n{KEYS}cli_timestamp_format = x\n"),
        _error("ValueError"),
        (),
    ),
    "timestamp format of --profile": (
        case("[profile p]\ncli_timestamp_format = x\n", credentials=f"[p]\n{KEYS}", argv=PROFILE_P),
        _error("ValueError"),
        (),
    ),
    "timestamp format of another profile (control)": (
        case("[default]\n[profile p]\ncli_timestamp_format = x\n"),
        OK,
        (),
    ),
    "a missing profile: ProfileNotFound, not the default's timestamp format": (
        case("[default]\ncli_timestamp_format = x\n", argv=["--profile", "nosuch", *GCI]),
        _error("ProfileNotFound"),
        (),
    ),
    "timestamp format without credentials": (
        case("[default]\ncli_timestamp_format = x\n", credentials=None),
        _error("ValueError"),
        (),
    ),
    "timestamp format unsigned": (
        case("[default]\ncli_timestamp_format = x\n", argv=["--no-sign-request", *GCI]),
        _error("ValueError"),
        (),
    ),
    "v1 has no cli_binary_format (control)": (
        case("[default]\ncli_binary_format = bogus\n"),
        OK,
        (),
    ),
    # Two at once: the CLI's order decides.
    "s3 empty after checksum": (
        case("[default]\ns3 =\nrequest_checksum_calculation = x\n"),
        _error("InvalidChecksumConfigError"),
        (),
    ),
    "defaults_mode before checksum": (
        case("[default]\ndefaults_mode = x\nrequest_checksum_calculation = x\n"),
        _error("InvalidDefaultsMode"),
        (),
    ),
    "max attempts before retry mode": (
        case("[default]\nretry_mode = x\nmax_attempts = 0\n"),
        _error("InvalidMaxRetryAttemptsError"),
        ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"),
    ),
    "compression before express": (
        case(
            "[default]\ns3_disable_express_session_auth = x\nrequest_min_compression_size_bytes = 0\n"
        ),
        _error("InvalidConfigError"),
        (),
    ),
    "retry mode before sts_regional_endpoints": (
        case("[default]\nsts_regional_endpoints = x\nretry_mode = x\n"),
        _error("InvalidRetryModeError"),
        ("AWS_RETRY_MODE",),
    ),
    "SSO token provider before defaults_mode": (
        case("[default]\nsso_session = nosuch\ndefaults_mode = x\n"),
        _error("InvalidConfigError"),
        (),
    ),
    "metadata settings before the region": (
        case("[default]\nregion = a b\nmetadata_service_timeout = bogus\n"),
        _error("ValueError"),
        (),
    ),
    "api_versions before the region": (
        case(
            "[profile p]\napi_versions = x\nregion = a b\n",
            credentials=f"[p]\n{KEYS}",
            argv=PROFILE_P,
        ),
        _error("AttributeError"),
        (),
    ),
    "region before defaults_mode": (
        case("[default]\ndefaults_mode = x\nregion = a b\n"),
        _error("InvalidRegionError"),
        (),
    ),
    "timestamp format before the metadata settings": (
        case("[default]\ncli_timestamp_format = x\nmetadata_service_timeout = bogus\n"),
        _error("ValueError"),
        (),
    ),
    "api_versions of the startup profile before the timestamp format": (
        case("[default]\ncli_timestamp_format = x\napi_versions = x\n"),
        _error("AttributeError"),
        (),
    ),
    "timestamp format before the region": (
        case("[default]\nregion = a b\ncli_timestamp_format = x\n"),
        _error("ValueError"),
        (),
    ),
    "metadata settings before api_versions": (
        case(
            "[profile p]\napi_versions = x\nmetadata_service_timeout = bogus\n",
            credentials=f"[p]\n{KEYS}",
            argv=PROFILE_P,
        ),
        _error("ValueError"),
        (),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_client_configuration_matches_the_real_cli(name: str) -> None:
    scn, expected, drop_env = CASES[name]
    # The runner's `--region us-east-1` would hide the region under test.
    truth, predicted = outcomes(scn, drop_env, pin_region="region" not in name)
    assert truth == expected, f"the real CLI: {truth}, expected {expected}\n{scn.describe()}"
    assert predicted == truth, f"awsguard {predicted}, the CLI {truth}\n{scn.describe()}"


# -- CLI v2: from its source (see the module docstring) ------------------------------------------


@pytest.mark.parametrize(
    "setting",
    ["api_versions = x", "defaults_mode = bogus", "sts_regional_endpoints = bogus"],
)
def test_v2_ignores_the_v1_only_settings(setting: str) -> None:
    with oracle.materialize(case(f"[default]\n{setting}\n")) as m:
        v1 = resolve(list(m.argv), dict(m.env), major=1, crt=True)
        v2 = resolve(list(m.argv), dict(m.env), major=2, crt=True)
    assert v1.error is not None  # the same file does break v1
    assert (v2.source, v2.error) == ("shared-credentials-file", None)


def test_v2_retry_modes() -> None:
    """v2's Config takes standard or adaptive only: legacy, fine in v1, fails in v2."""
    with oracle.materialize(case("[default]\nretry_mode = legacy\n")) as m:
        v1 = resolve(list(m.argv), dict(m.env), major=1, crt=True)
        v2 = resolve(list(m.argv), dict(m.env), major=2, crt=True)
    assert (v1.source, v1.error) == OK
    assert v2.error is not None and v2.error.code == "InvalidRetryModeError"


def test_v2_reads_aws_region_first() -> None:
    """v2's region chain is --region, AWS_REGION, AWS_DEFAULT_REGION, the profile; v1 has no
    AWS_REGION (the v1 case above is its control against the real CLI)."""
    scn = case("[default]\nregion = us-east-1\n", env={"AWS_REGION": "eu west"})
    with oracle.materialize(scn) as m:
        v1 = resolve(list(m.argv), dict(m.env), major=1, crt=True)
        v2 = resolve(list(m.argv), dict(m.env), major=2, crt=True)
        env = {**m.env, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu west"}
        v2_fine = resolve(list(m.argv), env, major=2, crt=True)
    assert (v1.source, v1.error) == OK
    assert v2.error is not None and v2.error.code == "InvalidRegionError"
    assert v2.error.origin == "AWS_REGION"
    assert (v2_fine.source, v2_fine.error) == OK


@pytest.mark.parametrize(
    ("setting", "argv", "v1", "v2"),
    [
        ("cli_timestamp_format = none", GCI, None, "ConfigurationError"),
        ("cli_timestamp_format = wire", GCI, None, None),
        ("cli_binary_format = bogus", GCI, None, "KeyError"),
        ("cli_binary_format =\n  a = b", GCI, None, "TypeError"),
        ("cli_binary_format = raw-in-base64-out", GCI, None, None),
        # (v1 rejects the unknown option in the operation's parser, which awsguard does not
        # model: see test_real_cli.py's operation-argument findings.)
        ("cli_binary_format = bogus", ("--cli-binary-format", "base64", *GCI), ..., None),
        (
            "cli_timestamp_format = x\ncli_binary_format = x",
            GCI,
            "ValueError",
            "ConfigurationError",
        ),
    ],
)
def test_v2_session_settings(
    setting: str, argv: tuple[str, ...], v1: object, v2: str | None
) -> None:
    """v2 takes the timestamp formats wire and iso8601 only (timestampformat.py, first of its
    session-initialized handlers), and looks cli_binary_format up in a dict (binaryformat.py)
    unless --cli-binary-format names one; v1 has neither the option nor the setting."""
    with oracle.materialize(case(f"[default]\n{setting}\n", argv=argv)) as m:
        got1 = resolve(list(m.argv), dict(m.env), major=1, crt=True)
        got2 = resolve(list(m.argv), dict(m.env), major=2, crt=True)
    if v1 is not ...:
        assert (got1.error.code if got1.error else None) == v1
    assert (got2.error.code if got2.error else None) == v2


_REGION_TEXT = st.text(
    alphabet=st.sampled_from("aZ09-_. \n\t\u0663\u00b2\uff45"), max_size=70
) | st.builds(lambda n, tail: "a" * n + tail, st.integers(60, 66), st.sampled_from(["", "-", "\n"]))


@settings(max_examples=examples(ci=500), deadline=None)
@given(_REGION_TEXT)
def test_the_region_pattern_is_botocores(region: str) -> None:
    """awsguard spells botocore's region pattern out (the shim loads no ``re``); botocore's own
    ``validate_region_name`` is the judge."""
    from botocore.exceptions import InvalidRegionError
    from botocore.utils import validate_region_name

    try:
        validate_region_name(region)
        valid = True
    except InvalidRegionError:
        valid = False
    assert clientconfig._host_label(region) == valid
