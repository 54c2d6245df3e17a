"""Differential test: awsguard's offline prediction against real botocore.

Each drawn scenario (tests/strategies.py) is written into a private HOME and resolved twice:
by botocore in-process, exactly as a signed `aws` service command would (tests/oracle.py), and
by ``awsguard.predict.resolver.resolve``. The effective profile, the winning provider
(``credentials.method``) and the error class must be identical, for CLI v1 (botocore's own
profile-variable order) and CLI v2 (AWS_PROFILE first), with awscrt present.

Every run draws new scenarios (``derandomize=False``); a failing one is shrunk to a minimal
scenario and replayed first on the next run from the Hypothesis database. The number of
scenarios and the spread of botocore outcomes are printed in the pytest terminal summary.
The total per run is the sum of the ``max_examples`` below (2,100 generated scenarios) plus the
fixed shapes (``SHAPES``: every provider and every error at least once, whatever is drawn);
about a minute on two cores. ``AWSGUARD_ORACLE_BOTOCORE=cli`` compares with the botocore copy
that the real `aws` v1 runs instead of PyPI's (see conftest.py).
"""

from __future__ import annotations

import json
import os

import oracle
import pytest
import strategies
from conftest import examples
from hypothesis import HealthCheck, event, given, reject, settings

pytestmark = [pytest.mark.oracle, pytest.mark.usefixtures("no_external_network")]

DIFFERENTIAL = settings(
    deadline=None,
    derandomize=False,
    print_blob=True,
    report_multiple_bugs=False,  # shrink one failure per test; shrinking is the slow part
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def check_agreement(scn: oracle.Scenario, *, generated: bool = True) -> None:
    """Resolve ``scn`` with botocore (v1 and v2 rules) and with awsguard; fail on any difference."""
    with oracle.materialize(scn) as m:
        try:
            v1 = oracle.run_botocore(m, major=1)
        except oracle.UsageError:
            if not generated:
                raise
            reject()  # the CLI itself would exit 2 before resolving anything
        # Only the order of AWS_PROFILE/AWS_DEFAULT_PROFILE differs between the majors, so a
        # second botocore run is needed only when both are present (checked by
        # test_v2_emulation_differs_only_with_both_profile_variables).
        both = "AWS_PROFILE" in m.env and "AWS_DEFAULT_PROFILE" in m.env
        v2 = oracle.run_botocore(m, major=2) if both else v1
        oracle.STATS["differential scenarios"] += 1
        oracle.STATS[f"outcome {v1.source or v1.error}"] += 1
        if generated:
            event(f"botocore v1: {v1.source or v1.error}")
        comparisons = [
            oracle.compare(m, major=1, oracle=v1),
            oracle.compare(m, major=2, oracle=v2),
        ]
        if not all(c.agree for c in comparisons):
            raise AssertionError(oracle.disagreement_report(scn, m, comparisons))


# ---------------------------------------------------------------------------------------------
# Fixed shapes: every provider and every error at least once per run, whatever Hypothesis draws
# ---------------------------------------------------------------------------------------------

_KEYS = "aws_access_key_id = AKIAQ2EXAMPLEKEY0001\naws_secret_access_key = s\n"
_ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAQ2ENVIRONMENT001", "AWS_SECRET_ACCESS_KEY": "e"}
_ROLE = "role_arn = arn:aws:iam::123456789012:role/r\n"
_ARN = strategies.ARNS[0]


def _login(doc: object) -> dict[str, str]:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    return {oracle.login_cache_relpath(_ARN): text}


_LOGIN = f"[default]\nlogin_session = {_ARN}\n"
_SSO = (
    "[default]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n"
    "sso_account_id = 123456789012\nsso_role_name = R\n"
)
_scn = oracle.scenario

SHAPES: dict[str, tuple[oracle.Scenario, tuple[str | None, str | None]]] = {
    "env": (_scn(env=_ENV_KEYS), ("env", None)),
    "assume-role": (
        _scn(config=f"[default]\n{_ROLE}source_profile = s\n", credentials=f"[s]\n{_KEYS}"),
        ("assume-role", None),
    ),
    "web identity": (
        _scn(config=f"[default]\n{_ROLE}web_identity_token_file = @HOME@/t\n", files={"t": "eyJ"}),
        ("assume-role-with-web-identity", None),
    ),
    "sso": (_scn(config=_SSO), ("sso", None)),
    "shared credentials": (
        _scn(credentials=f"[default]\n{_KEYS}"),
        ("shared-credentials-file", None),
    ),
    "login": (_scn(config=_LOGIN, files=_login(oracle.login_token())), ("login", None)),
    "process": (
        _scn(config=f"[default]\ncredential_process = {oracle.process_command()}\n"),
        ("custom-process", None),
    ),
    "config keys": (_scn(config=f"[default]\n{_KEYS}"), ("config-file", None)),
    "ec2 file": (
        _scn(files={"e": "AWSAccessKeyId=A\nAWSSecretKey=s\n"}, env={"AWS_CREDENTIAL_FILE": "~/e"}),
        ("ec2-credentials-file", None),
    ),
    "boto": (_scn(files={".boto": f"[Credentials]\n{_KEYS}"}), ("boto-config", None)),
    "container": (
        _scn(env={"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x"}),
        ("container-role", None),
    ),
    "imds": (_scn(env={"AWS_EC2_METADATA_DISABLED": None}), ("iam-role", None)),
    "no credentials": (_scn(), (None, "NoCredentialsError")),
    "no-sign-request": (
        _scn(
            config=f"[default]\n{_ROLE}", argv=["--no-sign-request", "sts", "get-caller-identity"]
        ),
        (None, None),
    ),
    "missing profile": (_scn(env={"AWS_PROFILE": "nope"}), (None, "ProfileNotFound")),
    "partial env": (_scn(env={"AWS_ACCESS_KEY_ID": "A"}), (None, "PartialCredentialsError")),
    "both role sources": (
        _scn(
            config=f"[default]\n{_ROLE}source_profile = default\ncredential_source = Environment\n"
        ),
        (None, "InvalidConfigError"),
    ),
    "role loop": (
        _scn(config=f"[default]\n{_ROLE}source_profile = default\n"),
        (None, "InfiniteLoopConfigError"),
    ),
    "bad ini": (_scn(config="[default]\nregion = a\nregion = b\n"), (None, "ConfigParseError")),
    "missing ec2 file": (
        _scn(env={"AWS_CREDENTIAL_FILE": "@HOME@/none"}),
        (None, "ConfigNotFound"),
    ),
    "credential_source without source": (
        _scn(config=f"[default]\n{_ROLE}credential_source = EcsContainer\n"),
        (None, "CredentialRetrievalError"),
    ),
    "missing login cache": (_scn(config=_LOGIN), (None, "LoginTokenLoadError")),
    "login cache not JSON": (_scn(config=_LOGIN, files=_login("{")), (None, "KeyError")),
    "login expiresAt garbage": (
        _scn(config=_LOGIN, files=_login(oracle.login_token(expires_at="soon"))),
        (None, "ParserError"),
    ),
    "login expiresAt a number": (
        _scn(config=_LOGIN, files=_login(oracle.login_token(expires_at=12345))),  # type: ignore[arg-type]
        (None, "TypeError"),
    ),
    "env expiration garbage": (
        _scn(env={**_ENV_KEYS, "AWS_CREDENTIAL_EXPIRATION": "soon"}),
        (None, "ParserError"),
    ),
    "container host": (
        _scn(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://10.0.0.1/c"}),
        (None, "ValueError"),
    ),
    "container token file": (
        _scn(
            env={
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/x",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "@HOME@/none",
            }
        ),
        (None, "FileNotFoundError"),
    ),
    "sso-session checked by the token provider": (
        _scn(config="[default]\nsso_session = gone\n", env=_ENV_KEYS),
        (None, "InvalidConfigError"),
    ),
}


@pytest.mark.parametrize("name", SHAPES)
def test_fixed_shape_matches_botocore(name: str) -> None:
    scn, expected = SHAPES[name]
    assert oracle.botocore_outcome(scn).key() == expected, "the oracle itself changed"
    check_agreement(scn, generated=False)


def test_fixed_shapes_cover_every_method_and_error() -> None:
    seen = {expected for _, expected in SHAPES.values()}
    methods = {source for source, _ in seen if source}
    errors = {error for _, error in seen if error}
    assert methods == {
        "env",
        "assume-role",
        "assume-role-with-web-identity",
        "sso",
        "shared-credentials-file",
        "login",
        "custom-process",
        "config-file",
        "ec2-credentials-file",
        "boto-config",
        "container-role",
        "iam-role",
    }
    assert {
        "ProfileNotFound",
        "PartialCredentialsError",
        "InvalidConfigError",
        "InfiniteLoopConfigError",
        "ConfigParseError",
        "ConfigNotFound",
        "CredentialRetrievalError",
        "LoginTokenLoadError",
        "KeyError",
        "ValueError",
        "FileNotFoundError",
        "NoCredentialsError",
    } <= errors


# ---------------------------------------------------------------------------------------------
# Generated scenarios
# ---------------------------------------------------------------------------------------------


@settings(DIFFERENTIAL, max_examples=examples(ci=1100))
@given(scn=strategies.scenarios("all"))
def test_whole_chain_matches_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


@settings(DIFFERENTIAL, max_examples=examples(ci=300))
@given(scn=strategies.scenarios("profiles"))
def test_profile_selection_matches_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


@settings(DIFFERENTIAL, max_examples=examples(ci=300))
@given(scn=strategies.scenarios("roles"))
def test_role_chains_match_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


@settings(DIFFERENTIAL, max_examples=examples(ci=200))
@given(scn=strategies.scenarios("syntax"))
def test_file_syntax_matches_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


@settings(DIFFERENTIAL, max_examples=examples(ci=200))
@given(scn=strategies.scenarios("env"))
def test_environment_matches_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


# ---------------------------------------------------------------------------------------------
# Self-tests of the harness (botocore only; they do not need awsguard)
# ---------------------------------------------------------------------------------------------


@settings(DIFFERENTIAL, max_examples=examples(ci=60))
@given(scn=strategies.scenarios("profiles"))
def test_v2_emulation_differs_only_with_both_profile_variables(scn: oracle.Scenario) -> None:
    """Justifies skipping the second botocore run in check_agreement."""
    with oracle.materialize(scn) as m:
        try:
            v1 = oracle.run_botocore(m, major=1)
        except oracle.UsageError:
            reject()
        v2 = oracle.run_botocore(m, major=2)
        if not ("AWS_PROFILE" in m.env and "AWS_DEFAULT_PROFILE" in m.env):
            assert v1.full_key() == v2.full_key(), scn.describe()


def test_v2_emulation_reads_aws_profile_first() -> None:
    scn = oracle.scenario(
        config="[profile a]\nregion = us-east-1\n[profile b]\nregion = us-east-1\n",
        env={"AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"},
    )
    assert oracle.botocore_outcome(scn, major=1).profile == "b"
    assert oracle.botocore_outcome(scn, major=2).profile == "a"


def test_oracle_environment_is_exactly_the_scenario() -> None:
    os.environ["AWSGUARD_TEST_LEAK"] = "x"
    try:
        with oracle.materialize(oracle.scenario(env={"FOO": "@HOME@/bar"})) as m:
            with oracle.botocore_world(m):
                seen = dict(os.environ)
            assert "AWSGUARD_TEST_LEAK" in os.environ  # restored afterwards
        assert "AWSGUARD_TEST_LEAK" not in seen
        assert seen["HOME"] == m.home
        assert seen["FOO"] == f"{m.home}/bar"
        assert seen["AWS_EC2_METADATA_DISABLED"] == "true"
        assert set(seen) == {
            "PATH",
            "HOME",
            "FOO",
            "AWS_EC2_METADATA_DISABLED",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        }
    finally:
        del os.environ["AWSGUARD_TEST_LEAK"]


@pytest.mark.parametrize(
    "address",
    [("8.8.8.8", 53), ("169.254.169.254", 80), ("169.254.170.2", 80), ("2001:4860:4860::8888", 53)],
)
def test_network_guard_refuses_non_loopback(address: tuple[str, int]) -> None:
    import socket

    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s, pytest.raises(oracle.NetworkRefused):
        s.connect(address)
    with pytest.raises(oracle.NetworkRefused):
        socket.create_connection(address, timeout=0.1)
    with pytest.raises(oracle.NetworkRefused):
        socket.getaddrinfo("example.com", 443)


def test_network_guard_allows_the_loopback_stub() -> None:
    import urllib.request

    server = oracle.loopback_server()
    with urllib.request.urlopen(f"http://{server.hostport}/v2/credentials/x", timeout=5) as r:
        assert b"ASIACONTAINERSTUB001" in r.read()


def test_cli_parser_is_the_real_one() -> None:
    """The profile comes from awscli's own parser: prefixes, =, last wins, '--'."""
    parse = oracle.cli_global_args
    assert parse(["s3", "ls", "--prof", "x"]).profile == "x"
    assert parse(["--profile=y", "s3", "ls"]).profile == "y"
    assert parse(["--profile", "a", "s3", "ls", "--profile", "b"]).profile == "b"
    assert parse(["s3", "ls", "--", "--profile", "z"]).profile is None
    assert parse(["--profile", "", "s3", "ls"]).profile is None
    assert parse(["--no-sign-request", "s3", "ls"]).sign_request is False
    with pytest.raises(oracle.UsageError):
        parse(["s3", "ls", "--profile"])  # expected one argument
