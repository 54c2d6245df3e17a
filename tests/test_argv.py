"""argv rules: awsguard's parser against the real CLI's own argparse parser (awscli v1)."""

from __future__ import annotations

import contextlib
import io

import pytest
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsguard.predict import argv


@pytest.fixture(scope="module")
def cli_parser():
    from awscli.clidriver import create_clidriver

    driver = create_clidriver()
    return driver._create_parser(driver._get_command_table())


def oracle(parser, words):
    """What the real CLI's top-level parser makes of ``words``: parsed values or the error text."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ns, _ = parser.parse_known_args(list(words))
    except SystemExit:
        return None, err.getvalue()
    return ns, ""


# Tokens that exercise every rule: exact, abbreviated, `=` forms, ambiguous prefixes, flags with
# values, unknown options, negative numbers, spaces, empty strings and the `--` terminator.
TOKENS = [
    "--profile", "--prof", "--p", "--pr", "--profile=", "--profile=alpha", "--prof=beta",
    "--region", "--reg", "--region=eu-west-1", "--debug", "--d", "--debug=1", "--no",
    "--no-sign-request", "--no-s", "--output", "json", "yaml", "--endpoint-url", "--e",
    "--query", "--c", "--color", "on", "-x", "-1", "-.5", "--", "alpha", "beta", "", "a b",
    "-a b", "s3", "sts", "ec2", "ls", "get-caller-identity", "--bucket", "--v2-debug",
]  # fmt: skip


@settings(
    max_examples=examples(ci=600),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(words=st.lists(st.sampled_from(TOKENS), max_size=8))
def test_global_options_match_the_cli_parser(cli_parser, words):
    ns, error = oracle(cli_parser, words)
    ours = argv.parse(words, major=1)
    if ns is None:
        if "Invalid choice" in error:
            # A bad service name: the CLI stops before credentials; awsguard does not list services.
            return
        if "required: command" in error:
            # No command at all; awsguard explains a generic service command then.
            assert ours.command is None and ours.usage_error is None
            return
        assert ours.usage_error, (
            f"CLI rejects {words!r} ({error.strip()[-120:]}) but awsguard does not"
        )
        return
    assert ours.usage_error is None, f"awsguard rejects {words!r}: {ours.usage_error}"
    assert ours.profile == (ns.profile or None), words
    assert ours.region == (ns.region or None), words
    assert ours.debug == bool(ns.debug), words
    assert ours.no_sign_request == (not ns.sign_request), words
    assert ours.command == ns.command, words


@pytest.mark.parametrize(
    ("words", "profile"),
    [
        (["s3", "ls", "--profile", "x"], "x"),  # after the subcommand
        (["--profile=x", "s3"], "x"),
        (["--prof", "x", "s3"], "x"),  # unique prefix
        (["--p=x", "s3"], "x"),
        (["--profile", "a", "--profile", "b", "s3"], "b"),  # last wins
        (["--profile", "a", "--profile", "", "s3"], None),  # last is empty: ignored by the CLI
        (["s3", "--", "--profile", "x"], None),  # nothing after --
        (["--profile", "-1", "sts"], "-1"),  # a negative number is a value
        (["--profile", "a b", "sts"], "a b"),
        (["s3", "ls"], None),
    ],
)
def test_profile_rules(words, profile):
    assert argv.parse(words).profile == profile


@pytest.mark.parametrize(
    "words",
    [
        ["--profile"],  # value missing
        ["--profile", "--debug", "s3"],  # an option is not a value
        ["--no", "s3"],  # ambiguous prefix
        ["--debug=1", "s3"],  # a flag takes no value
        ["--output", "xml", "s3"],  # not a choice
    ],
)
def test_usage_errors(words):
    assert argv.parse(words).usage_error


def test_usage_error_control():
    assert argv.parse(["--output", "json", "s3"]).usage_error is None


def test_flags_and_words():
    args = argv.parse(
        ["--debug", "s3", "cp", "--no-sign-request", "a", "b", "--region", "us-west-2"]
    )
    assert (args.debug, args.no_sign_request, args.region) == (True, True, "us-west-2")
    assert (args.command, args.operation) == ("s3", "cp")
    assert argv.parse(["ec2", "--filters", "x", "describe-instances"]).command == "ec2"


def test_v2_only_options():
    # --no-cli-pager exists only in v2; in v1 it is left to the sub-command (an unknown option).
    assert argv.parse(["--no-cli-p", "s3"], major=2).usage_error is None
    assert argv.parse(["--output", "yaml", "s3"], major=2).usage_error is None
    assert argv.parse(["--output", "yaml", "s3"], major=1).usage_error
