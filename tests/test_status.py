"""`awsguard status`: every profile, one row each, from one reading of the files.

The rows are checked three ways on the worlds the differential test generates
(tests/strategies.py): the list of profiles is botocore's own ``Session.available_profiles``, in
its order; each row is the ``explain`` object of ``--profile NAME sts get-caller-identity``
(``resolve()`` on its own, one call per profile) in every summary field; and each row's source or
error is what botocore itself resolves for that profile.  Then the command itself: the table, the
current profile, ``--problems``, ``--json``, malformed files, and that the files are read a fixed
number of times however many profiles they hold.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import oracle
import pytest
import strategies
from conftest import examples
from hypothesis import HealthCheck, given, settings

from awsguard import errors
from awsguard.commands import status
from awsguard.judge import policy
from awsguard.predict import inifile
from awsguard.predict.resolver import resolve
from awsguard.present import report, statustable

pytestmark = pytest.mark.usefixtures("no_external_network")

VENV_BIN = Path(sys.executable).parent
AWSGUARD = VENV_BIN / "awsguard"
NOW = time.time()
# The profile (tests/conftest.py) decides randomization and the budget; these only relax checks.
WORLDS = settings(
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def _explain_summary(name: str, env: dict[str, str], major: int) -> dict[str, object]:
    """What `awsguard explain --json -- --profile=NAME sts get-caller-identity` says, cut to
    the summary fields of a status row."""
    res = resolve([f"--profile={name}", *status.PROBE_ARGS], env, major=major, crt=True, now=NOW)
    findings, verdict = policy.judge(res, env)
    full = report.to_json(res, findings, verdict, None)
    return {key: full[key] for key in statustable.SUMMARY_FIELDS}


def _botocore_profiles(m: oracle.Materialized) -> list[str] | str:
    """botocore's list of profiles, or the class of what it raises."""
    with oracle.botocore_world(m):
        try:
            return list(oracle.new_session(1).available_profiles)
        except Exception as exc:
            return type(exc).__name__


def check_world(scn: oracle.Scenario) -> None:
    with oracle.materialize(scn) as m:
        truth = _botocore_profiles(m)
        for major in (1, 2):
            try:
                table = status.gather(
                    m.env, cli=None, major=major, crt=True, settings=None, now=NOW
                )
            except errors.AwsGuardError as exc:
                assert truth == "ConfigParseError", (truth, exc.message, scn.describe())
                assert exc.message.startswith("cannot list the profiles: "), exc.message
                continue
            names = [row.name for row in table.rows]
            assert names == truth, scn.describe()
            for row in table.rows:
                if not row.name:
                    continue  # `--profile ""` selects no profile: nothing to compare with
                got = statustable.row_json(row, None)
                assert got["current"] == row.current
                want = _explain_summary(row.name, m.env, major)
                assert {k: got[k] for k in want} == want, (row.name, major, scn.describe())
                if major == 1:
                    argv = [f"--profile={row.name}", *status.PROBE_ARGS]
                    with oracle.botocore_world(m):
                        outcome, _ = oracle.resolve_in_world(
                            dataclasses.replace(m, argv=argv), major=1
                        )
                    assert (row.res.source, row.res.error.code if row.res.error else None) == (
                        outcome.source,
                        outcome.error,
                    ), (row.name, scn.describe())


@pytest.mark.oracle
@settings(WORLDS, max_examples=examples(ci=150))
@given(scn=strategies.scenarios("all"))
def test_every_row_is_explain_and_botocore_for_that_profile(scn: oracle.Scenario) -> None:
    check_world(scn)


@pytest.mark.oracle
@settings(WORLDS, max_examples=examples(ci=60))
@given(scn=strategies.scenarios("syntax"))
def test_rows_on_odd_file_syntax(scn: oracle.Scenario) -> None:
    check_world(scn)


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------

SECRET = "statusTestSecretNeverPrinted0000000000000"
LOGIN_ARN = "arn:aws:iam::999999999999:user/test_user_B"


def _login_cache(home: Path, arn: str = LOGIN_ARN, account: str = "999999999999") -> None:
    import logincache

    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    doc = logincache.document(
        account,
        access_key_id="ASIAEXAMPLEEXAMPLE00",
        secret_access_key=SECRET,
        session_token=SECRET,
        expires_at=expires,
        refresh_token=SECRET,
    )
    logincache.write(home, arn, doc)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """Four profiles: the field report's trap, a clean login, keys only, a role from the trap."""
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "config").write_text(
        "[profile test_user]\nregion = ap-northeast-1\n"
        f"login_session = {LOGIN_ARN}\n"
        f"[profile dev]\nregion = eu-west-1\nlogin_session = {LOGIN_ARN}\n"
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\n"
        "source_profile = test_user\n"
    )
    (aws / "credentials").write_text(
        "[test_user]\naws_access_key_id = AKIAQAAAAAAAAJ5EXAMP\n"
        f"aws_secret_access_key = {SECRET}\n"
        f"[ci]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\n"
    )
    (aws / "credentials").chmod(0o600)
    _login_cache(tmp_path)
    return tmp_path


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        "HOME": str(home),
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWSGUARD_AWS": str(VENV_BIN / "aws"),
        "AWSGUARD_CLI_MAJOR": "2",  # v2 rules; the CLI is never started
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    env.update(extra)
    return env


def _status(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(AWSGUARD), "status", *args],
        env=_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert SECRET not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done


def _row(text: str, name: str) -> str:
    return next(line for line in text.splitlines() if f"  {name} " in line)


def test_table_shows_every_profile_with_its_verdict(home: Path) -> None:
    done = _status(home)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "4 profiles" in out.splitlines()[0]
    trap = _row(out, "test_user")
    assert trap.lstrip().startswith("!!") and "keys" in trap and "000000000000" in trap
    assert "login test_user_B 999999999999" in trap and "block login-shadowed" in trap
    clean_login = _row(out, "dev")
    assert "!" not in clean_login and " login " in clean_login and "ok" in clean_login
    assert "1h" in clean_login  # the session's time left (2 h, minus the run)
    # The role's source profile is the trap: its login is shadowed too.
    assert "login-shadowed" in _row(out, "admin")
    assert "AKIA" in _row(out, "ci") or " keys " in _row(out, "ci")


def test_current_profile_is_marked(home: Path) -> None:
    done = _status(home, AWS_PROFILE="dev")
    assert _row(done.stdout, "dev").startswith("*")
    assert not _row(done.stdout, "test_user").startswith("*")
    # Negative control: without AWS_PROFILE, `default` is meant, which does not exist here.
    plain = _status(home)
    assert not any(line.startswith("*") for line in plain.stdout.splitlines())
    assert "uses profile default" in plain.stdout


def test_environment_keys_over_the_current_profile_are_said(home: Path) -> None:
    done = _status(
        home,
        AWS_PROFILE="dev",
        AWS_ACCESS_KEY_ID="AKIAQAAAAAAAAJ5EXAMP",
        AWS_SECRET_ACCESS_KEY=SECRET,
    )
    assert "access keys in the environment win" in done.stdout
    assert "env-overrides-profile" in done.stdout
    # The row itself is `--profile dev`, where environment keys do not count.
    assert " login " in _row(done.stdout, "dev")


def test_problems_lists_only_problems_worst_first_and_exits_1(home: Path) -> None:
    done = _status(home, "--problems")
    assert done.returncode == 1
    names = [
        line.split()[1] for line in done.stdout.splitlines() if line[:3].strip() in ("!!", "!", "?")
    ]
    assert names == ["test_user", "admin"]
    assert "  dev " not in done.stdout and "  ci " not in done.stdout
    # Negative control: once the keys are gone, no problem is left.
    (home / ".aws" / "credentials").write_text(
        f"[ci]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\n"
    )
    fixed = _status(home, "--problems")
    assert fixed.returncode == 0, fixed.stdout
    assert "no problems in 4 profiles" in fixed.stdout


def test_json_rows_are_explain_summaries(home: Path) -> None:
    done = _status(home, "--json", AWS_PROFILE="test_user")
    rows = json.loads(done.stdout)
    assert [r["profile"] for r in rows] == ["test_user", "dev", "admin", "ci"]
    by = {r["profile"]: r for r in rows}
    assert by["test_user"]["current"] is True and by["dev"]["current"] is False
    assert by["test_user"]["source"] == "shared-credentials-file"
    assert by["test_user"]["identity"]["account"] == "000000000000"
    assert by["test_user"]["session"]["account"] == "999999999999"
    assert by["test_user"]["verdict"] == "block"
    assert {f["rule"] for f in by["test_user"]["findings"]} >= {"login-shadowed"}
    assert by["dev"]["source"] == "login" and by["dev"]["verdict"] == "allow"
    assert by["dev"]["region"] == "eu-west-1"
    # The same object explain prints, field by field.
    explain = subprocess.run(
        [str(AWSGUARD), "explain", "--json", "--", "--profile", "test_user", *status.PROBE_ARGS],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    full = json.loads(explain.stdout)
    for key in statustable.SUMMARY_FIELDS:
        assert by["test_user"][key] == full[key], key


@pytest.mark.parametrize(
    ("config", "where"),
    [
        (
            f"[default]\nregion = a\naws_secret_access_key = {SECRET}\naws_secret_access_key = x\n",
            ":4: duplicate option",
        ),
        (f"aws_secret_access_key = {SECRET}\n[default]\n", ":1: line outside any section"),
        (f"[default]\nthis line is {SECRET}\n", ":2: line without"),
        (b"[default]\nregion = \xff\xfe\n", "invalid UTF-8"),
    ],
)
def test_unparseable_file_names_line_and_reason_never_text(
    home: Path, config: str | bytes, where: str
) -> None:
    path = home / ".aws" / "config"
    path.write_bytes(config if isinstance(config, bytes) else config.encode())
    done = _status(home)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "awsguard: cannot list the profiles: ~/.aws/config" in done.stderr
    assert where in done.stderr


@pytest.mark.parametrize("kind", ["directory", "fifo", "empty", "huge-line"])
def test_odd_files_never_traceback(home: Path, kind: str) -> None:
    path = home / ".aws" / "config"
    path.unlink()
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "empty":
        path.write_text("")
    else:
        path.write_text("[profile x]\nregion = " + "a" * 2_000_000 + "\n")
    done = _status(home)
    assert done.returncode in (0, 1), done.stderr
    assert "internal error" not in done.stderr
    json_done = _status(home, "--json")
    if json_done.returncode == 0:
        assert isinstance(json.loads(json_done.stdout), list)


def test_files_are_read_once_however_many_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scaling: the config is loaded a fixed number of times, not once per profile."""
    aws = tmp_path / ".aws"
    aws.mkdir()
    loads: list[str] = []
    real_load = inifile.load

    def counting_load(path: str, *, validate: bool = True) -> inifile.IniFile | None:
        loads.append(path)
        return real_load(path, validate=validate)

    monkeypatch.setattr(inifile, "load", counting_load)
    env = {"HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true"}
    counts = []
    for n in (3, 300):
        (aws / "config").write_text(
            "".join(
                f"[profile p{i}]\nregion = eu-west-1\nlogin_session = {LOGIN_ARN}\n"
                for i in range(n)
            )
        )
        (aws / "credentials").write_text(
            "".join(
                f"[p{i}]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
                for i in range(0, n, 2)
            )
        )
        loads.clear()
        table = status.gather(env, cli=None, major=2, crt=True, settings=None)
        assert len(table.rows) == n
        counts.append((loads.count(str(aws / "config")), loads.count(str(aws / "credentials"))))
    assert counts[0] == counts[1], counts
    assert counts[1][0] <= 2 and counts[1][1] <= 2, counts


def test_hostile_names_and_values_are_shown_not_obeyed(tmp_path: Path) -> None:
    """Escape sequences, BEL and bidi controls in a profile name or a region reach the terminal
    made visible, never as the bytes themselves (docs/hostile-inputs.md)."""
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "config").write_bytes(
        b"[profile ev\x1b[31mil]\nregion = us-east-1\x1b]0;pwn\x07\n"
        b"[profile \xe2\x80\xaeabc]\nregion = x\n"
        b"[profile plain]\nregion = eu-west-1\n"
    )
    done = subprocess.run(
        [str(AWSGUARD), "status"],
        env=_env(tmp_path),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert b"3 profiles" in out
    for raw in (b"\x1b", b"\x07", "\u202e".encode()):
        assert raw not in out + done.stderr
    # Negative control: the plain profile is shown exactly.
    assert b"  plain " in out and b"eu-west-1" in out
