"""The installed `aws` shim, run as a real process in front of a recording stub aws.

Transparency (docs/hostile-inputs.md §2 and §7 items 13-25): the shim must be invisible when it allows a
call - same PID (exec, not a child), same exit status and death signal, argv byte for byte,
stdin and stdout untouched, SIGPIPE/SIGXFSZ at their defaults - and must find the real aws
without ever running itself, a copy of itself, or anything through a relative PATH entry. Policy
(docs/ARCHITECTURE.md §5.3): the field report is blocked with both accounts named, every setting can turn
that into a warning or nothing, and every bad setting names itself and its accepted values.

Every run gets a complete environment (tests/shimkit.py): a private HOME, a PATH of the shim's
directory and the stub's, and no variable inherited from the test process. Every run is checked
for leaked secrets.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import termios
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import shimkit
from shimkit import (
    BLOCKED,
    HANG_GUARD,
    MARKER,
    NO_REAL_AWS,
    SECRET_ENV,
    SECRET_STATIC,
    TOKEN_ENV,
    Result,
    Sandbox,
    default_disposition,
    key_id,
    read_record,
    signal_ignored,
    write_exe,
)

ACCOUNT_KEYS = "111122223333"  # the IAM user whose keys sit in ~/.aws/credentials
ACCOUNT_LOGIN = "444455556666"  # the identity `aws login` signed in as
ACCOUNT_ENV = "777788889999"  # exported environment keys
LOGIN_ARN = f"arn:aws:iam::{ACCOUNT_LOGIN}:user/test_user_B"
KEY_STATIC = key_id(ACCOUNT_KEYS)
KEY_ENV = key_id(ACCOUNT_ENV, prefix="ASIA", tail=0xE4F)
CALL = ["sts", "get-caller-identity"]

# The credentials file of the field report: the keys' line number is a fact the message must show.
CREDENTIALS_KEY_LINE = 6
FIELD_CREDENTIALS = f"""\
# keys of test_user_A, from before `aws login`
[other]
region = eu-west-1

[test_user]
aws_access_key_id = {KEY_STATIC}
aws_secret_access_key = {SECRET_STATIC}
"""
FIELD_CONFIG = f"""\
[profile test_user]
region = ap-northeast-1
login_session = {LOGIN_ARN}
"""
ENV_KEYS = {
    "AWS_ACCESS_KEY_ID": KEY_ENV,
    "AWS_SECRET_ACCESS_KEY": SECRET_ENV,
    "AWS_SESSION_TOKEN": TOKEN_ENV,
}


@pytest.fixture(scope="session")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`awsguard install` once per session; tests only read it (copies go elsewhere).

    ``AWSGUARD_TEST_SHIM=/path/to/bin/aws`` runs the suite against a launcher installed
    elsewhere (another build, or a deliberately broken copy to check that the tests can fail).
    """
    if not os.path.exists("/proc/self/status"):  # the stub records its signal mask from /proc
        if os.environ.get("CI") == "true":
            pytest.fail("the shim tests need Linux /proc")
        pytest.skip("the shim tests need Linux /proc")
    given = os.environ.get("AWSGUARD_TEST_SHIM")
    if given:
        return Path(given)
    home = tmp_path_factory.mktemp("shim") / "awsguard-home"
    proc = shimkit.install(home)
    assert proc.returncode == 0, proc.stderr
    launcher = home / "bin" / "aws"
    assert proc.stdout == f"{home}/bin\n", proc.stdout
    return launcher


@pytest.fixture
def sb(tmp_path: Path, shim: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path, shim)
    yield sandbox
    sandbox.kill_leftovers()


def field_report(sb: Sandbox, *, keys: bool = True) -> None:
    """Profile test_user: keys of account ACCOUNT_KEYS in the credentials file, and an `aws login`
    session of account ACCOUNT_LOGIN (docs/credential-chain.md §0)."""
    sb.aws_config(FIELD_CONFIG)
    sb.credentials(FIELD_CREDENTIALS if keys else "[test_user]\n")
    sb.login_cache(LOGIN_ARN, ACCOUNT_LOGIN)


def static_profile(sb: Sandbox, name: str = "prod", account: str = ACCOUNT_KEYS) -> None:
    """A plain profile with static keys, no login session."""
    sb.aws_config(f"[profile {name}]\nregion = eu-west-1\n")
    sb.credentials(
        f"[{name}]\naws_access_key_id = {key_id(account)}\naws_secret_access_key = {SECRET_STATIC}\n"
    )


def assert_ran(result: Result, code: int = 0) -> None:
    """The stub ran as the command itself (same PID) and its exit status came back."""
    assert result.ran, result.describe()
    assert result.returncode == code, result.describe()


def assert_blocked(result: Result) -> None:
    assert result.returncode == BLOCKED, result.describe()
    assert not result.ran and result.service_runs == [], result.describe()
    assert result.stdout == b"", result.describe()


# =============================================================================================
# Installation
# =============================================================================================


def test_install_writes_an_executable_launcher_and_is_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "awsguard-home"
    first = shimkit.install(home)
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{home}/bin\n"
    launcher = home / "bin" / "aws"
    data = launcher.read_bytes()
    assert data.startswith(b"#!")
    assert MARKER in data[:4096]
    assert os.access(launcher, os.X_OK)
    # Idempotent: a second install leaves the same file (same inode: it was not rewritten).
    ino = launcher.stat().st_ino
    second = shimkit.install(home)
    assert (second.returncode, second.stdout) == (0, first.stdout)
    assert launcher.read_bytes() == data and launcher.stat().st_ino == ino
    # Stale (an older or damaged launcher, still carrying the marker) is rewritten.
    launcher.write_bytes(data.replace(b"\n", b"\n# edited\n", 1))
    third = shimkit.install(home)
    assert (third.returncode, third.stdout) == (0, first.stdout)
    assert launcher.read_bytes() == data


def test_installed_launcher_runs_the_real_aws(sb: Sandbox) -> None:
    result = sb.run(CALL)
    assert_ran(result)
    assert result.record is not None and result.record.argv0 == str(sb.stub).encode()
    assert (result.stdout, result.stderr) == (b"", b"")


# =============================================================================================
# Transparency: exit status, signals, PID, argv, environment, stdin, stdout
# =============================================================================================


@pytest.mark.parametrize("code", [0, 1, 2, 130, 252, 253, 254, 255])
def test_exit_codes_pass_through(sb: Sandbox, code: int) -> None:
    extra = {"STUB_EXIT": str(code)}
    direct = sb.run(CALL, extra, exe=sb.stub)
    shimmed = sb.run(CALL, extra)
    assert direct.returncode == code
    assert_ran(shimmed, code)
    assert shimmed.stderr == direct.stderr == b""


def _closing(*fds: int) -> Callable[[], None]:
    def close() -> None:
        for fd in fds:
            os.close(fd)

    return close


@pytest.mark.parametrize("fds", [(2,), (0, 2), (1, 2), (0, 1, 2)], ids=str)
def test_closed_standard_streams_change_nothing(sb: Sandbox, fds: tuple[int, ...]) -> None:
    """`aws … 2>&-`: Python starts with sys.stderr None; the shim still runs or blocks as usual."""
    extra = {"STUB_EXIT": "3"}
    direct = sb.run(CALL, extra, exe=sb.stub, preexec_fn=_closing(*fds))
    assert direct.returncode == 3 and direct.ran  # control: the stub itself does not mind
    shimmed = sb.run(CALL, extra, preexec_fn=_closing(*fds))
    assert_ran(shimmed, 3)
    field_report(sb)
    blocked = sb.run([*CALL, "--profile", "test_user"], extra, preexec_fn=_closing(*fds))
    assert blocked.returncode == 77 and not blocked.ran, blocked.describe()
    # Control: the same call with the streams open is blocked with its message.
    assert_blocked(sb.run([*CALL, "--profile", "test_user"], extra))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_death_by_signal_looks_the_same_to_the_parent(sb: Sandbox, sig: signal.Signals) -> None:
    extra = {"STUB_SIGNAL": sig.name[3:]}
    default = default_disposition(sig)
    direct = sb.run(CALL, extra, exe=sb.stub, preexec_fn=default)
    shimmed = sb.run(CALL, extra, preexec_fn=default)
    assert direct.returncode == -sig
    assert shimmed.returncode == -sig, shimmed.describe()
    assert shimmed.ran


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_sent_to_the_pid_reaches_aws(sb: Sandbox, sig: signal.Signals) -> None:
    """Ctrl-C / kill reach the real aws: the PID the caller holds is the real aws (exec)."""
    proc = subprocess.Popen(
        [str(sb.shim), *CALL],
        env=sb.env({"STUB_WAIT": "1"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=sb.cwd,
        preexec_fn=default_disposition(sig),
    )
    try:
        ready = sb.rec / f"{proc.pid}.ready"
        deadline = time.monotonic() + HANG_GUARD
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "hang guard: the stub never became ready"
            time.sleep(0.01)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + sig, (proc.returncode, err)
    assert (sb.rec / f"{proc.pid}.got-{sig.name[3:]}").exists()
    assert out == b""


ARGV_CASES: list[list[bytes]] = [
    [b"s3", b"cp", b"with space", b"", b"two\nlines", b"--", b"-leading", b"--"],
    [b"ec2", b"describe-instances", b"--filters", b"Name=tag:x,Values=\xff\xfe\x80"],
    [b"caf\xc3\xa9", b"\ttab", b"$HOME", b"`id`", b"$(touch pwned)", b"*", b"'\"\\"],
    [b"sts", b"get-caller-identity", b"--profile=nope", b"--profile", b"nope2", b"--region="],
    [b""],
    [],
    [b"-"] * 3 + [b"--version=x", b"--prof", b"\r\n"],
]


@pytest.mark.parametrize("args", ARGV_CASES, ids=range(len(ARGV_CASES)))
def test_argv_arrives_byte_for_byte(sb: Sandbox, args: list[bytes]) -> None:
    direct = sb.run(args, exe=sb.stub)
    assert direct.record is not None and direct.record.argv == args  # the stub records exactly
    shimmed = sb.run(args)
    assert shimmed.ran, shimmed.describe()
    assert shimmed.record is not None and shimmed.record.argv == args
    assert shimmed.returncode == direct.returncode
    assert not (sb.cwd / "pwned").exists()


def test_environment_arrives_unchanged(sb: Sandbox) -> None:
    extra = {
        "ODD_VALUE": "a b\nc\t$HOME `id` \udcff\udcfe",  # surrogateescape: raw bytes 0xff 0xfe
        "EMPTY": "",
        "AWS_PROFILE": "nope",
        "AWS_REGION": "eu-central-1",
    }
    sent = sb.env(extra)
    result = sb.run(CALL, env=sent)
    assert_ran(result)
    assert result.record is not None
    got = dict(result.record.environ)
    depth = got.pop(b"AWSGUARD_DEPTH", None)
    expected = {os.fsencode(k): os.fsencode(v) for k, v in sent.items()}
    assert got == expected
    # The only addition is the loop counter, at one hop.
    assert depth in (None, b"1"), depth


def test_signal_dispositions_are_reset_before_exec(sb: Sandbox) -> None:
    """Python ignores SIGPIPE and SIGXFSZ and ignored signals survive exec (docs/hostile-inputs.md §2)."""
    # Negative control: the stub does observe an inherited SIG_IGN.
    control = subprocess.Popen(
        [str(sb.stub), *CALL], env=sb.env(), restore_signals=False, stdout=subprocess.DEVNULL
    )
    assert control.wait(timeout=HANG_GUARD) == 0
    seen = read_record(sb.rec, control.pid)
    assert seen is not None
    assert signal_ignored(seen.sigign, signal.SIGPIPE)
    assert signal_ignored(seen.sigign, signal.SIGXFSZ)
    result = sb.run(CALL)
    assert_ran(result)
    assert result.record is not None
    assert not signal_ignored(result.record.sigign, signal.SIGPIPE), hex(result.record.sigign)
    assert not signal_ignored(result.record.sigign, signal.SIGXFSZ), hex(result.record.sigign)


def _first_line_then_close(sb: Sandbox, exe: Path, *, restore_signals: bool) -> tuple[int, bytes]:
    proc = subprocess.Popen(
        [str(exe), "s3", "ls"],
        env=sb.env({"STUB_FLOOD": "200000"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        restore_signals=restore_signals,
        cwd=sb.cwd,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    proc.stdout.close()
    try:
        return proc.wait(timeout=HANG_GUARD), line
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_reader_leaving_early_ends_aws_by_sigpipe(sb: Sandbox) -> None:
    """`aws s3 ls | head -1`: once the reader is gone, aws dies of SIGPIPE at its next write."""
    # Negative control: with SIGPIPE ignored the stub survives the closed pipe (exit 3).
    code, line = _first_line_then_close(sb, sb.stub, restore_signals=False)
    assert (code, line) == (3, b"line 0 of a long listing\n")
    code, line = _first_line_then_close(sb, sb.shim, restore_signals=True)
    assert line == b"line 0 of a long listing\n"
    assert code == -signal.SIGPIPE, shimkit.exit_status(code)
    # Even a parent that leaves SIGPIPE ignored (restore_signals=False) gets a default one.
    code, _ = _first_line_then_close(sb, sb.shim, restore_signals=False)
    assert code == -signal.SIGPIPE, shimkit.exit_status(code)


def test_pipe_to_head_in_a_real_shell(sb: Sandbox) -> None:
    bash = shimkit.require_tool("bash")
    head = shimkit.require_tool("head")
    script = f'"$0" s3 ls | {head} -1; echo "status=${{PIPESTATUS[0]}}"'
    result = sb.run(["-c", script, str(sb.shim)], {"STUB_FLOOD": "200000"}, exe=bash)
    assert result.stdout == b"line 0 of a long listing\nstatus=141\n", result.describe()


def test_stdin_is_passed_through_unread(sb: Sandbox) -> None:
    data = bytes(range(256)) * 4096 + b"\x00tail without newline"  # 1 MiB and a bit
    result = sb.run(["s3", "cp", "-", "s3://bucket/key"], {"STUB_STDIN": "1"}, input=data)
    assert_ran(result)
    assert result.record is not None and result.record.stdin == data


def test_stdout_is_byte_identical_to_bare_aws(sb: Sandbox, tmp_path: Path) -> None:
    payload = b'{\n  "Account": "111122223333"\n}\n\x00\xff\xfe binary \r\n' * 500
    (tmp_path / "out.bin").write_bytes(payload)
    extra = {"STUB_OUT": str(tmp_path / "out.bin")}
    direct = sb.run(["--output", "json", *CALL], extra, exe=sb.stub)
    shimmed = sb.run(["--output", "json", *CALL], extra)
    assert direct.stdout == payload
    assert shimmed.stdout == payload
    assert shimmed.stderr == b""


# =============================================================================================
# Finding the real aws (catalogue 13-16)
# =============================================================================================


def _path_forms(sb: Sandbox) -> dict[str, str]:
    link = sb.root / "shim-link-dir"
    if not link.exists():
        link.symlink_to(sb.shim_dir)
    d, real = str(sb.shim_dir), str(sb.real_dir)
    return {
        "twice": f"{d}:{d}:{real}",
        "symlinked-dir": f"{link}:{d}:{real}",
        "symlinked-dir-only": f"{link}:{real}",
        "trailing-slash": f"{d}/:{real}",
        "double-slash": f"{d}//:{d}/:{real}",
        "dot-dot": f"{d}/../bin:{d}/./:{real}",
    }


@pytest.mark.parametrize(
    "form",
    [
        "twice",
        "symlinked-dir",
        "symlinked-dir-only",
        "trailing-slash",
        "double-slash",
        "dot-dot",
    ],
)
def test_shim_on_path_in_every_spelling(sb: Sandbox, form: str) -> None:
    path = _path_forms(sb)[form]
    first = path.split(":")[0]
    # Invoked the way a shell does: by name, found on PATH.
    result = sb.run(CALL, path=path, exe="aws")
    assert_ran(result)
    assert result.record is not None and result.record.argv0 == str(sb.stub).encode()
    assert result.stderr == b""
    # and by the spelling of the PATH entry itself
    assert_ran(sb.run(CALL, path=path, exe=f"{first}/aws"))


@pytest.mark.parametrize("kind", ["copy", "hardlink", "symlink", "symlink-chain"])
@pytest.mark.parametrize("also_installed_dir", [False, True])
def test_shim_copied_or_linked_as_home_bin_aws(
    sb: Sandbox, kind: str, also_installed_dir: bool
) -> None:
    home_bin = sb.home / "bin"
    home_bin.mkdir()
    target = home_bin / "aws"
    if kind == "copy":
        target.write_bytes(sb.shim.read_bytes())
        target.chmod(0o755)
    elif kind == "hardlink":
        try:
            os.link(sb.shim, target)
        except OSError as exc:  # a different file system
            pytest.skip(f"cannot hard-link the installed shim here: {exc}")
    elif kind == "symlink":
        target.symlink_to(sb.shim)
    else:
        (sb.root / "hop").symlink_to(sb.shim)
        target.symlink_to(sb.root / "hop")
    parts = [str(home_bin), str(sb.real_dir)]
    if also_installed_dir:
        parts.insert(1, str(sb.shim_dir))
    result = sb.run(CALL, path=":".join(parts), exe="aws")
    assert_ran(result)
    assert result.record is not None and result.record.argv0 == str(sb.stub).encode()
    assert result.stderr == b""


MALICIOUS = """#!/bin/sh
: > "{pwned}"
exit 42
"""


@pytest.mark.parametrize("entry", ["", ".", "./", "rel", "rel/"])
def test_relative_path_entries_are_never_used(sb: Sandbox, entry: str) -> None:
    pwned = sb.root / "pwned"
    write_exe(sb.cwd / "aws", MALICIOUS.format(pwned=pwned))
    write_exe(sb.cwd / "rel" / "aws", MALICIOUS.format(pwned=pwned))
    # Negative control: the planted aws does what it says when it runs.
    assert subprocess.run([str(sb.cwd / "aws")], check=False).returncode == 42
    assert pwned.exists()
    pwned.unlink()
    # A relative entry before the real aws must be skipped ...
    result = sb.run(CALL, path=f"{sb.shim_dir}:{entry}:{sb.real_dir}")
    assert_ran(result)
    assert not pwned.exists()
    # ... and, with no real aws at all, must not be the fallback.
    result = sb.run(CALL, path=f"{sb.shim_dir}:{entry}")
    assert result.returncode == NO_REAL_AWS, result.describe()
    assert not pwned.exists()
    assert len(result.err_lines) == 1, result.err


@pytest.mark.parametrize("path", ["{shim}", "", "{shim}:/nonexistent:{shim}/"])
def test_no_real_aws_is_127_with_one_line(sb: Sandbox, path: str) -> None:
    result = sb.run(CALL, path=path.format(shim=sb.shim_dir))
    assert result.returncode == NO_REAL_AWS, result.describe()
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith("awsguard: ")
    assert result.stdout == b""
    assert result.service_runs == []


def test_awsguard_aws_overrides_discovery(sb: Sandbox) -> None:
    chosen = write_exe(sb.root / "chosen" / "aws-2.32", shimkit.STUB)
    result = sb.run(CALL, {"AWSGUARD_AWS": str(chosen)})
    assert_ran(result)
    assert result.record is not None and result.record.argv0 == str(chosen).encode()
    # Control: without it, PATH decides.
    result = sb.run(CALL)
    assert result.record is not None and result.record.argv0 == str(sb.stub).encode()


@pytest.mark.parametrize("value", ["aws", "./real/aws", "{shim}", "{root}/missing"])
def test_unusable_awsguard_aws_fails_with_one_line(sb: Sandbox, value: str) -> None:
    value = value.format(shim=sb.shim, root=sb.root)
    result = sb.run(CALL, {"AWSGUARD_AWS": value}, cwd=sb.root)
    assert result.returncode == NO_REAL_AWS, result.describe()
    assert result.service_runs == []
    assert len(result.err_lines) == 1 and "AWSGUARD_AWS" in result.err, result.err


# A wrapper named aws that finds "aws" through PATH again (the aws-vault recipe gone wrong). It
# logs the AWSGUARD_DEPTH it sees, and brakes at 40 hops so that a shim without a working bound
# fails this test instead of taking the machine down.
WRAPPER = """#!/bin/sh
echo "${{AWSGUARD_DEPTH:-unset}}" >> "{hops}"
if [ "$(/usr/bin/wc -l < "{hops}")" -gt 40 ]; then exit 125; fi
{run} aws "$@"
"""


@pytest.mark.parametrize("cache", ["writable", "unwritable"])
@pytest.mark.parametrize("kind", ["exec", "fork"])
def test_wrapper_loop_is_bounded(sb: Sandbox, kind: str, cache: str) -> None:
    hops = sb.root / "hops"
    run = "exec" if kind == "exec" else ""  # fork: every level waits for the next
    wrapper = write_exe(sb.root / "wrapper" / "aws", WRAPPER.format(hops=hops, run=run))
    extra = {}
    if cache == "unwritable":  # no cache of the CLI's version: every shim must cope without it
        (sb.root / "a-file").write_text("")
        extra["XDG_CACHE_HOME"] = str(sb.root / "a-file")
    path = f"{sb.shim_dir}:{wrapper.parent}:{sb.real_dir}"
    result = sb.run(CALL, extra, path=path, exe="aws")
    depths = hops.read_text().split()
    assert len(depths) <= 40, f"{len(depths)} hops: no bound on the loop\n{result.describe()}"
    assert result.returncode == NO_REAL_AWS, result.describe()
    assert result.service_runs == []
    assert len(result.err_lines) == 1, result.err
    assert "AWSGUARD_AWS" in result.err  # the way out
    assert all(d == "unset" or 1 <= int(d) <= 8 for d in depths), depths
    assert shimkit.processes_with(str(sb.rec).encode()) == []


def test_wrapper_with_an_absolute_aws_is_not_a_loop(sb: Sandbox) -> None:
    """The aws-vault recipe done right: shim → wrapper → /abs/real/aws."""
    hops = sb.root / "hops"
    wrapper = write_exe(
        sb.root / "wrapper" / "aws",
        f'#!/bin/sh\necho "$*" >> "{hops}"\nexec "{sb.stub}" "$@"\n',
    )
    result = sb.run(CALL, path=f"{sb.shim_dir}:{wrapper.parent}:{sb.real_dir}", exe="aws")
    assert_ran(result)
    # Once for the command (a version probe may pass through it too).
    assert [h for h in hops.read_text().splitlines() if h != "--version"] == [" ".join(CALL)]
    assert result.stderr == b""


@pytest.mark.parametrize("value", ["garbage", "-1", "99999999999999999999", " 2"])
def test_odd_depth_values_do_not_stop_aws(sb: Sandbox, value: str) -> None:
    result = sb.run(CALL, {"AWSGUARD_DEPTH": value})
    assert_ran(result)


# =============================================================================================
# Policy: the field report and the settings that shape the verdict
# =============================================================================================

HOW = {
    "--profile": ([*CALL, "--profile", "test_user"], {}),
    "AWS_PROFILE": (CALL, {"AWS_PROFILE": "test_user"}),
}


@pytest.mark.parametrize("how", sorted(HOW))
def test_field_report_is_blocked_naming_both_accounts(sb: Sandbox, how: str) -> None:
    field_report(sb)
    args, extra = HOW[how]
    result = sb.run(args, extra)
    assert_blocked(result)
    err = result.err
    assert ACCOUNT_KEYS in err and ACCOUNT_LOGIN in err, err
    assert f"credentials:{CREDENTIALS_KEY_LINE}" in err, err
    assert "test_user" in err
    assert KEY_STATIC not in err  # key ids are masked
    assert "AWSGUARD=off" in err  # how to get past it, once
    assert "\x1b" not in err  # no colour on a pipe


def test_field_report_fixed_runs_silently(sb: Sandbox) -> None:
    """Negative control of the block: without the keys the login session wins."""
    field_report(sb, keys=False)
    result = sb.run([*CALL, "--profile", "test_user"])
    assert_ran(result)
    assert result.stderr == b""


def test_expired_login_is_only_info_and_silent(sb: Sandbox) -> None:
    """login-expired is severity info: the CLI refreshes the session itself; nothing to say."""
    sb.aws_config(FIELD_CONFIG)
    sb.credentials("[test_user]\n")
    sb.login_cache(LOGIN_ARN, ACCOUNT_LOGIN, expires_at="2001-01-01T00:00:00Z")
    result = sb.run([*CALL, "--profile", "test_user"])
    assert_ran(result)
    assert result.stderr == b""
    # Control: the same rule raised to warn does speak.
    sb.policy('[rules]\nlogin-expired = "warn"\n')
    loud = sb.run([*CALL, "--profile", "test_user"])
    assert_ran(loud)
    assert "login-expired" in loud.err, loud.err


def test_awsguard_off_passes_straight_through(sb: Sandbox) -> None:
    field_report(sb)
    result = sb.run([*CALL, "--profile", "test_user"], {"AWSGUARD": "off", "STUB_EXIT": "254"})
    assert_ran(result, 254)
    assert result.stderr == b""


def test_warn_mode_runs_aws_and_warns_on_stderr_only(sb: Sandbox, tmp_path: Path) -> None:
    field_report(sb)
    payload = b'{"UserId": "AIDAEXAMPLE", "Account": "111122223333"}\n'
    (tmp_path / "out.json").write_bytes(payload)
    result = sb.run(
        [*CALL, "--profile", "test_user"],
        {"AWSGUARD_MODE": "warn", "STUB_OUT": str(tmp_path / "out.json")},
    )
    assert_ran(result)
    assert result.stdout == payload
    assert ACCOUNT_KEYS in result.err and ACCOUNT_LOGIN in result.err, result.err
    assert f"credentials:{CREDENTIALS_KEY_LINE}" in result.err


def test_env_keys_under_aws_profile_warn_but_run(sb: Sandbox) -> None:
    static_profile(sb, "prod")
    result = sb.run(CALL, {"AWS_PROFILE": "prod", **ENV_KEYS})
    assert_ran(result)
    assert "env-overrides-profile" in result.err, result.err
    assert ACCOUNT_ENV in result.err and "AWS_PROFILE" in result.err
    assert KEY_ENV not in result.err


def test_env_keys_with_explicit_profile_are_silent(sb: Sandbox) -> None:
    """--profile drops the environment provider: the CLI uses the profile, nothing to say."""
    static_profile(sb, "prod")
    result = sb.run([*CALL, "--profile", "prod"], ENV_KEYS)
    assert_ran(result)
    assert result.stderr == b""


def test_strict_mode_turns_a_warning_into_a_block(sb: Sandbox) -> None:
    static_profile(sb, "prod")
    extra = {"AWS_PROFILE": "prod", **ENV_KEYS}
    assert sb.run(CALL, extra).ran  # control: a warning only
    result = sb.run(CALL, {**extra, "AWSGUARD_MODE": "strict"})
    assert_blocked(result)
    assert "env-overrides-profile" in result.err


def test_profile_variables_that_disagree_warn(sb: Sandbox) -> None:
    sb.aws_config("[profile a]\nregion = eu-west-1\n[profile b]\nregion = eu-west-2\n")
    sb.credentials(
        f"[a]\naws_access_key_id = {KEY_STATIC}\naws_secret_access_key = {SECRET_STATIC}\n"
        f"[b]\naws_access_key_id = {KEY_STATIC}\naws_secret_access_key = {SECRET_STATIC}\n"
    )
    result = sb.run(CALL, {"AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"})
    assert_ran(result)
    assert "AWS_PROFILE=a" in result.err and "AWS_DEFAULT_PROFILE=b" in result.err, result.err
    same = sb.run(CALL, {"AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "a"})
    assert_ran(same)
    assert same.stderr == b""


# --- the policy file ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "extra", "outcome"),
    [
        ('mode = "warn"\n', {}, "warn"),
        ('mode = "strict"\n', {"AWSGUARD_MODE": "warn"}, "warn"),  # the variable is stronger
        ('[rules]\nlogin-shadowed = "warn"\naccount-mismatch = "warn"\n', {}, "warn"),
        ('[rules]\nlogin-shadowed = "off"\naccount-mismatch = "off"\n', {}, "silent"),
        ('[rules]\nlogin-shadowed = "info"\naccount-mismatch = "info"\n', {}, "silent"),
        ('[rules]\nlogin-shadowed = "off"\n', {}, "block"),  # account-mismatch still blocks
        ('[rules]\nenv-overrides-profile = "block"\n', {}, "block"),  # unrelated rule
        ('mode = "warn"\n', {"AWSGUARD": "off"}, "silent"),
    ],
)
def test_policy_file_shapes_the_field_report_verdict(
    sb: Sandbox, toml: str, extra: dict[str, str], outcome: str
) -> None:
    field_report(sb)
    sb.policy(toml)
    result = sb.run([*CALL, "--profile", "test_user"], extra)
    if outcome == "block":
        assert_blocked(result)
        assert ACCOUNT_LOGIN in result.err
        return
    assert_ran(result)
    if outcome == "silent":
        assert result.stderr == b""
    else:
        assert ACCOUNT_KEYS in result.err and ACCOUNT_LOGIN in result.err, result.err


def test_awsguard_config_names_the_policy_file(sb: Sandbox) -> None:
    field_report(sb)
    custom = sb.root / "elsewhere.toml"
    custom.write_text('[rules]\nlogin-shadowed = "off"\naccount-mismatch = "off"\n')
    assert sb.run([*CALL, "--profile", "test_user"]).returncode == BLOCKED  # control
    result = sb.run([*CALL, "--profile", "test_user"], {"AWSGUARD_CONFIG": str(custom)})
    assert_ran(result)
    assert result.stderr == b""


@pytest.mark.parametrize(("expect", "blocked"), [(ACCOUNT_LOGIN, True), (ACCOUNT_KEYS, False)])
def test_expect_account(sb: Sandbox, expect: str, blocked: bool) -> None:
    static_profile(sb, "prod", ACCOUNT_KEYS)
    sb.policy(f'[profiles.prod]\nexpect_account = "{expect}"\n')
    result = sb.run([*CALL, "--profile", "prod"])
    if blocked:
        assert_blocked(result)
        assert ACCOUNT_KEYS in result.err and ACCOUNT_LOGIN in result.err, result.err
    else:
        assert_ran(result)
        assert result.stderr == b""


READS = [
    ["s3", "ls"],
    ["s3", "ls", "s3://bucket/prefix/", "--recursive"],
    ["s3", "presign", "s3://bucket/key"],
    ["ec2", "describe-instances"],
    ["--region", "eu-west-1", "ec2", "describe-instances", "--output", "json"],
    ["sts", "get-caller-identity"],
    ["iam", "list-users"],
    ["s3api", "head-object", "--bucket", "b", "--key", "k"],
]
WRITES = [
    ["s3", "cp", "./file", "s3://bucket/file"],
    ["s3", "mv", "s3://bucket/a", "s3://bucket/b"],
    ["s3", "rm", "s3://bucket/key"],
    ["s3", "sync", ".", "s3://bucket/"],
    ["s3", "mb", "s3://bucket"],
    ["s3", "rb", "s3://bucket"],
    ["ec2", "run-instances", "--image-id", "ami-12345678"],
    ["--region", "eu-west-1", "ec2", "terminate-instances", "--instance-ids", "i-1"],
    ["ec2", "frobnicate-widgets"],  # unknown: counts as mutating
    ["s3api", "put-object", "--bucket", "b", "--key", "k"],
]


def _ids(cases: list[list[str]]) -> list[str]:
    return [" ".join(c) for c in cases]


@pytest.mark.parametrize("args", READS, ids=_ids(READS))
def test_read_only_profile_allows_reads(sb: Sandbox, args: list[str]) -> None:
    static_profile(sb, "ro")
    sb.policy("[profiles.ro]\nread_only = true\n")
    result = sb.run([*args, "--profile", "ro"])
    assert_ran(result)
    assert result.stderr == b""


@pytest.mark.parametrize("args", WRITES, ids=_ids(WRITES))
def test_read_only_profile_blocks_everything_else(sb: Sandbox, args: list[str]) -> None:
    static_profile(sb, "ro")
    sb.policy("[profiles.ro]\nread_only = true\n[profiles.rw]\n")
    result = sb.run(args, {"AWS_PROFILE": "ro"})
    assert_blocked(result)
    assert "read-only" in result.err and "'ro'" in result.err, result.err
    # Control: the same command under a profile that is not read-only runs.
    static_profile(sb, "rw")
    assert_ran(sb.run(args, {"AWS_PROFILE": "rw"}))


def _answer_pipe(text: bytes) -> tuple[int, int]:
    r, w = os.pipe()
    os.write(w, text)
    os.close(w)
    return r, w


def test_confirm_without_a_terminal_blocks_and_reads_nothing(sb: Sandbox) -> None:
    static_profile(sb, "deploy")
    sb.policy("[profiles.deploy]\nconfirm = true\n")
    answer = f"{ACCOUNT_KEYS}\ndeploy\n".encode()
    r, _ = _answer_pipe(answer)
    try:
        result = sb.run(["ec2", "run-instances", "--profile", "deploy"], stdin=r)
        assert_blocked(result)
        assert "deploy" in result.err
        # The shim never read stdin: the answer is still in the pipe.
        os.set_blocking(r, False)
        assert os.read(r, 1024) == answer
    finally:
        os.close(r)
    # Reads do not ask.
    assert_ran(sb.run(["ec2", "describe-instances", "--profile", "deploy"]))


# --- on a terminal -----------------------------------------------------------------------------


def _plain(data: bytes) -> bytes:
    """Terminal output without its SGR colour codes."""
    return re.sub(rb"\x1b\[[0-9;]*m", b"", data)


def _set_ctty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_on_tty(
    sb: Sandbox,
    args: list[str],
    extra: Mapping[str, str],
    *,
    answer: bytes | None = None,
    only_stderr: bool = False,
    stdout_pipe: bool = False,
) -> tuple[int, bytes, bytes, shimkit.Record | None]:
    """Run the shim with a pseudo-terminal on stdin/stdout/stderr (or on stderr only, or with
    stdout a pipe).

    Returns (returncode, what the terminal showed, stdout when it is a pipe, the stub's record).
    ``answer`` is typed once the shim shows a prompt (output ending in ': ').
    """
    master, slave = pty.openpty()
    env = sb.env({"TERM": "xterm-256color", **extra})
    if only_stderr:
        io = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "stderr": slave}
        proc = subprocess.Popen([str(sb.shim), *args], env=env, cwd=sb.cwd, **io)  # type: ignore[call-overload]
    else:
        proc = subprocess.Popen(
            [str(sb.shim), *args],
            env=env,
            cwd=sb.cwd,
            stdin=slave,
            stdout=subprocess.PIPE if stdout_pipe else slave,
            stderr=slave,
            start_new_session=True,
            preexec_fn=_set_ctty,
        )
    os.close(slave)
    shown = b""
    answered = False
    deadline = time.monotonic() + HANG_GUARD
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
            except OSError:  # EIO: every slave end is closed
                break
            if not chunk:
                break
            shown += chunk
            if answer is not None and not answered and _plain(shown).rstrip().endswith(b":"):
                os.write(master, answer + b"\n")
                answered = True
        out = proc.stdout.read() if proc.stdout else b""
        proc.wait(timeout=HANG_GUARD)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for secret in shimkit.SECRETS:
        assert secret.encode() not in shown + out
    return proc.returncode, shown, out, read_record(sb.rec, proc.pid)


@pytest.fixture
def confirm_profile(sb: Sandbox) -> Sandbox:
    static_profile(sb, "deploy")
    sb.policy("[profiles.deploy]\nconfirm = true\n")
    return sb


@pytest.mark.parametrize(
    ("answer", "runs"),
    [
        (ACCOUNT_KEYS.encode(), True),
        (b"deploy", True),
        (f"  {ACCOUNT_KEYS}  ".encode(), True),
        (b"yes", False),
        (b"", False),
        (ACCOUNT_LOGIN.encode(), False),
        (b"deploy2", False),
    ],
)
def test_confirm_on_a_terminal(confirm_profile: Sandbox, answer: bytes, runs: bool) -> None:
    code, shown, _, record = run_on_tty(
        confirm_profile, ["ec2", "run-instances", "--profile", "deploy"], {}, answer=answer
    )
    assert ACCOUNT_KEYS.encode() in shown, shown  # the question says what to type
    if runs:
        assert (code, record is not None) == (0, True), shown
    else:
        assert (code, record) == (BLOCKED, None), shown


def test_confirm_question_never_goes_to_stdout(confirm_profile: Sandbox) -> None:
    """`aws … > out.json` on a terminal: the question and the echo stay off stdout."""
    code, shown, out, record = run_on_tty(
        confirm_profile,
        ["ec2", "run-instances", "--profile", "deploy"],
        {},
        answer=b"deploy",
        stdout_pipe=True,
    )
    assert (code, record is not None) == (0, True), shown
    assert b"deploy" in shown
    assert out == b""


def test_confirm_does_not_ask_for_reads(confirm_profile: Sandbox) -> None:
    code, shown, _, record = run_on_tty(
        confirm_profile, ["ec2", "describe-instances", "--profile", "deploy"], {}
    )
    assert (code, record is not None) == (0, True)
    assert shown == b""


@pytest.mark.parametrize(
    ("extra", "coloured"),
    [({}, True), ({"NO_COLOR": "1"}, False), ({"NO_COLOR": ""}, False), ({"TERM": "dumb"}, False)],
)
def test_colour_only_on_a_terminal(
    sb: Sandbox, extra: dict[str, str], coloured: bool, tmp_path: Path
) -> None:
    field_report(sb)
    payload = b"stdout stays a pipe\n"
    (tmp_path / "out").write_bytes(payload)
    code, shown, out, record = run_on_tty(
        sb,
        [*CALL, "--profile", "test_user"],
        {"AWSGUARD_MODE": "warn", "STUB_OUT": str(tmp_path / "out"), **extra},
        only_stderr=True,
    )
    assert (code, record is not None, out) == (0, True, payload)
    assert ACCOUNT_LOGIN.encode() in shown
    assert (b"\x1b[" in shown) is coloured, shown


# --- bad settings --------------------------------------------------------------------------------

BAD_SETTINGS = {
    "mode": ('mode = "loud"\n', {}, ["mode", '"warn"', '"strict"']),
    "severity": (
        '[rules]\nlogin-shadowed = "loud"\n',
        {},
        ["login-shadowed", '"off"', '"info"', '"warn"', '"block"'],
    ),
    "unknown-rule": ('[rules]\nno-such-rule = "warn"\n', {}, ["no-such-rule", "login-shadowed"]),
    "read_only-type": ('[profiles.test_user]\nread_only = "yes"\n', {}, ["read_only", "true"]),
    "confirm-type": ("[profiles.test_user]\nconfirm = 1\n", {}, ["confirm", "true", "false"]),
    "expect_account-type": (
        "[profiles.test_user]\nexpect_account = 444455556666\n",
        {},
        ["expect_account", "12-digit"],
    ),
    "env-mode": ("", {"AWSGUARD_MODE": "loud"}, ["AWSGUARD_MODE", "warn", "strict"]),
    "env-switch": ("", {"AWSGUARD": "maybe"}, ["AWSGUARD=", "off"]),
    "toml-syntax": ("mode = \n", {}, ["config.toml"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_bad_setting_names_itself_and_blocks(sb: Sandbox, case: str) -> None:
    """A bad setting means the user wanted some protection: block, and say what to write."""
    toml, extra, words = BAD_SETTINGS[case]
    field_report(sb, keys=False)  # a profile that is fine: only the setting is wrong
    if toml:
        sb.policy(toml)
    result = sb.run([*CALL, "--profile", "test_user"], extra)
    assert_blocked(result)
    for word in words:
        assert word in result.err, (word, result.err)


def test_bad_setting_in_warn_mode_runs_aws(sb: Sandbox) -> None:
    field_report(sb, keys=False)
    sb.policy('mode = "loud"\n')
    result = sb.run([*CALL, "--profile", "test_user"], {"AWSGUARD_MODE": "warn"})
    assert_ran(result)
    assert "mode" in result.err and '"strict"' in result.err


def test_bad_cli_major_names_itself(sb: Sandbox) -> None:
    result = sb.run(CALL, {"AWSGUARD_CLI_MAJOR": "3"})
    assert result.service_runs == []
    assert "AWSGUARD_CLI_MAJOR" in result.err and "1" in result.err and "2" in result.err
    assert result.returncode == BLOCKED, result.describe()


# =============================================================================================
# Remembered decisions: a quiet allow is reused only while every input is unchanged
# =============================================================================================

WRITE_CALL = ["ec2", "run-instances", "--image-id", "ami-12345678"]


def _add_keys_in_place(sb: Sandbox) -> dict[str, str]:
    with open(sb.aws_dir / "credentials", "a") as f:  # same inode, new size
        f.write(f"aws_access_key_id = {KEY_STATIC}\naws_secret_access_key = {SECRET_STATIC}\n")
    return {}


def _add_keys_by_rename(sb: Sandbox) -> dict[str, str]:
    tmp = sb.aws_dir / "credentials.new"
    tmp.write_text(
        f"[test_user]\naws_access_key_id = {KEY_STATIC}\naws_secret_access_key = {SECRET_STATIC}\n"
    )
    os.replace(tmp, sb.aws_dir / "credentials")
    return {}


def _export_keys(sb: Sandbox) -> dict[str, str]:
    return dict(ENV_KEYS)


def _other_credentials_file(sb: Sandbox) -> dict[str, str]:
    other = sb.root / "other-credentials"
    other.write_text(FIELD_CREDENTIALS)
    return {"AWS_SHARED_CREDENTIALS_FILE": str(other)}


def _policy_appears(sb: Sandbox) -> dict[str, str]:
    sb.policy("[profiles.test_user]\nread_only = true\n")
    return {}


def _policy_named_by_variable(sb: Sandbox) -> dict[str, str]:
    other = sb.root / "policy.toml"
    other.write_text("[profiles.test_user]\nread_only = true\n")
    return {"AWSGUARD_CONFIG": str(other)}


def _role_added_to_config(sb: Sandbox) -> dict[str, str]:
    with open(sb.aws_dir / "config", "a") as f:
        f.write(
            "role_arn = arn:aws:iam::111122223333:role/deployer\nsource_profile = src\n"
            f"[profile src]\naws_access_key_id = {KEY_STATIC}\n"
            f"aws_secret_access_key = {SECRET_STATIC}\n"
        )
    return {}


CHANGES = {
    "keys-appended-in-place": _add_keys_in_place,
    "keys-written-by-rename": _add_keys_by_rename,
    "keys-exported": _export_keys,
    "AWS_SHARED_CREDENTIALS_FILE": _other_credentials_file,
    "policy-file-appears": _policy_appears,
    "AWSGUARD_CONFIG": _policy_named_by_variable,
    "role-added-to-config": _role_added_to_config,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_quiet_allow_is_not_reused_after_an_input_changes(sb: Sandbox, change: str) -> None:
    field_report(sb, keys=False)  # the login session wins: allowed, silently
    extra = {"AWS_PROFILE": "test_user"}
    for _ in range(2):  # the second call may be answered from what the first remembered
        first = sb.run(WRITE_CALL, extra)
        assert_ran(first)
        assert first.stderr == b""
    extra.update(CHANGES[change](sb))
    result = sb.run(WRITE_CALL, extra)
    assert_blocked(result)
    assert "test_user" in result.err


# =============================================================================================
# Never judged, and errors left to the CLI (catalogue 22-23)
# =============================================================================================

NEVER_JUDGED = [
    ["logout"],
    ["sso", "login"],
    ["sso", "logout"],
    ["configure", "list"],
    ["configure", "set", "region", "eu-west-1"],
    ["configure", "get", "region"],
    ["help"],
    ["s3", "help"],
    ["ec2", "run-instances", "help"],
    ["--version"],
    ["--no-sign-request", "s3", "ls", "s3://public-bucket"],
    [],
]


@pytest.mark.parametrize("args", NEVER_JUDGED, ids=_ids(NEVER_JUDGED))
@pytest.mark.parametrize("how", sorted(HOW))
def test_never_judged_commands_run_even_when_shadowed(
    sb: Sandbox, args: list[str], how: str
) -> None:
    field_report(sb)
    sb.policy("[profiles.test_user]\nread_only = true\nconfirm = true\n")
    extra: dict[str, str] = {"STUB_EXIT": "0"}
    if how == "--profile":
        argv = ["--profile", "test_user", *args]
    else:
        argv, extra = args, {**extra, "AWS_PROFILE": "test_user"}
    result = sb.run(argv, extra)
    assert_ran(result)
    assert result.record is not None and result.record.argv == [a.encode() for a in argv]
    assert result.stderr == b""


HELP_THEN_OPTIONS = [
    ["ec2", "run-instances", "help", "--profile", "test_user"],
    ["s3", "cp", "help", "--region", "eu-west-1", "--profile", "test_user"],
]


@pytest.mark.parametrize("args", HELP_THEN_OPTIONS, ids=_ids(HELP_THEN_OPTIONS))
def test_help_followed_by_global_options_is_never_judged(sb: Sandbox, args: list[str]) -> None:
    field_report(sb)
    assert_ran(sb.run(args))


@pytest.mark.parametrize("how", sorted(HOW))
def test_aws_login_gets_a_preflight_warning_then_runs(sb: Sandbox, how: str) -> None:
    field_report(sb)
    args, extra = HOW[how]
    argv = ["login", *args[len(CALL) :]]
    result = sb.run(argv, extra)
    assert_ran(result)
    assert result.stdout == b""
    assert f"credentials:{CREDENTIALS_KEY_LINE}" in result.err, result.err
    assert "test_user" in result.err
    # Control: nothing to say when no keys would shadow the new session.
    field_report(sb, keys=False)
    quiet = sb.run(argv, extra)
    assert_ran(quiet)
    assert quiet.stderr == b""


def test_unknown_profile_is_left_to_the_cli(sb: Sandbox) -> None:
    field_report(sb)
    result = sb.run([*CALL, "--profile", "no-such-profile"])
    assert_ran(result)
    assert result.stderr == b""


DUPLICATE_SECTION = f"""\
[test_user]
aws_access_key_id = {KEY_STATIC}
aws_secret_access_key = {SECRET_STATIC}
[test_user]
aws_secret_access_key = {SECRET_STATIC}
"""


def test_file_the_cli_rejects_is_left_to_the_cli(sb: Sandbox) -> None:
    """A duplicate section is a ConfigParseError for every aws command: let aws say so."""
    field_report(sb)
    sb.credentials(DUPLICATE_SECTION)
    result = sb.run([*CALL, "--profile", "test_user"])  # secrets are checked by run()
    assert_ran(result)
    assert len(result.err_lines) <= 1, result.err


@pytest.mark.parametrize(
    "which",
    [
        ".aws/config",
        ".aws/credentials",
        # chain.login_state reads the cache without JSONFileCache's isfile() check
        "login-cache",
        "policy",
        # chain.ec2_credentials_file is probed after the winner; botocore never gets there
        "AWS_CREDENTIAL_FILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ],
)
def test_a_fifo_in_place_of_a_file_never_hangs_the_shim(sb: Sandbox, which: str) -> None:
    """A FIFO with no writer where a file is expected (docs/hostile-inputs.md §4 and §7 items 11, 37)."""
    field_report(sb)
    fifo = sb.root / "fifo"
    os.mkfifo(fifo)
    extra: dict[str, str] = {"AWSGUARD_MODE": "warn"}
    if which.startswith(".aws/"):
        (sb.home / which).unlink()
        os.mkfifo(sb.home / which)
    elif which == "login-cache":
        path = sb.home / shimkit.login_cache_relpath(LOGIN_ARN)
        path.unlink()
        os.mkfifo(path)
    elif which == "policy":
        extra["AWSGUARD_CONFIG"] = str(fifo)
    else:
        extra[which] = str(fifo)
        if which == "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE":
            # Only read when a container URI selects the provider (loopback, never contacted).
            extra["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/creds"
    # The shim takes well under a second; 8 s is a hang guard, not a measurement.
    result = sb.run([*CALL, "--profile", "test_user"], extra, timeout=8)
    assert result.ran, result.describe()


# =============================================================================================
# Fail-open on internal errors (catalogue 22)
# =============================================================================================


# An internal failure is injected where the decision judges (AWSGUARD_TEST_FAULT=decide:raise,
# awsguard.host.faults): no input is known to crash awsguard any more - a 1,500-deep role chain
# once did, and is now predicted as the CLI's own RecursionError (tests/test_depth.py).
INTERNAL_ERROR = {"AWSGUARD_TEST_FAULT": "decide:raise"}


def test_internal_error_fails_open_with_one_line(sb: Sandbox) -> None:
    field_report(sb)  # would be blocked, had the decision finished
    result = sb.run([*CALL, "--profile", "test_user"], {**INTERNAL_ERROR, "STUB_EXIT": "252"})
    assert_ran(result, 252)
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith("awsguard: internal error (RuntimeError)")
    assert "Traceback" not in result.err
    # Control: without the fault the same call is blocked for its reasons.
    assert_blocked(sb.run([*CALL, "--profile", "test_user"]))


def test_internal_error_in_strict_mode_blocks(sb: Sandbox) -> None:
    field_report(sb, keys=False)  # would be allowed, had the decision finished
    result = sb.run(
        [*CALL, "--profile", "test_user"], {**INTERNAL_ERROR, "AWSGUARD_MODE": "strict"}
    )
    assert_blocked(result)
    assert len(result.err_lines) == 1 and "internal error" in result.err, result.err


def test_internal_error_with_strict_mode_in_the_policy_file_blocks(sb: Sandbox) -> None:
    field_report(sb, keys=False)
    sb.policy('mode = "strict"\n')
    result = sb.run([*CALL, "--profile", "test_user"], INTERNAL_ERROR)
    assert_blocked(result)


def test_a_suspended_decision_is_not_a_slow_one(sb: Sandbox, tmp_path: Path) -> None:
    """The deadline counts the decision's own CPU time: a shim stopped (SIGSTOP) mid-decision for
    longer than the deadline still decides, and blocks - it never fails open because the machine
    was busy or the process was suspended."""
    field_report(sb)
    pause = tmp_path / "pause"
    pause.mkdir()
    deadline = 0.5
    env = sb.env(
        {
            "AWSGUARD_TEST_FAULT": "decide:pause",
            "AWSGUARD_TEST_PAUSE": str(pause),
            "AWSGUARD_TIMEOUT": str(deadline),
        }
    )
    proc = subprocess.Popen(
        [str(sb.shim), *CALL, "--profile", "test_user"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(sb.cwd),
    )
    try:
        wait_until(lambda: (pause / "decide.paused").exists(), "the shim reached its decision")
        started = time.monotonic()
        os.kill(proc.pid, signal.SIGSTOP)
        # Stopped for four deadlines of wall time: a wall-clock timer would have fired.
        wait_until(lambda: time.monotonic() - started > 4 * deadline, "the deadline's wall time")
        (pause / "decide.go").touch()
        os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=shimkit.HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert time.monotonic() - started > 4 * deadline
    assert proc.returncode == BLOCKED, err.decode(errors="replace")
    assert b"login-shadowed" in err and b"AWSGUARD_TIMEOUT" not in err
    assert out == b""


def _paused_shim(
    sb: Sandbox, pause: Path, step: str, args: list[str], preexec_fn: Callable[[], None]
) -> subprocess.Popen[bytes]:
    """The shim started with AWSGUARD_TEST_FAULT=<step>:pause, once it has reached ``step``."""
    env = sb.env({"AWSGUARD_TEST_FAULT": f"{step}:pause", "AWSGUARD_TEST_PAUSE": str(pause)})
    proc = subprocess.Popen(
        [str(sb.shim), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(sb.cwd),
        preexec_fn=preexec_fn,
    )
    try:
        wait_until(lambda: (pause / f"{step}.paused").exists(), f"the shim reached {step}")
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    return proc


def _finish(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    try:
        return proc.communicate(timeout=shimkit.HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL])
def test_a_kill_mid_write_leaves_no_temporary_file(
    sb: Sandbox, tmp_path: Path, sig: signal.Signals
) -> None:
    """A signal that ends the shim while it writes its cache waits until the temporary file is
    gone; SIGKILL, which nothing can hold, is the control: it does leave one, so the check sees."""
    pause = tmp_path / "pause"
    pause.mkdir()
    cache = sb.home / ".cache"
    default = default_disposition(signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    proc = _paused_shim(sb, pause, "memo-temp-write", CALL, default)
    temps = list(cache.rglob("*.tmp"))
    assert len(temps) == 1, sorted(cache.rglob("*"))  # the window is real: the file exists
    os.kill(proc.pid, sig)
    (pause / "memo-temp-write.go").touch()
    _, err = _finish(proc)
    assert proc.returncode == -sig, (shimkit.exit_status(proc.returncode), err)
    left = sorted(cache.rglob("*.tmp"))
    if sig == signal.SIGKILL:
        assert left == temps
    else:
        assert left == [] and err == b"", (left, err)


def test_ctrl_c_before_the_exec_ends_the_shim_by_the_signal(sb: Sandbox, tmp_path: Path) -> None:
    """Ctrl-C mid-decision ends the shim as it ends a C program: by SIGINT, at once, with nothing
    on stderr (no KeyboardInterrupt unwinding through imports to print a traceback), and aws
    does not run."""
    field_report(sb)
    pause = tmp_path / "pause"
    pause.mkdir()
    args = [*CALL, "--profile", "test_user"]
    proc = _paused_shim(sb, pause, "decide", args, default_disposition(signal.SIGINT))
    os.kill(proc.pid, signal.SIGINT)
    out, err = _finish(proc)  # not released: the signal alone must end it
    assert proc.returncode == -signal.SIGINT, (shimkit.exit_status(proc.returncode), err)
    assert (out, err) == (b"", b"")
    assert read_record(sb.rec, proc.pid) is None


def test_an_ignored_sigint_stays_ignored(sb: Sandbox, tmp_path: Path) -> None:
    """A background job starts with SIGINT ignored: the shim ignores it too, decides, and aws
    inherits it ignored, as it would without the shim."""
    pause = tmp_path / "pause"
    pause.mkdir()

    def ignore() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = _paused_shim(sb, pause, "decide", CALL, ignore)
    os.kill(proc.pid, signal.SIGINT)
    (pause / "decide.go").touch()
    out, err = _finish(proc)
    assert (proc.returncode, out, err) == (0, b"", b""), err
    seen = read_record(sb.rec, proc.pid)
    assert seen is not None and signal_ignored(seen.sigign, signal.SIGINT), seen
    # Control: started with SIGINT at its default, aws gets it at its default.
    plain = sb.run(CALL, preexec_fn=default_disposition(signal.SIGINT))
    assert plain.record is not None and not signal_ignored(plain.record.sigign, signal.SIGINT)


@pytest.mark.slow
def test_under_load_the_guard_never_stands_down(sb: Sandbox) -> None:
    """200 concurrent calls on 2 cores, in phases, while the credentials file flips between
    shadowing keys and none: every call in a keys phase is blocked (0 stale allows, 0 fail-opens),
    every call in a clean phase runs; no traceback, no byte on stdout.  The file changes only
    between phases, so what each call must decide is known exactly."""
    field_report(sb)
    # Half a second of CPU time is ten times what a decision needs here, and far less than the
    # wall time 200 of them take on 2 cores: a wall-clock deadline fails open, this one must not.
    env = sb.env({"AWSGUARD_TIMEOUT": "0.5"})
    argv = [str(sb.shim), *CALL, "--profile", "test_user"]
    counts = {"stale allows": 0, "fail-opens": 0, "tracebacks": 0, "stdout bytes": 0}
    for phase in range(4):
        keys = phase % 2 == 0
        sb.credentials(FIELD_CREDENTIALS if keys else "[test_user]\n")
        procs = [
            subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(sb.cwd),
            )
            for _ in range(200)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=10 * shimkit.HANG_GUARD)
            counts["stdout bytes"] += len(out)
            if b"Traceback" in err or b"Exception ignored" in err:
                counts["tracebacks"] += 1
            if b"could not decide" in err or b"internal error" in err:
                counts["fail-opens"] += 1
            if keys and proc.returncode != BLOCKED:
                counts["stale allows"] += 1
            if not keys:
                assert proc.returncode == 0 and err == b"", err.decode(errors="replace")
    assert counts == {"stale allows": 0, "fail-opens": 0, "tracebacks": 0, "stdout bytes": 0}
    # Nothing left behind in awsguard's cache by 800 decisions: no temporary file.
    cache = Path(env["XDG_CACHE_HOME"]) if "XDG_CACHE_HOME" in env else sb.home / ".cache"
    assert not [p for p in cache.rglob("*.tmp")], sorted(cache.rglob("*"))


def wait_until(check, what: str, timeout: float = shimkit.HANG_GUARD) -> None:
    """Poll ``check`` (never a fixed sleep as the test's logic); fail with ``what``."""
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_a_block_never_repeats_the_command_arguments(sb: Sandbox) -> None:
    """Arguments can hold secrets (``--secret-string``): the message names the command and the
    operation, never the rest of the line."""
    field_report(sb)
    secret = "hunter2-in-an-argument"
    call = ["--profile", "test_user", "secretsmanager", "create-secret", "--name", "x"]
    result = sb.run([*call, "--secret-string", secret])
    assert_blocked(result)
    assert "secretsmanager create-secret" in result.err
    assert secret not in result.err and secret.encode() not in result.stdout


def test_a_decision_that_takes_too_long_fails_open(sb: Sandbox) -> None:
    """Catalogue 25: a guard that cannot finish in time lets aws run (one line), or blocks in
    strict mode.  The decision burns CPU at the point where it judges (AWSGUARD_TEST_FAULT=
    decide:spin) until its CPU deadline stops it: the same on an idle or a loaded machine."""
    field_report(sb)  # would be blocked, given the time to decide
    spin = {"AWSGUARD_TEST_FAULT": "decide:spin", "AWSGUARD_TIMEOUT": "0.05"}
    result = sb.run([*CALL, "--profile", "test_user"], spin)
    assert_ran(result)
    assert len(result.err_lines) == 1 and "AWSGUARD_TIMEOUT" in result.err, result.err
    assert "Traceback" not in result.err and "Exception ignored" not in result.err
    strict = sb.run([*CALL, "--profile", "test_user"], {**spin, "AWSGUARD_MODE": "strict"})
    assert_blocked(strict)
    assert "AWSGUARD_TIMEOUT" in strict.err
    # Control: with the default budget the same call is decided, and blocked for its reasons.
    normal = sb.run([*CALL, "--profile", "test_user"])
    assert_blocked(normal)
    assert "AWSGUARD_TIMEOUT" not in normal.err and "login-shadowed" in normal.err
    # Nothing of the deadline leaks into aws (an interval timer survives exec, and SIGALRM
    # would kill it): an allowed call whose aws runs well past the budget ends normally.
    field_report(sb, keys=False)
    slow = sb.run(
        [*CALL, "--profile", "test_user"], {"AWSGUARD_TIMEOUT": "0.05", "STUB_FLOOD": "200000"}
    )
    assert slow.returncode == 3 and slow.record is not None, slow.describe()  # flood survived
    assert slow.stderr == b""
