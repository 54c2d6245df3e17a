"""``awsguard fix`` as a user runs it: the installed command in a fresh process, real files.

Each test builds a private HOME (tests/fixkit.py): keys of user A in ~/.aws/credentials shadow the
``aws login`` session of user B, or a variation.  Expected file contents are written out by hand
from the input (never taken from awsguard's own output); after a fix, ``awsguard explain --json``
and - for the resolution itself - real botocore (tests/oracle.py) say what the CLI will use now.
Every stream of every run is checked for every secret (fixkit.assert_no_secrets).
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import fixkit
import oracle
import pytest
from fixkit import KEY_A, LOGIN_ARN, SECRET_A, Home

PROFILE = "test_user"


@pytest.fixture
def h(tmp_path: Path) -> Home:
    return Home(tmp_path)


def explain(h: Home, *args: str, extra: dict[str, str | None] | None = None) -> dict[str, object]:
    done = subprocess.run(
        [str(fixkit.AWSGUARD), "explain", "--json", "--", *args],
        env=h.env(extra),
        capture_output=True,
        timeout=fixkit.HANG_GUARD,
        check=False,
    )
    fixkit.assert_no_secrets(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert isinstance(doc, dict)
    return doc


def botocore_source(h: Home, profile: str, extra: dict[str, str] | None = None) -> str | None:
    """What the real CLI's botocore resolves for ``aws --profile PROFILE`` in this HOME."""
    env = {**h.env(), **(extra or {})}
    m = oracle.Materialized(
        scenario=oracle.Scenario(),
        home=str(h.home),
        env=env,
        argv=["--profile", profile, "sts", "get-caller-identity"],
    )
    outcome = oracle.run_botocore(m, major=2)
    return outcome.source or outcome.error


def fixed_bytes(old: bytes) -> bytes:
    """credentials_of_a() without [test_user] and its two keys (lines 6-8), by hand."""
    return fixkit.without_lines(old, {6, 7, 8})


# -- the plan, the question, the apply ------------------------------------------------------------


def test_dry_run_shows_the_masked_plan_and_changes_nothing(h: Home) -> None:
    old = h.field_report()
    mtime = h.cred.stat().st_mtime_ns
    run = h.fix("--profile", PROFILE, "--dry-run")
    assert run.returncode == 0, run.describe()
    out = run.out
    assert (
        "login-shadowed" in out
        and "remove aws_access_key_id, aws_secret_access_key from [test_user]" in out
    )
    assert "-[test_user]" in out
    assert f"-aws_access_key_id = {KEY_A[:4]}…{KEY_A[-4:]}" in out
    assert "-aws_secret_access_key = ****" in out
    assert " aws_secret_access_key = ****" in out  # context lines are masked too
    assert "dry run: nothing was changed" in out
    assert h.cred.read_bytes() == old and h.cred.stat().st_mtime_ns == mtime
    assert h.backups() == [] and not h.data_dir.exists()


def test_without_a_terminal_it_asks_for_yes_and_changes_nothing(h: Home) -> None:
    old = h.field_report()
    run = h.fix("--profile", PROFILE)
    assert run.returncode == 1, run.describe()
    assert "pass --yes" in run.err and "-[test_user]" in run.out
    assert h.cred.read_bytes() == old and h.backups() == []


def test_yes_applies_proves_and_a_second_run_is_a_no_op(h: Home) -> None:
    old = h.field_report()
    h.cred.chmod(0o644)
    assert botocore_source(h, PROFILE) == "shared-credentials-file"
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 0, run.describe()
    assert h.cred.read_bytes() == fixed_bytes(old)
    assert stat.S_IMODE(h.cred.stat().st_mode) == 0o600
    assert "tightened from 0644 to 0600" in run.out
    [backup] = h.backups()
    assert backup.read_bytes() == old and stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert f"backup: ~/.aws/{backup.name}" in run.out
    assert "proof:  profile 'test_user' now uses its aws login session" in run.out
    assert h.temps() == []
    assert botocore_source(h, PROFILE) == "login"
    assert botocore_source(h, "other") == "shared-credentials-file"  # the other keys stay
    doc = explain(h, "--profile", PROFILE, "sts", "get-caller-identity")
    assert doc["source"] == "login" and doc["verdict"] == "allow"
    again = h.fix("--profile", PROFILE, "--yes")
    assert again.returncode == 0 and "nothing to fix" in again.out, again.describe()
    assert h.cred.read_bytes() == fixed_bytes(old) and len(h.backups()) == 1


def _run_on_tty(h: Home, args: list[str], answer: bytes) -> tuple[int, bytes, bytes]:
    """``awsguard fix ARGS`` with a terminal on stdin and stderr; ``answer`` typed at the
    question.  Returns (exit code, what the terminal showed, stdout)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(fixkit.AWSGUARD), "fix", *args],
        env=h.env({"TERM": "xterm"}),
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    shown = b""
    answered = False
    deadline = time.monotonic() + fixkit.HANG_GUARD
    try:
        while True:
            assert time.monotonic() < deadline, f"hang guard; terminal showed {shown!r}"
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
            if not answered and shown.rstrip().endswith(b"[y/N]"):
                os.write(master, answer + b"\n")
                answered = True
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.wait(timeout=fixkit.HANG_GUARD)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    fixkit.assert_no_secrets(shown, out)
    assert answered, shown
    return proc.returncode, shown, out


@pytest.mark.parametrize(
    ("answer", "applied"),
    [(b"y", True), (b"yes", True), (b"n", False), (b"", False), (b"sure", False)],
)
def test_on_a_terminal_it_asks_and_only_yes_applies(h: Home, answer: bytes, applied: bool) -> None:
    old = h.field_report()
    code, shown, out = _run_on_tty(h, ["--profile", PROFILE], answer)
    assert b"Apply this change to ~/.aws/credentials? [y/N]" in shown
    assert b"-[test_user]" in out  # the plan came before the question, on stdout
    if applied:
        assert code == 0
        assert h.cred.read_bytes() == fixed_bytes(old)
    else:
        assert code == 1 and b"declined" in shown
        assert h.cred.read_bytes() == old and h.backups() == []


def test_json_reports_plan_files_backups_and_the_resolution_after(h: Home) -> None:
    old = h.field_report()
    run = h.fix("--profile", PROFILE, "--yes", "--json")
    assert run.returncode == 0, run.describe()
    doc = json.loads(run.stdout)
    assert doc["applied"] is True and doc["profile"] == PROFILE
    [step] = doc["plan"]
    assert step["kind"] == "edit-file" and step["section"] == PROFILE
    assert step["options"] == ["aws_access_key_id", "aws_secret_access_key"]
    assert step["lines"] == [[7, 7], [8, 8]] and step["header_line"] == 6
    [file] = doc["files"]
    assert file["path"] == str(h.cred) and file["backup"] == doc["backups"][0]
    assert Path(file["backup"]).read_bytes() == old
    assert "-aws_secret_access_key = ****" in file["diff"]
    assert doc["after"]["source"] == "login" and doc["after"]["verdict"] == "allow"
    assert doc["error"] is None


def test_a_setting_that_stops_every_command_does_not_hide_the_shadowing(h: Home) -> None:
    """A bad region makes the CLI fail before it looks for credentials: nothing runs as the keys
    today, but they shadow the login the day the region is corrected.  fix removes them, names
    the setting it leaves to the user, and proves the login wins."""
    old = h.field_report()
    broken = {"AWS_REGION": "eu west 1"}
    # Control: explain predicts the CLI's own failure for the same call.
    error = explain(h, "--profile", PROFILE, "sts", "get-caller-identity", extra=broken)["error"]
    assert isinstance(error, dict) and error["code"] == "InvalidRegionError"
    run = h.fix("--profile", PROFILE, "--yes", "--json", extra=broken)
    assert run.returncode == 0, run.describe()
    doc = json.loads(run.stdout)
    assert doc["applied"] is True and h.cred.read_bytes() == fixed_bytes(old)
    assert doc["cli_error"]["code"] == "InvalidRegionError"
    assert doc["cli_error"]["origin"] == "AWS_REGION"
    assert doc["after"]["source"] == "login"
    text = h.fix("--profile", PROFILE, "--dry-run", extra=broken)
    assert b"InvalidRegionError" in text.stdout and b"nothing to fix" in text.stdout


def test_json_dry_run_and_refusal(h: Home) -> None:
    h.field_report()
    dry = json.loads(h.fix("--profile", PROFILE, "--dry-run", "--json").stdout)
    assert (
        dry["applied"] is False and dry["after"] is None and dry["plan"][0]["kind"] == "edit-file"
    )
    refused = h.fix("--profile", PROFILE, "--json")
    assert refused.returncode == 1
    doc = json.loads(refused.stdout)
    assert doc["applied"] is False and "no terminal" in doc["error"]["message"]


# -- what it repairs, and what it does not ----------------------------------------------------------


def test_keep_keys_as_moves_the_lines_to_a_new_section(h: Home) -> None:
    old = h.field_report()
    run = h.fix("--profile", PROFILE, "--yes", "--keep-keys-as", "test_user-iam")
    assert run.returncode == 0, run.describe()
    recs = fixkit.records(old)
    expected = fixed_bytes(old) + b"[test_user-iam]\n" + recs[6] + recs[7]
    assert h.cred.read_bytes() == expected
    assert botocore_source(h, PROFILE) == "login"
    assert botocore_source(h, "test_user-iam") == "shared-credentials-file"


@pytest.mark.parametrize("name", ["other", "test_user"])
def test_keep_keys_as_refuses_a_name_that_exists(h: Home, name: str) -> None:
    old = h.field_report()
    run = h.fix("--profile", PROFILE, "--yes", "--keep-keys-as", name)
    assert run.returncode == 1 and "exists already" in run.err, run.describe()
    assert h.cred.read_bytes() == old and h.backups() == []


@pytest.mark.parametrize("name", ["a]b", "x\ny", "DEFAULT", " lead", "", "bidi\u202e"])
def test_keep_keys_as_refuses_what_cannot_be_a_header(h: Home, name: str) -> None:
    old = h.field_report()
    run = h.fix("--profile", PROFILE, "--yes", "--keep-keys-as", name)
    assert run.returncode == 2, run.describe()
    assert h.cred.read_bytes() == old


@pytest.mark.parametrize("profile", ["a\rb", "x\ny", "p]", "[p"])
def test_profile_with_line_breaks_or_brackets_is_a_usage_error(h: Home, profile: str) -> None:
    """aws-cli PR #10163: CR/LF in a section name is an injection into the file."""
    old = h.field_report()
    run = h.fix("--profile", profile, "--yes")
    assert run.returncode == 2, run.describe()
    assert h.cred.read_bytes() == old


@pytest.mark.parametrize(
    "flags",
    [
        ["--yes", "--dry-run"],
        ["--shell", "--json"],
        ["--undo", "--keep-keys-as", "x"],
        ["--undo", "--profile", "p"],
    ],
)
def test_contradicting_options_are_usage_errors(h: Home, flags: list[str]) -> None:
    h.field_report()
    run = h.fix(*flags)
    assert run.returncode == 2 and "see: awsguard fix --help" in run.err, run.describe()


def test_help_is_helpful(h: Home) -> None:
    run = h.fix("--help")
    assert run.returncode == 0
    for words in (
        "--dry-run",
        "--keep-keys-as",
        "--undo",
        'eval "$(awsguard fix --shell)"',
        "Exit status",
    ):
        assert words in run.out, words


def test_role_source_profile_is_repaired_at_the_source(h: Home) -> None:
    old = h.field_report()
    h.write(
        h.conf,
        h.conf.read_text()
        + "\n[profile admin]\nrole_arn = arn:aws:iam::999999999999:role/Admin\nsource_profile = test_user\n",
    )
    run = h.fix("--profile", "admin", "--yes")
    assert run.returncode == 0, run.describe()
    assert "source of role profile 'admin'" in run.out
    assert h.cred.read_bytes() == fixed_bytes(old)
    doc = explain(h, "--profile", "admin", "sts", "get-caller-identity")
    assert doc["source_profile"]["source"] == "login"  # type: ignore[index]


def test_environment_keys_get_an_unset_line_and_the_file_keys_they_hid_are_found(h: Home) -> None:
    old = h.field_report()
    env = {
        "AWS_PROFILE": PROFILE,
        "AWS_ACCESS_KEY_ID": fixkit.KEY_OTHER,
        "AWS_SECRET_ACCESS_KEY": fixkit.SECRET_OTHER,
    }
    run = h.fix("--yes", extra=env)
    assert run.returncode == 0, run.describe()
    assert "env-overrides-profile" in run.out
    assert "your shell: unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY" in run.out
    assert 'eval "$(awsguard fix --shell)"' in run.out
    assert h.cred.read_bytes() == fixed_bytes(old)  # the keys the environment hid, too


def test_environment_keys_alone_are_not_applied_by_fix(h: Home) -> None:
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    env = {
        "AWS_PROFILE": PROFILE,
        "AWS_ACCESS_KEY_ID": KEY_A,
        "AWS_SECRET_ACCESS_KEY": SECRET_A,
        "AWS_SESSION_TOKEN": fixkit.TOKEN_A,
    }
    run = h.fix("--yes", extra=env)
    assert run.returncode == 1, run.describe()  # only the shell can do it: said, not done
    assert "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN" in run.out


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_eval_of_fix_shell_unsets_the_keys(h: Home, shell: str) -> None:
    program = shutil.which(shell)
    if program is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{shell} is required under CI")
        pytest.skip(f"{shell} is not installed")
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    keys = {"AWS_PROFILE": PROFILE, "AWS_ACCESS_KEY_ID": KEY_A, "AWS_SECRET_ACCESS_KEY": SECRET_A}
    alone = h.fix("--shell", extra=keys)
    assert (
        alone.returncode == 0 and alone.out == "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY\n"
    ), alone.describe()
    script = f'eval "$({fixkit.AWSGUARD} fix --shell)"; echo "id=${{AWS_ACCESS_KEY_ID-unset}} secret=${{AWS_SECRET_ACCESS_KEY-unset}} profile=$AWS_PROFILE"'
    done = subprocess.run(
        [program, "-c", script],
        env=h.env(keys),
        capture_output=True,
        timeout=fixkit.HANG_GUARD,
        check=False,
    )
    fixkit.assert_no_secrets(done.stdout, done.stderr)
    assert done.stdout.decode().strip() == "id=unset secret=unset profile=test_user", done
    # negative control: without eval the keys are there
    plain = subprocess.run(
        [program, "-c", 'echo "${AWS_ACCESS_KEY_ID:+set}"'],
        env=h.env(keys),
        capture_output=True,
        check=False,
    )
    assert plain.stdout.decode().strip() == "set"


def test_shell_mode_prints_nothing_to_eval_when_nothing_is_to_unset(h: Home) -> None:
    h.field_report()
    run = h.fix("--shell", "--profile", PROFILE)
    assert run.returncode == 0 and run.stdout == b"", run.describe()


def test_sso_ahead_of_a_login_is_explained_not_edited(h: Home) -> None:
    h.write(
        h.conf,
        f"[profile {PROFILE}]\nlogin_session = {LOGIN_ARN}\nsso_account_id = 123456789012\nsso_role_name = R\n"
        "sso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n",
    )
    h.login()
    old = h.write(h.cred, fixkit.credentials_of_a("other-profile")).read_bytes()
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 1, run.describe()
    assert "not repaired by awsguard fix" in run.out and "login-shadowed" in run.out
    assert "sso_*" in run.out and "~/.aws/config" in run.out
    assert h.cred.read_bytes() == old and h.backups() == []


def test_expected_account_is_explained_not_edited(h: Home) -> None:
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    policy = h.home / ".config" / "awsguard" / "config.toml"
    h.write(policy, f'[profiles.{PROFILE}]\nexpect_account = "111111111111"\n')
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 1, run.describe()
    assert "expected-account" in run.out and "expect_account" in run.out


def test_read_only_profile_is_explained_not_edited(h: Home) -> None:
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    policy = h.home / ".config" / "awsguard" / "config.toml"
    h.write(policy, f"[profiles.{PROFILE}]\nread_only = true\n")
    run = h.fix("--yes", "--", "s3", "rm", "s3://bucket/key", "--profile", PROFILE)
    assert run.returncode == 1, run.describe()
    assert "read-only" in run.out and "read_only = false" in run.out
    # negative control: the default command (sts get-caller-identity) only reads
    assert h.fix("--profile", PROFILE, "--yes").returncode == 0


def test_a_profile_named_in_two_places_is_explained_not_edited(h: Home) -> None:
    """AWS_PROFILE and AWS_DEFAULT_PROFILE name different profiles (CLI v1 and v2 disagree)."""
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    run = h.fix("--yes", extra={"AWS_PROFILE": PROFILE, "AWS_DEFAULT_PROFILE": "other"})
    assert run.returncode == 1, run.describe()
    assert "profile-env-disagree" in run.out and "unset AWS_DEFAULT_PROFILE" in run.out


def test_keys_inherited_from_default_are_explained_not_edited(h: Home) -> None:
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    text = f"[DEFAULT]\naws_access_key_id = {KEY_A}\naws_secret_access_key = {fixkit.SECRET_DEFAULT}\n\n[{PROFILE}]\nregion = x\n"
    old = h.write(h.cred, text).read_bytes()
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 1, run.describe()
    assert "[DEFAULT]" in run.out and "~/.aws/credentials:2" in run.out
    assert h.cred.read_bytes() == old


def test_a_key_id_without_its_secret_is_removed_too(h: Home) -> None:
    """hostile-inputs item 34: the CLI stops at the broken keys (PartialCredentialsError)
    before it reaches the login session; they shadow it all the same."""
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    text = f"[{PROFILE}]\naws_access_key_id = {KEY_A}\nregion = x\n"
    h.write(h.cred, text)
    assert botocore_source(h, PROFILE) == "PartialCredentialsError"
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 0, run.describe()
    assert "PartialCredentialsError" in run.out
    assert h.cred.read_text() == f"[{PROFILE}]\nregion = x\n"
    assert botocore_source(h, PROFILE) == "login"


def test_nothing_to_fix(h: Home) -> None:
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 0 and "nothing to fix" in run.out, run.describe()
    assert not h.cred.exists()


def test_a_missing_login_token_is_a_note_not_a_problem(h: Home) -> None:
    h.write(h.conf, fixkit.config_with_login())
    old = h.write(h.cred, fixkit.credentials_of_a()).read_bytes()
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 0, run.describe()  # the keys still shadow the session: removed
    assert h.cred.read_bytes() == fixed_bytes(old)
    assert "needs `aws login` first" in run.out


# -- files the CLI cannot parse are never edited -----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (
            f"[{PROFILE}]\naws_access_key_id = {KEY_A}\naws_secret_access_key = {SECRET_A}\nAWS_SECRET_ACCESS_KEY = {SECRET_A}\n",
            4,
            "duplicate option",
        ),
        (
            f"\ufeff[{PROFILE}]\naws_access_key_id = {KEY_A}\naws_secret_access_key = {SECRET_A}\n",
            1,
            "byte order mark",
        ),
        (
            f"aws_secret_access_key = {SECRET_A}\n[{PROFILE}]\naws_access_key_id = {KEY_A}\n",
            1,
            "outside any section",
        ),
        (
            f"[{PROFILE}]\naws_access_key_id = {KEY_A}\naws_secret_access_key = {SECRET_A}\n[{PROFILE}]\n",
            4,
            "duplicate section",
        ),
        (
            f"[{PROFILE}]\naws_access_key_id = {KEY_A}\naws_secret_access_key = {SECRET_A}\n# caf\xe9\n",
            4,
            "invalid UTF-8",
        ),
    ],
)
def test_unparseable_file_is_refused_with_its_line_never_its_text(
    h: Home, content: str, line: int, reason: str
) -> None:
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    data = content.encode("latin-1") if "\xe9" in content else content.encode()
    h.write(h.cred, data)
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 1, run.describe()
    assert "~/.aws/credentials cannot be parsed by the AWS CLI" in run.err
    assert f"line {line}" in run.err and reason in run.err, run.err
    assert "aws_secret_access_key =" not in run.err  # no line is echoed
    assert h.cred.read_bytes() == data and h.backups() == []


def test_a_config_file_the_cli_cannot_parse_stops_it_too(h: Home) -> None:
    h.write(h.conf, fixkit.config_with_login() + "region = again\n[profile other]\n")
    h.login()
    old = h.write(h.cred, fixkit.credentials_of_a()).read_bytes()
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 1 and "~/.aws/config cannot be parsed" in run.err, run.describe()
    assert h.cred.read_bytes() == old


# -- the path the CLI uses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["$CREDS_DIR/creds", "${CREDS_DIR}/creds", "~/elsewhere/creds"]
)
def test_aws_shared_credentials_file_is_honoured_with_vars_and_tilde(
    h: Home, spelling: str
) -> None:
    decoy = h.field_report()
    other_dir = h.home / "elsewhere"
    target = h.write(other_dir / "creds", fixkit.credentials_of_a())
    old = target.read_bytes()
    extra = {"AWS_SHARED_CREDENTIALS_FILE": spelling, "CREDS_DIR": str(other_dir)}
    run = h.fix("--profile", PROFILE, "--yes", extra=extra)
    assert run.returncode == 0, run.describe()
    assert target.read_bytes() == fixed_bytes(old)
    assert h.cred.read_bytes() == decoy  # the default file is not the CLI's file here
    assert [p.name for p in h.backups(other_dir)] != []


def test_aws_config_file_is_honoured(h: Home) -> None:
    h.write(h.cred, fixkit.credentials_of_a())
    h.login()
    conf = h.write(h.home / "cfg", fixkit.config_with_login())
    old = h.cred.read_bytes()
    plain = h.fix("--profile", PROFILE, "--dry-run")
    assert "nothing to fix" in plain.out  # negative control: without it, no login_session
    run = h.fix("--profile", PROFILE, "--yes", extra={"AWS_CONFIG_FILE": str(conf)})
    assert run.returncode == 0, run.describe()
    assert h.cred.read_bytes() == fixed_bytes(old)


def test_symlinked_credentials_are_edited_at_the_target_and_the_link_kept(h: Home) -> None:
    h.field_report()
    dotfiles = h.root / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "aws-credentials"
    shutil.move(h.cred, real)
    h.cred.symlink_to(real)
    old = real.read_bytes()
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 0, run.describe()
    assert h.cred.is_symlink() and os.readlink(h.cred) == str(real)
    assert real.read_bytes() == fixed_bytes(old)
    assert [p.name for p in dotfiles.iterdir()] == ["aws-credentials"]  # no copy of secrets there
    assert h.backups()[0].read_bytes() == old


def test_hard_linked_credentials_are_refused(h: Home) -> None:
    old = h.field_report()
    os.link(h.cred, h.root / "second-name")
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 1 and "2 hard links" in run.err, run.describe()
    assert h.cred.read_bytes() == old and (h.root / "second-name").read_bytes() == old
    assert h.backups() == []


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_not_a_regular_file_is_never_opened(h: Home, kind: str) -> None:
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    if kind == "fifo":
        os.mkfifo(h.cred)
    else:
        h.cred.mkdir()
    run = h.fix("--profile", PROFILE, "--yes")  # a FIFO would hang a reader: the guard catches it
    assert run.returncode == 0 and "nothing to fix" in run.out, run.describe()
    assert stat.S_ISFIFO(h.cred.lstat().st_mode) if kind == "fifo" else h.cred.is_dir()


@pytest.fixture
def nh() -> Iterator[Home]:
    """A HOME that user nobody can reach (pytest's tmp_path is private to root)."""
    if os.geteuid() != 0 or not fixkit.has_tool("setpriv"):
        pytest.skip("needs root and setpriv to run as nobody")
    root = Path(tempfile.mkdtemp(prefix="awsguard-fix-nobody-"))
    try:
        yield Home(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _as_nobody(h: Home) -> None:
    for path in [h.root, *h.root.rglob("*")]:
        os.chown(path, 65534, 65534, follow_symlinks=False)


@pytest.mark.parametrize("how", ["mode 0555", "another user's 0755 directory"])
def test_read_only_directory_is_refused_as_nobody(nh: Home, how: str) -> None:
    h = nh
    old = h.field_report()
    _as_nobody(h)
    if how == "mode 0555":
        h.aws.chmod(0o555)
        words = "is read-only (mode 0555)"
    else:
        os.chown(h.aws, 0, 0)  # nobody may read it, not write in it
        words = "is not writable"
    try:
        run = h.fix("--profile", PROFILE, "--yes", user=65534)
    finally:
        h.aws.chmod(0o755)
        os.chown(h.aws, 65534, 65534)
    assert run.returncode == 1 and words in run.err, run.describe()
    assert h.cred.read_bytes() == old and h.backups() == []
    # negative control: the same as nobody with a writable directory works
    ok = h.fix("--profile", PROFILE, "--yes", user=65534)
    assert ok.returncode == 0, ok.describe()
    assert h.cred.read_bytes() == fixed_bytes(old) and h.cred.stat().st_uid == 65534


def test_read_only_directory_is_respected_even_by_root(h: Home) -> None:
    old = h.field_report()
    h.aws.chmod(0o555)
    try:
        run = h.fix("--profile", PROFILE, "--yes")
    finally:
        h.aws.chmod(0o755)
    assert run.returncode == 1 and "is read-only (mode 0555)" in run.err, run.describe()
    assert h.cred.read_bytes() == old and h.backups() == []


def test_file_owned_by_another_user_is_refused(nh: Home) -> None:
    h = nh
    old = h.field_report()
    _as_nobody(h)
    os.chown(h.cred, 0, 0)
    h.cred.chmod(0o644)  # readable by nobody, so the CLI would use the keys
    run = h.fix("--profile", PROFILE, "--yes", user=65534)
    assert run.returncode == 1 and "owned by uid 0" in run.err, run.describe()
    assert h.cred.read_bytes() == old and h.cred.stat().st_uid == 0
    # and root on nobody's file (sudo): refused as well
    os.chown(h.cred, 65534, 65534)
    as_root = h.fix("--profile", PROFILE, "--yes")
    assert as_root.returncode == 1 and "owned by uid 65534" in as_root.err, as_root.describe()
    assert h.cred.read_bytes() == old


def test_ten_thousand_profiles(h: Home) -> None:
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    parts = [
        f"[p{i:05d}]\naws_access_key_id = {fixkit.KEY_OTHER}\naws_secret_access_key = s{i}\n"
        for i in range(10_000)
    ]
    parts.insert(
        5_000, f"[{PROFILE}]\naws_access_key_id = {KEY_A}\naws_secret_access_key = {SECRET_A}\n"
    )
    text = "".join(parts).encode()
    h.write(h.cred, text)
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 0, run.describe()
    start = 5_000 * 3
    assert h.cred.read_bytes() == fixkit.without_lines(text, {start + 1, start + 2, start + 3})
    removed = [x for x in run.out.splitlines() if x.startswith("-") and not x.startswith("---")]
    assert len(removed) == 3 and len(run.out.splitlines()) < 40  # a small diff, not the file


def test_a_file_too_large_to_edit_is_refused_and_long_lines_and_nul_are_kept(h: Home) -> None:
    """hostile-inputs item 40: bounded - a 1 MiB line and a NUL byte are just bytes of other
    lines; beyond 64 MiB nothing is edited."""
    h.write(h.conf, fixkit.config_with_login())
    h.login()
    head = fixkit.credentials_of_a().encode()
    odd = b"# " + b"x" * (1 << 20) + b"\n# a NUL \x00 byte\n"
    h.write(h.cred, odd + head)
    run = h.fix("--profile", PROFILE, "--yes")
    assert run.returncode == 0, run.describe()
    assert h.cred.read_bytes() == odd + fixed_bytes(head)
    big = odd + b"#" * (65 << 20) + b"\n" + head
    h.write(h.cred, big)
    refused = h.fix("--profile", PROFILE, "--yes")
    assert refused.returncode == 1 and "larger than 64 MiB" in refused.err, refused.describe()
    assert h.cred.stat().st_size == len(big) and h.backups() != []  # the earlier fix's only


# -- proof, undo --------------------------------------------------------------------------------------


def test_failed_proof_puts_the_old_file_back(h: Home) -> None:
    old = h.field_report()
    run = h.fix("--profile", PROFILE, "--yes", extra={"AWSGUARD_TEST_FAULT": "proof:EIO"})
    assert run.returncode == 1, run.describe()
    assert "the old file was put back" in run.err
    assert h.cred.read_bytes() == old and h.backups() == [] and h.temps() == []
    undo = h.fix("--undo", "--yes")
    assert undo.returncode == 1 and "nothing to undo" in undo.err


def test_undo_restores_exactly_and_is_itself_backed_up(h: Home) -> None:
    old = h.field_report()
    h.cred.chmod(0o400)
    assert h.fix("--profile", PROFILE, "--yes").returncode == 0
    fixed = h.cred.read_bytes()
    dry = h.fix("--undo", "--dry-run")
    assert (
        dry.returncode == 0
        and "+[test_user]" in dry.out
        and "+aws_secret_access_key = ****" in dry.out
    )
    assert h.cred.read_bytes() == fixed
    run = h.fix("--undo", "--yes")
    assert run.returncode == 0, run.describe()
    assert h.cred.read_bytes() == old
    assert stat.S_IMODE(h.cred.stat().st_mode) == 0o400
    contents = sorted(b.read_bytes() for b in h.backups())
    assert contents == sorted([old, fixed])  # the fix's backup, and the undo's own
    assert botocore_source(h, PROFILE) == "shared-credentials-file"
    again = h.fix("--undo", "--yes")
    assert again.returncode == 1 and "nothing to undo" in again.err


def test_undo_walks_back_fix_by_fix(h: Home) -> None:
    old = h.field_report()
    second_arn = "arn:aws:iam::999999999999:user/second"
    # [profile other] is the config's last section: it gets a login session too
    h.write(h.conf, fixkit.config_with_login() + f"login_session = {second_arn}\n")
    h.login(second_arn, "999999999999")
    assert h.fix("--profile", PROFILE, "--yes").returncode == 0
    after_one = h.cred.read_bytes()
    assert h.fix("--profile", "other", "--yes").returncode == 0
    after_two = h.cred.read_bytes()
    assert after_two == fixkit.without_lines(old, {2, 3, 4, 6, 7, 8})
    assert h.fix("--undo", "--yes").returncode == 0
    assert h.cred.read_bytes() == after_one
    assert h.fix("--undo", "--yes").returncode == 0
    assert h.cred.read_bytes() == old
    assert h.fix("--undo", "--yes").returncode == 1


def test_undo_refuses_when_the_file_changed_since(h: Home) -> None:
    h.field_report()
    assert h.fix("--profile", PROFILE, "--yes").returncode == 0
    changed = h.cred.read_bytes() + b"[new]\nregion = x\n"
    h.write(h.cred, changed)
    run = h.fix("--undo", "--yes")
    assert run.returncode == 1 and "changed since awsguard fix wrote it" in run.err, run.describe()
    assert h.cred.read_bytes() == changed


def test_undo_refuses_a_backup_that_was_altered(h: Home) -> None:
    h.field_report()
    assert h.fix("--profile", PROFILE, "--yes").returncode == 0
    fixed = h.cred.read_bytes()
    [backup] = h.backups()
    backup.write_bytes(b"[test_user]\nregion = tampered\n")
    run = h.fix("--undo", "--yes")
    assert run.returncode == 1 and "is not what awsguard fix saved" in run.err, run.describe()
    assert h.cred.read_bytes() == fixed


def test_undo_needs_yes_without_a_terminal(h: Home) -> None:
    h.field_report()
    assert h.fix("--profile", PROFILE, "--yes").returncode == 0
    fixed = h.cred.read_bytes()
    run = h.fix("--undo")
    assert run.returncode == 1 and "pass --yes" in run.err
    assert h.cred.read_bytes() == fixed
