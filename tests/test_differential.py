"""Differential test: awsguard's offline prediction against real botocore.

Each drawn scenario (tests/strategies.py) is written into a private HOME and resolved twice:
by botocore in-process, exactly as a signed `aws` service command would (tests/oracle.py), and
by ``awsguard.resolver.resolve``. The effective profile, the winning provider
(``credentials.method``) and the error class must be identical, for CLI v1 (botocore's own
profile-variable order) and CLI v2 (AWS_PROFILE first), with awscrt present.

Every run draws new scenarios (``derandomize=False``); a failing one is shrunk to a minimal
scenario and replayed first on the next run from the Hypothesis database. The number of
scenarios and the spread of botocore outcomes are printed in the pytest terminal summary.
The total per run is the sum of the ``max_examples`` below (2,100).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, event, given, reject, settings

import oracle
import strategies

pytestmark = [pytest.mark.oracle, pytest.mark.usefixtures("no_external_network")]

DIFFERENTIAL = settings(
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def check_agreement(scn: oracle.Scenario) -> None:
    """Resolve ``scn`` with botocore (v1 and v2 rules) and with awsguard; fail on any difference."""
    with oracle.materialize(scn) as m:
        try:
            v1 = oracle.run_botocore(m, major=1)
        except oracle.UsageError:
            reject()  # the CLI itself would exit 2 before resolving anything
        # Only the order of AWS_PROFILE/AWS_DEFAULT_PROFILE differs between the majors, so a
        # second botocore run is needed only when both are present (checked by
        # test_v2_emulation_differs_only_with_both_profile_variables).
        both = "AWS_PROFILE" in m.env and "AWS_DEFAULT_PROFILE" in m.env
        v2 = oracle.run_botocore(m, major=2) if both else v1
        oracle.STATS["differential scenarios"] += 1
        oracle.STATS[f"outcome {v1.source or v1.error}"] += 1
        event(f"botocore v1: {v1.source or v1.error}")
        comparisons = [
            oracle.compare(m, major=1, oracle=v1),
            oracle.compare(m, major=2, oracle=v2),
        ]
        if not all(c.agree for c in comparisons):
            raise AssertionError(oracle.disagreement_report(scn, m, comparisons))


@settings(DIFFERENTIAL, max_examples=1100)
@given(scn=strategies.scenarios("all"))
def test_whole_chain_matches_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


@settings(DIFFERENTIAL, max_examples=300)
@given(scn=strategies.scenarios("profiles"))
def test_profile_selection_matches_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


@settings(DIFFERENTIAL, max_examples=300)
@given(scn=strategies.scenarios("roles"))
def test_role_chains_match_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


@settings(DIFFERENTIAL, max_examples=200)
@given(scn=strategies.scenarios("syntax"))
def test_file_syntax_matches_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


@settings(DIFFERENTIAL, max_examples=200)
@given(scn=strategies.scenarios("env"))
def test_environment_matches_botocore(scn: oracle.Scenario) -> None:
    check_agreement(scn)


# ---------------------------------------------------------------------------------------------
# Self-tests of the harness (botocore only; they do not need awsguard)
# ---------------------------------------------------------------------------------------------


@settings(DIFFERENTIAL, max_examples=60)
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
