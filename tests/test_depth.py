"""Nesting depths that file contents control, against the real CLI (docs/hostile-inputs.md §4).

Two places where the AWS CLI recurses as deep as a file tells it to, and dies of RecursionError
past ``sys.getrecursionlimit()`` (1000: the CLI's entry point never changes it):

- a ``source_profile`` chain: botocore assumes each role by recursion, while the chain loads and
  again, seven frames a role, when the credentials are first used;
- a JSON cache: the login provider ``json.load``s its cache file, whose C decoder counts every
  nested array or object against the same limit.

awsguard walks chains with a loop and parses JSON without its own stack in the way, and predicts
the CLI's RecursionError from the depth (providers.ROLES_AT_FIRST_USE, ROLES_AT_LOAD,
JSON_DEPTH_LIMIT).  Here the real ``aws`` v1 decides, at, below and above each bound: the CLI as
installed (its vendored botocore) and the same CLI in front of PyPI's botocore.  The CLI runs as
in tests/test_real_cli.py (loopback stub endpoint, network guard, no retries); its outcome is
RecursionError when it printed one (while loading or at first use), else what test_real_cli reads
from its log.  A cache the CLI never reads (an earlier provider won) must not change anything.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import oracle
import pytest
import strategies
import test_real_cli as realcli
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from awsguard.judge import policy
from awsguard.predict import providers
from awsguard.predict.resolver import resolve

pytestmark = [pytest.mark.oracle, pytest.mark.slow]

KEYS = "aws_access_key_id = AKIAQ2EXAMPLEKEY0001\naws_secret_access_key = s\n"
ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAQ2ENVIRONMENT001", "AWS_SECRET_ACCESS_KEY": "e"}
ROLE = "role_arn = arn:aws:iam::123456789012:role/r\n"
ARN = strategies.ARNS[0]
GCI = ("sts", "get-caller-identity")
RECURSION = "maximum recursion depth exceeded"

FIRST_USE = providers.ROLES_AT_FIRST_USE
LOAD = providers.ROLES_AT_LOAD
JSON_V1 = providers.JSON_DEPTH_LIMIT[1]

# The entry point of `.venv/bin/aws` (module -> main() -> awscli.clidriver.main(): the frame
# count matters here), importing PyPI's botocore first so that awscli keeps it.
PYPI_AWS = """\
#!{python}
import sys
import botocore
import awscli.clidriver


def main():
    return awscli.clidriver.main()


if __name__ == '__main__':
    sys.exit(main())
"""


@pytest.fixture(scope="module")
def pypi_aws(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("pypi-aws") / "aws"
    path.write_text(PYPI_AWS.format(python=sys.executable))
    path.chmod(0o755)
    # It really runs PyPI's botocore, not the CLI's copy (which has another version).
    pypi = importlib.metadata.version("botocore")
    vendored = _botocore_version(realcli.AWS)
    assert _botocore_version(str(path)) == pypi != vendored
    return str(path)


def _botocore_version(executable: str) -> str:
    out = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return out.split("botocore/")[1].split()[0]


# -- scenarios ---------------------------------------------------------------------------------


def role_chain(hops: int, leaf: str = "keys", argv: Sequence[str] = GCI) -> oracle.Scenario:
    """``default`` -> ``p1`` -> ... : ``hops`` profiles with a role, each the source of the one
    before; ``leaf`` says where the last role's credentials come from."""
    names = ["default"] + [f"p{i}" for i in range(1, hops + 1)]
    parts = []
    for parent, source in itertools.pairwise(names):
        header = "[default]" if parent == "default" else f"[profile {parent}]"
        parts.append(f"{header}\n{ROLE}source_profile = {source}\n")
    last = names[-1]
    credentials = None
    env: dict[str, str | None] = {}
    if leaf == "keys":
        credentials = f"[{last}]\n{KEYS}"
    elif leaf == "missing":  # the last role names a profile that does not exist
        parts[-1] = parts[-1].replace(f"source_profile = {last}", "source_profile = nosuch")
    elif leaf == "nocreds":  # the last source profile has no credentials at all
        parts.append(f"[profile {last}]\nregion = us-east-1\n")
    elif leaf == "environment":  # the last role takes the environment's keys
        parts[-1] = parts[-1].replace(f"source_profile = {last}", "credential_source = Environment")
        env = dict(ENV_KEYS)
        argv = ["--profile", "default", *argv]  # else the environment's keys win outright
    else:
        raise ValueError(leaf)
    return oracle.scenario(config="".join(parts), credentials=credentials, env=env, argv=argv)


def login_cache(document: str, *, keys_win: bool = False) -> oracle.Scenario:
    """A profile with ``login_session`` whose cache file holds ``document``; with ``keys_win``
    the credentials file has keys for it too, so the CLI never reads the cache."""
    return oracle.scenario(
        config=f"[default]\nlogin_session = {ARN}\n",
        credentials=f"[default]\n{KEYS}" if keys_win else None,
        files={oracle.login_cache_relpath(ARN): document},
    )


def nested(depth: int, kind: str = "[") -> str:
    if kind == "[":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def valid_token_with(junk: str) -> str:
    """A complete login token with one more field, ``junk`` (raw JSON text)."""
    token = json.dumps(oracle.login_token(expires_at="2099-01-01T00:00:00Z"))
    return token[:-1] + ', "junk": ' + junk + "}"


# -- running both ----------------------------------------------------------------------------


def outcomes(
    scn: oracle.Scenario, *, executable: str = realcli.AWS
) -> tuple[tuple[str | None, str | None], tuple[str | None, str | None]]:
    """(the CLI's (source, error), awsguard's) for one scenario."""
    with oracle.materialize(scn) as m:
        cli = realcli.run_real_cli(m, executable=executable)
        assert not cli.guard_reports, "\n".join(cli.guard_reports)
        argv, env = realcli.cli_invocation(m)
        asked = oracle.Materialized(scenario=scn, home=m.home, env=env, argv=argv)
        predicted, _ = oracle.run_awsguard(asked, major=1, crt=True)
    if RECURSION in cli.stderr:
        truth: tuple[str | None, str | None] = (None, "RecursionError")
    else:
        truth = cli.outcome.key()
    return truth, predicted.key()


def agree(scn: oracle.Scenario, expected: tuple[str | None, str | None], **kw: str) -> None:
    """The CLI shows ``expected`` (the bound is where this file says), and awsguard agrees."""
    truth, predicted = outcomes(scn, **kw)
    assert truth == expected, f"the real CLI: {truth}, expected {expected}\n{scn.describe()}"
    assert predicted == truth, f"awsguard {predicted}, the CLI {truth}"


ASSUMED = ("assume-role", None)
TOO_DEEP = (None, "RecursionError")


# -- role chains ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hops", "expected"),
    [
        (1, ASSUMED),
        (50, ASSUMED),
        (FIRST_USE - 2, ASSUMED),
        (FIRST_USE - 1, ASSUMED),
        (FIRST_USE, TOO_DEEP),
        (FIRST_USE + 1, TOO_DEEP),
        (200, TOO_DEEP),
        (LOAD - 1, TOO_DEEP),
        (LOAD, TOO_DEEP),
        (LOAD + 5, TOO_DEEP),
        (1000, TOO_DEEP),
    ],
)
def test_role_chain_depth(hops: int, expected: tuple[str | None, str | None]) -> None:
    agree(role_chain(hops), expected)


@pytest.mark.parametrize("hops", [FIRST_USE - 1, FIRST_USE])
def test_role_chain_depth_behind_pypi_botocore(hops: int, pypi_aws: str) -> None:
    agree(role_chain(hops), ASSUMED if hops < FIRST_USE else TOO_DEEP, executable=pypi_aws)


@pytest.mark.parametrize("hops", [FIRST_USE - 1, FIRST_USE])
def test_role_chain_depth_with_a_credential_source(hops: int) -> None:
    agree(role_chain(hops, "environment"), ASSUMED if hops < FIRST_USE else TOO_DEEP)


@pytest.mark.parametrize(
    ("leaf", "hops", "error"),
    [
        # The source profile without credentials: its error is found at LOAD roles or never.
        ("nocreds", LOAD - 1, "InvalidConfigError"),
        ("nocreds", LOAD, "RecursionError"),
        ("nocreds", LOAD + 1, "RecursionError"),
        # A source_profile that does not exist, found while LOAD - 1 roles are loaded: the
        # error; a few roles past the bound (LOAD + 3: its check runs a frame higher, see
        # providers.ROLES_AT_LOAD), RecursionError.
        ("missing", 200, "InvalidConfigError"),
        ("missing", LOAD, "InvalidConfigError"),
        ("missing", LOAD + 4, "RecursionError"),
        ("missing", 1000, "RecursionError"),
    ],
)
def test_a_broken_chain_fails_where_the_cli_stops(leaf: str, hops: int, error: str) -> None:
    agree(role_chain(hops, leaf), (None, error))


@pytest.mark.xfail(
    strict=True,
    reason="known: operations the CLI paginates go one frame deeper, so 134 roles already fail "
    "there; awsguard cannot tell which operations paginate (providers.ROLES_AT_FIRST_USE)",
)
def test_a_paginated_operation_fails_one_role_earlier() -> None:
    agree(role_chain(FIRST_USE - 1, argv=("ec2", "describe-instances")), TOO_DEEP)


def test_awsguard_walks_a_long_chain_without_recursing() -> None:
    """10,000 chained roles: awsguard answers (no RecursionError of its own) and stops reading
    at the CLI's bound; the negative control is one role short of the first bound."""
    with oracle.materialize(role_chain(10_000)) as m:
        res = resolve(list(m.argv), dict(m.env), major=1, crt=True)
        assert res.error is not None and res.error.code == "RecursionError"
        assert len(res.hops) == LOAD
    with oracle.materialize(role_chain(FIRST_USE - 1)) as m:
        res = resolve(list(m.argv), dict(m.env), major=1, crt=True)
        assert res.error is None and res.source == "assume-role"
        assert len(res.hops) == FIRST_USE - 1


# -- JSON caches ---------------------------------------------------------------------------------

LOGIN_FAILS = (None, "LoginTokenLoadError")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (nested(1), LOGIN_FAILS),
        (nested(500), LOGIN_FAILS),
        (nested(JSON_V1 - 1), LOGIN_FAILS),
        (nested(JSON_V1), TOO_DEEP),
        (nested(JSON_V1 + 1), TOO_DEEP),
        (nested(5000), TOO_DEEP),
        (nested(100_000), TOO_DEEP),
        (nested(JSON_V1 - 1, "{"), LOGIN_FAILS),
        (nested(JSON_V1, "{"), TOO_DEEP),
        # A working token with a deep extra field: one level for the token itself.
        (valid_token_with(nested(JSON_V1 - 2)), ("login", None)),
        (valid_token_with(nested(JSON_V1 - 1)), TOO_DEEP),
        # The decoder reads left to right: a syntax error before the deep part wins ...
        ('{"a" 1, "b": ' + "[" * 5000, (None, "KeyError")),
        ("[1 " + "[" * 5000, (None, "KeyError")),
        # ... and one after it is never reached.
        ("[" * 5000 + "]" + "junk", TOO_DEEP),
    ],
)
def test_login_cache_depth(document: str, expected: tuple[str | None, str | None]) -> None:
    agree(login_cache(document), expected)


@pytest.mark.parametrize("depth", [JSON_V1 - 1, JSON_V1])
def test_login_cache_depth_behind_pypi_botocore(depth: int, pypi_aws: str) -> None:
    agree(
        login_cache(nested(depth)),
        LOGIN_FAILS if depth < JSON_V1 else TOO_DEEP,
        executable=pypi_aws,
    )


@pytest.mark.parametrize("depth", [5000, 1_000_000])
def test_a_cache_the_cli_never_reads_changes_nothing(depth: int) -> None:
    """Keys in the credentials file win before the login provider is asked: the CLI never opens
    its cache, and however it is nested, awsguard's prediction (and verdict) stay those of a
    well-formed cache."""
    agree(login_cache(nested(depth), keys_win=True), ("shared-credentials-file", None))
    plain = login_cache(json.dumps(oracle.login_token()), keys_win=True)
    with oracle.materialize(plain) as m:
        well_formed = resolve(list(m.argv), dict(m.env), major=1, crt=True)
    with oracle.materialize(login_cache(nested(depth), keys_win=True)) as m:
        deep = resolve(list(m.argv), dict(m.env), major=1, crt=True)
    assert (deep.source, deep.error) == (well_formed.source, well_formed.error)
    assert policy.judge(deep, {})[1] == policy.judge(well_formed, {})[1] == "block"


@settings(max_examples=examples(ci=12), deadline=None)
@given(
    depth=st.integers(JSON_V1 - 6, JSON_V1 + 6),
    kinds=st.lists(st.sampled_from(["[", "{"]), min_size=1, max_size=3),
    wrapped=st.booleans(),
)
def test_generated_nesting_around_the_bound(depth: int, kinds: list[str], wrapped: bool) -> None:
    """Arrays and objects mixed, bare or inside a working token, a few levels either side of
    the bound: awsguard says what the CLI does."""
    opening = "".join('{"k":' if kinds[i % len(kinds)] == "{" else "[" for i in range(depth))
    closing = "".join("}" if kinds[i % len(kinds)] == "{" else "]" for i in reversed(range(depth)))
    inner = opening + "0" + closing
    document = valid_token_with(inner) if wrapped else inner
    truth, predicted = outcomes(login_cache(document))
    assert predicted == truth, f"depth {depth} {kinds} wrapped={wrapped}: CLI {truth}"


def test_v2_rules_never_crash_on_deep_json(tmp_path: Path) -> None:
    """CLI v2 (unmeasured here: no v2 binary) is predicted with its own bound; whatever the
    depth, awsguard answers with a CLI error, never one of its own."""
    for depth in (providers.JSON_DEPTH_LIMIT[2] - 1, providers.JSON_DEPTH_LIMIT[2], 200_000):
        with oracle.materialize(login_cache(nested(depth))) as m:
            res = resolve(list(m.argv), dict(m.env), major=2, crt=True)
        assert res.error is not None
        assert res.error.code in ("LoginTokenLoadError", "RecursionError"), res.error.code
        assert res.error.provider == "login"


def test_awsguard_stack_depth_does_not_change_the_answer() -> None:
    """The answer is the same whether awsguard is called shallow or with most of its own stack
    already used (it raises its limit for the parse, within the fixed bound)."""
    document = valid_token_with(nested(JSON_V1 - 2))
    code = textwrap.dedent(
        f"""
        import json, sys
        from awsguard.predict import providers
        text = {document!r}
        def deep(n):
            return deep(n - 1) if n else providers.parse_json(text, 1)
        shallow = providers.parse_json(text, 1)
        print(json.dumps([type(shallow).__name__, type(deep(sys.getrecursionlimit() - 60)).__name__]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    ).stdout
    assert json.loads(out) == ["dict", "dict"]
