"""awsguard.host.realcli: finding the real `aws` without the shim, and probing its version."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import threading
import time
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pytest_mock import MockerFixture

from awsguard.host import memo, realcli
from awsguard.host.dirs import default_cache_dir
from awsguard.host.findaws import SHIM_MARKER, RealCliError, find_real_aws
from awsguard.host.realcli import (
    CliInfo,
    cli_info,
    parse_version_output,
    python_interpreter,
    semantics,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL_AWS = os.path.join(os.path.dirname(sys.executable), "aws")
V1_LINE = "aws-cli/1.46.3 Python/3.11.7 Linux/6.8.0 awscrt/0.38.1 botocore/1.43.62"
V2_LINE = "aws-cli/2.32.0 Python/3.13.7 Linux/6.8.0 exe/x86_64.ubuntu.24 prompt/off"


def write_exe(path: Path, text: str, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def sh_stub(
    path: Path, output: str, *, counter: Path | None = None, to: str = "stdout", extra: str = ""
) -> Path:
    """A /bin/sh `aws` that prints ``output`` and counts its runs in ``counter``."""
    lines = ["#!/bin/sh"]
    if counter is not None:
        lines.append(f"echo run >> '{counter}'")
    lines.append(extra)
    redirect = " >&2" if to == "stderr" else ""
    lines.append(f"printf '%s\\n' '{output}'{redirect}")
    return write_exe(path, "\n".join(lines) + "\n")


def runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def is_running(pid: int) -> bool:
    """Alive and not a zombie (an orphan is reaped by whatever init the container has, or not)."""
    if not os.path.isdir("/proc/self"):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def bump_mtime(path: Path) -> None:
    st_ = path.stat()
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 5_000_000_000))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment for probes: no CRT switch, a HOME of our own."""
    home = tmp_path / "home"
    home.mkdir()
    return {"PATH": "/usr/bin:/bin", "HOME": str(home)}


@pytest.fixture
def cache(tmp_path: Path) -> str:
    return str(tmp_path / "cache" / "awsguard")


# --- The real aws (awscli v1 from PyPI, with awscrt) -----------------------------------------


@pytest.fixture(scope="module")
def real_probe(tmp_path_factory: pytest.TempPathFactory) -> tuple[CliInfo, str, dict[str, str]]:
    base = tmp_path_factory.mktemp("real")
    # A broken config makes v1 fail even for --version (it loads plugins from it); the probe must
    # not depend on the user's config.
    bad = base / "config"
    bad.write_text("[default]\nregion = a\n[default]\nregion = b\n")
    environ = {"PATH": os.environ.get("PATH", ""), "HOME": str(base), "AWS_CONFIG_FILE": str(bad)}
    cache_dir = str(base / "cache")
    return cli_info(REAL_AWS, environ, cache_dir=cache_dir), cache_dir, environ


def test_real_aws_is_v1_with_crt(real_probe: tuple[CliInfo, str, dict[str, str]]) -> None:
    info, cache_dir, environ = real_probe
    assert info.path == REAL_AWS
    assert info.major == 1
    assert info.version == dist_version("awscli")  # awscli.__version__
    assert info.crt is True
    assert info.botocore is not None and info.botocore[0].isdigit()
    assert semantics(environ, probe=False, path=REAL_AWS, cache_dir=cache_dir).majors == (1,)


def test_real_aws_broken_config_would_break_a_naive_probe(
    real_probe: tuple[CliInfo, str, dict[str, str]],
) -> None:
    # Negative control for the AWS_CONFIG_FILE isolation used by the probe.
    _, _, environ = real_probe
    done = subprocess.run(
        [REAL_AWS, "--version"], env=environ, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "aws-cli/" not in done.stdout + done.stderr


def test_real_aws_cache_hit_runs_nothing(
    real_probe: tuple[CliInfo, str, dict[str, str]], mocker: MockerFixture
) -> None:
    info, cache_dir, environ = real_probe
    run = mocker.patch.object(realcli, "_run", side_effect=AssertionError("probe on a cache hit"))
    assert cli_info(REAL_AWS, environ, cache_dir=cache_dir) == info
    # BOTO_DISABLE_CRT is botocore's switch (botocore/compat.py); applied per call, not cached.
    disabled = cli_info(REAL_AWS, {**environ, "BOTO_DISABLE_CRT": "TRUE"}, cache_dir=cache_dir)
    assert disabled.crt is False and disabled.version == info.version
    assert cli_info(REAL_AWS, {**environ, "BOTO_DISABLE_CRT": "1"}, cache_dir=cache_dir).crt is True
    assert run.call_count == 0
    # Negative control: without a cache the probe does run.
    with pytest.raises(AssertionError, match="probe on a cache hit"):
        cli_info(REAL_AWS, environ, cache_dir=None)


def test_python_interpreter_of_real_aws() -> None:
    interp = python_interpreter(REAL_AWS, os.environ)
    assert interp is not None
    assert os.path.samefile(interp[0], sys.executable)


# --- Version detection with stubs ------------------------------------------------------------


def test_v2_stub(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    aws = sh_stub(tmp_path / "bin" / "aws", V2_LINE)
    info = cli_info(str(aws), env, cache_dir=cache)
    assert (info.version, info.major, info.crt, info.botocore) == ("2.32.0", 2, True, None)
    assert semantics(env, probe=False, path=str(aws), cache_dir=cache).major == 2
    # v2 bundles awscrt and its botocore has no BOTO_DISABLE_CRT switch.
    assert cli_info(str(aws), {**env, "BOTO_DISABLE_CRT": "true"}, cache_dir=cache).crt is True


@pytest.mark.parametrize("to", ["stdout", "stderr"])
def test_v1_stub_either_stream(tmp_path: Path, env: dict[str, str], to: str) -> None:
    aws = sh_stub(tmp_path / "aws", V1_LINE, to=to)
    info = cli_info(str(aws), env, cache_dir=None)
    assert (info.version, info.major, info.crt, info.botocore) == ("1.46.3", 1, True, "1.43.62")


@pytest.mark.parametrize(
    ("line", "crt"),
    [
        ("aws-cli/1.44.0 Python/3.11.7 Linux/6.8 awscrt/0.28.4 botocore/1.42.0", True),
        ("aws-cli/1.44.0 Python/3.11.7 Linux/6.8 awscrt/0.28.3 botocore/1.42.0", False),
        ("aws-cli/1.44.0 Python/3.11.7 Linux/6.8 awscrt/0.28.4rc1 botocore/1.42.0", False),
        ("aws-cli/1.44.0 Python/3.11.7 Linux/6.8 botocore/1.42.0", False),
        # No botocore token: the line says nothing about awscrt; a shell stub has no interpreter.
        ("aws-cli/1.44.0 Python/3.11.7 Linux/6.8", None),
    ],
)
def test_v1_crt_from_version_line(
    tmp_path: Path, env: dict[str, str], line: str, crt: bool | None
) -> None:
    info = cli_info(str(sh_stub(tmp_path / "aws", line)), env, cache_dir=None)
    assert info.major == 1
    assert info.crt is crt


@pytest.mark.parametrize(
    "output",
    [
        "",
        "hello",
        "aws-cli/",
        "aws-cli/latest Python/3",
        "my-aws-cli/2.32.0 Python/3.13",
        "aws-cli/2.32.0\x1b]0;x\x07 Python/3.13",
        "Traceback (most recent call last):",
    ],
)
def test_garbage_output_gives_unknown(tmp_path: Path, env: dict[str, str], output: str) -> None:
    aws = str(sh_stub(tmp_path / "aws", output))
    info = cli_info(aws, env, cache_dir=None)
    assert (info.version, info.major, info.crt) == (None, None, None)
    assert semantics(env, probe=True, path=aws, cache_dir=None).major == 2  # unknown: v2 rules


def test_unknown_major_keeps_version(tmp_path: Path, env: dict[str, str]) -> None:
    aws = str(sh_stub(tmp_path / "aws", "aws-cli/3.0.0 Python/3.14"))
    info = cli_info(aws, env, cache_dir=None)
    assert (info.version, info.major, info.crt) == ("3.0.0", None, None)
    assert semantics(env, probe=True, path=aws, cache_dir=None).major == 2


def test_version_from_a_later_line(tmp_path: Path, env: dict[str, str]) -> None:
    aws = sh_stub(tmp_path / "aws", V2_LINE, extra="echo 'warning: something'")
    assert cli_info(str(aws), env, cache_dir=None).version == "2.32.0"


@given(st.text(max_size=300))
@example("aws-cli/1 botocore/ awscrt/x")
@example("aws-cli/1.2.3 awscrt/0.99 botocore/1.0 awscrt")
def test_parse_version_output_never_raises(text: str) -> None:
    version, major, botocore, crt = parse_version_output(text)
    assert major in (None, 1, 2)
    if version is None:
        assert (major, botocore, crt) == (None, None, None)


def test_missing_or_unrunnable_path(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    assert cli_info(str(tmp_path / "nope"), env, cache_dir=cache) == CliInfo(str(tmp_path / "nope"))
    text = write_exe(tmp_path / "aws", "#!/bin/sh\necho aws-cli/2.0.0\n", mode=0o644)
    assert cli_info(str(text), env, cache_dir=cache).version is None
    binary = write_exe(tmp_path / "aws2", "\x7fELF garbage", mode=0o755)
    assert cli_info(str(binary), env, cache_dir=cache).version is None


# --- The probe's process hygiene -------------------------------------------------------------


def test_probe_environment_and_argv(tmp_path: Path, env: dict[str, str]) -> None:
    record = tmp_path / "record"
    aws = write_exe(
        tmp_path / "aws",
        "#!/bin/sh\n"
        f"{{ printf 'argv=%s\\n' \"$*\"; pwd; env; if read -r x; then echo stdin=data; else echo stdin=eof; fi; }} > '{record}'\n"
        f"echo '{V2_LINE}'\n",
    )
    environ = {
        **env,
        "BOTO_DISABLE_CRT": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_CLI_AUTO_PROMPT": "on",
        "AWSGUARD_DEPTH": "1",
        "AWS_PROFILE": "prod",
    }
    assert cli_info(str(aws), environ, cache_dir=None).major == 2
    lines = record.read_text().splitlines()
    assert lines[0] == "argv=--version"
    assert lines[1] == "/"
    assert lines[-1] == "stdin=eof"
    assert f"AWS_CONFIG_FILE={os.devnull}" in lines
    # A probe reaching a shim again (a wrapper that calls aws) must stop there at once.
    from awsguard.host.findaws import MAX_DEPTH

    assert f"AWSGUARD_DEPTH={MAX_DEPTH}" in lines
    assert "AWS_PROFILE=prod" in lines
    assert not [
        line for line in lines if line.startswith(("BOTO_DISABLE_CRT=", "AWS_CLI_AUTO_PROMPT="))
    ]


def test_probe_never_uses_a_shell(tmp_path: Path, env: dict[str, str]) -> None:
    weird = tmp_path / "a b $(touch pwned) `touch pwned2`; touch pwned3"
    aws = sh_stub(weird / "aws", V2_LINE)
    assert cli_info(str(aws), env, cache_dir=None).version == "2.32.0"
    assert not list(tmp_path.glob("pwned*")) and not list(Path("/").glob("pwned*"))


def test_probe_timeout_kills_the_whole_group(
    tmp_path: Path, env: dict[str, str], cache: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realcli, "PROBE_TIMEOUT", 0.5)
    pidfile = tmp_path / "pid"
    # A grandchild keeps stdout open: without the group kill, reading to EOF would hang.
    aws = write_exe(
        tmp_path / "aws", f"#!/bin/sh\nsleep 30 &\necho $! > '{pidfile}'\nexec sleep 30\n"
    )
    started = time.monotonic()
    info = cli_info(str(aws), env, cache_dir=cache)
    assert time.monotonic() - started < 4
    assert (info.version, info.major, info.crt) == (None, None, None)
    grandchild = int(pidfile.read_text())
    for _ in range(50):
        if not is_running(grandchild):
            break
        time.sleep(0.02)
    else:
        pytest.fail("the background child survived the timeout")
    # The failure is cached: a hanging CLI does not cost the timeout on every command.
    started = time.monotonic()
    assert cli_info(str(aws), env, cache_dir=cache) == info
    assert time.monotonic() - started < 0.4


# --- The cache -------------------------------------------------------------------------------


def test_cache_hit_does_not_rerun(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    counter = tmp_path / "count"
    aws = sh_stub(tmp_path / "bin" / "aws", V2_LINE, counter=counter)
    first = cli_info(str(aws), env, cache_dir=cache)
    assert runs(counter) == 1
    assert cli_info(str(aws), env, cache_dir=cache) == first
    assert cli_info(str(aws), env, cache_dir=cache) == first
    assert runs(counter) == 1
    # Negative control: no cache, a run per call.
    cli_info(str(aws), env, cache_dir=None)
    assert runs(counter) == 2


def test_cache_file_mode_and_layout(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    aws = sh_stub(tmp_path / "aws", V2_LINE)
    cli_info(str(aws), env, cache_dir=cache)
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    path = Path(cache) / realcli.CACHE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(cache)) == [realcli.CACHE_FILE]  # no temp file left behind
    data = memo.read_marshal(str(path), derived=True)
    entry = data["entries"][os.path.realpath(aws)]
    assert (entry["version"], entry["major"]) == ("2.32.0", 2)
    st_ = os.stat(aws)
    assert entry["id"] == [st_.st_mtime_ns, st_.st_size, st_.st_ino, st_.st_dev]


def test_cache_invalidated_when_the_cli_changes(
    tmp_path: Path, env: dict[str, str], cache: str
) -> None:
    counter = tmp_path / "count"
    aws = sh_stub(
        tmp_path / "aws", "aws-cli/1.40.0 Python/3.11 Linux/6 botocore/1.40.0", counter=counter
    )
    assert cli_info(str(aws), env, cache_dir=cache).version == "1.40.0"
    # Rewritten in place (same inode) with a new version.
    sh_stub(aws, "aws-cli/2.32.0 Python/3.13 Linux/6", counter=counter)
    bump_mtime(aws)
    info = cli_info(str(aws), env, cache_dir=cache)
    assert (info.version, info.major) == ("2.32.0", 2)
    assert runs(counter) == 2
    # Only the mtime changes: still a new identity, so probed again.
    bump_mtime(aws)
    cli_info(str(aws), env, cache_dir=cache)
    assert runs(counter) == 3
    # Replaced by a new file (new inode), as installers do.
    new = sh_stub(tmp_path / "aws.new", "aws-cli/2.33.1 Python/3.13 Linux/6", counter=counter)
    os.replace(new, aws)
    assert cli_info(str(aws), env, cache_dir=cache).version == "2.33.1"
    assert runs(counter) == 4


def test_cache_follows_symlinks(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    # v2's installer: /usr/local/bin/aws -> /usr/local/aws-cli/v2/current/bin/aws; an upgrade
    # repoints `current`.
    counter = tmp_path / "count"
    sh_stub(
        tmp_path / "v2" / "2.32.0" / "bin" / "aws", "aws-cli/2.32.0 Python/3.13", counter=counter
    )
    sh_stub(
        tmp_path / "v2" / "2.33.0" / "bin" / "aws", "aws-cli/2.33.0 Python/3.13", counter=counter
    )
    current = tmp_path / "v2" / "current"
    current.symlink_to("2.32.0")
    link = tmp_path / "bin" / "aws"
    link.parent.mkdir()
    link.symlink_to(current / "bin" / "aws")
    assert cli_info(str(link), env, cache_dir=cache).version == "2.32.0"
    assert cli_info(str(link), env, cache_dir=cache).version == "2.32.0"
    assert runs(counter) == 1
    current.unlink()
    current.symlink_to("2.33.0")
    info = cli_info(str(link), env, cache_dir=cache)
    assert (info.path, info.version) == (str(link), "2.33.0")
    assert runs(counter) == 2


def test_cache_keeps_several_clis(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    counter = tmp_path / "count"
    one = sh_stub(
        tmp_path / "one" / "aws",
        "aws-cli/1.40.0 Python/3.11 Linux/6 botocore/1.40.0",
        counter=counter,
    )
    two = sh_stub(tmp_path / "two" / "aws", V2_LINE, counter=counter)
    for _ in range(3):
        assert cli_info(str(one), env, cache_dir=cache).major == 1
        assert cli_info(str(two), env, cache_dir=cache).major == 2
    assert runs(counter) == 2


def test_cache_is_bounded(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    stubs = [
        sh_stub(tmp_path / str(i) / "aws", V2_LINE) for i in range(realcli._CACHE_MAX_ENTRIES + 3)
    ]
    for aws in stubs:
        cli_info(str(aws), env, cache_dir=cache)
    entries = memo.read_marshal(str(Path(cache) / realcli.CACHE_FILE))["entries"]
    assert len(entries) == realcli._CACHE_MAX_ENTRIES
    assert os.path.realpath(stubs[-1]) in entries and os.path.realpath(stubs[0]) not in entries


def test_failed_probe_is_retried_later(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    counter = tmp_path / "count"
    aws = sh_stub(tmp_path / "aws", "no version here", counter=counter)
    cli_info(str(aws), env, cache_dir=cache)
    cli_info(str(aws), env, cache_dir=cache)
    assert runs(counter) == 1
    path = Path(cache) / realcli.CACHE_FILE
    data = memo.read_marshal(str(path), derived=True)
    data["entries"][os.path.realpath(aws)]["at"] -= realcli._RETRY_FAILED_AFTER + 1
    memo.write_marshal(str(path), data)
    cli_info(str(aws), env, cache_dir=cache)
    assert runs(counter) == 2


@pytest.mark.parametrize(
    "content",
    [
        "",
        "garbage",
        "{",
        "[]",
        '{"schema": 1, "entries": {}}',
        '{"schema": 2, "entries": []}',
        '{"schema": 2, "entries": {"KEY": {"id": "x"}}}',
        '{"schema": 2, "entries": {"KEY": {"id": ID, "deps": [], "env": null, "at": 1e3, "version": "9", "major": 2, "crt": true, "botocore": null}}}',
        '{"schema": 2, "entries": {"KEY": {"id": ID, "deps": [], "env": null, "at": AT, "version": "9", "major": 7, "crt": true, "botocore": null}}}',
        '{"schema": 2, "entries": {"KEY": {"id": ID, "deps": [], "env": null, "at": AT, "version": "9", "major": true, "crt": true, "botocore": null}}}',
        '{"schema": 2, "entries": {"KEY": {"id": ID, "deps": [[1, 2]], "env": null, "at": AT, "version": "9", "major": 2, "crt": true, "botocore": null}}}',
        '{"schema": 2, "entries": {"KEY": {"id": ID, "deps": [], "env": null, "at": AT, "version": "9", "major": 2, "crt": "yes", "botocore": null}}}',
        '{"schema": 2, "entries": {"KEY": {"id": ID, "deps": [], "env": null, "at": AT, "version": "9", "major": 2, "crt": true, "botocore": null, "varies": 1}}}',
        '{"schema": 2, "entries": {"KEY": {"id": ID, "deps": [], "env": null, "at": AT, "retry": "x", "version": "9", "major": 2, "crt": true, "botocore": null}}}',
        '{"schema": 2, "entries": {"KEY": {"id": ID, "deps": [], "env": null, "at": 1000, "retry": 60, "version": null, "major": null, "crt": null, "botocore": null}}}',
        "[" * 10_000,
        '{"schema": 2, "entries": {}} trailing',
        "\xff\xfe",
    ],
)
def test_corrupt_cache_is_ignored_and_replaced(
    tmp_path: Path, env: dict[str, str], cache: str, content: str
) -> None:
    counter = tmp_path / "count"
    aws = sh_stub(tmp_path / "aws", V2_LINE, counter=counter)
    st_ = os.stat(aws)
    key = json.dumps(os.path.realpath(aws))[1:-1]
    content = content.replace("KEY", key).replace(
        "ID", json.dumps([st_.st_mtime_ns, st_.st_size, st_.st_ino, st_.st_dev])
    )
    content = content.replace("AT", str(int(time.time())))
    os.makedirs(cache)
    # The layouts are written as JSON above for reading; the cache holds them in awsguard's
    # marshal framing.  What is not even a value is written raw: garbage in the file.
    target = Path(cache) / realcli.CACHE_FILE
    try:
        memo.write_marshal(str(target), json.loads(content))
    except (ValueError, RecursionError):
        target.write_bytes(content.encode("utf-8", "surrogateescape"))
    # The raw bytes of a marshal list header claiming a billion items: refused unparsed.
    if content == "[" * 10_000:
        assert memo.read_marshal(str(target)) is None
    info = cli_info(str(aws), env, cache_dir=cache)
    assert (info.version, info.major) == ("2.32.0", 2)
    assert runs(counter) == 1
    # ...and rewritten in a form the next call accepts.
    assert cli_info(str(aws), env, cache_dir=cache) == info
    assert runs(counter) == 1


def test_hand_made_valid_cache_is_trusted(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    # Positive control for the corrupt-cache cases: the same layout, well-formed, is a hit.
    counter = tmp_path / "count"
    aws = sh_stub(tmp_path / "aws", V2_LINE, counter=counter)
    st_ = os.stat(aws)
    entry = {
        "id": [st_.st_mtime_ns, st_.st_size, st_.st_ino, st_.st_dev],
        "deps": [],
        "env": None,
        "at": int(time.time()),
        "retry": None,
        "version": "2.99.0",
        "major": 2,
        "crt": True,
        "botocore": None,
        "varies": None,
    }
    os.makedirs(cache)
    data = {"schema": realcli._CACHE_SCHEMA, "entries": {os.path.realpath(aws): entry}}
    memo.write_marshal(str(Path(cache) / realcli.CACHE_FILE), data)
    assert cli_info(str(aws), env, cache_dir=cache).version == "2.99.0"
    assert runs(counter) == 0


@pytest.mark.parametrize("kind", ["fifo", "directory", "huge"])
def test_cache_that_is_not_a_small_file(
    tmp_path: Path, env: dict[str, str], cache: str, kind: str
) -> None:
    aws = sh_stub(tmp_path / "aws", V2_LINE)
    os.makedirs(cache)
    target = Path(cache) / realcli.CACHE_FILE
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        target.write_text('{"schema": 1, "entries": {}, "pad": "' + "x" * 300_000 + '"}')
    # A FIFO must not block the read: run in a thread so a regression fails instead of hanging.
    results: list[CliInfo] = []
    worker = threading.Thread(
        target=lambda: results.append(cli_info(str(aws), env, cache_dir=cache)), daemon=True
    )
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "reading the cache blocked"
    assert results[0].version == "2.32.0"


def test_unwritable_cache_is_ignored(tmp_path: Path, env: dict[str, str]) -> None:
    aws = sh_stub(tmp_path / "aws", V2_LINE)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert cli_info(str(aws), env, cache_dir=str(blocker / "awsguard")).version == "2.32.0"
    assert cli_info(str(aws), env, cache_dir=str(blocker)).version == "2.32.0"
    assert blocker.read_text() == "not a directory"


def test_surrogate_path_round_trips_through_cache(
    tmp_path: Path, env: dict[str, str], cache: str
) -> None:
    counter = tmp_path / "count"
    odd = os.fsdecode(os.fsencode(str(tmp_path)) + b'/caf\xe9 \xf0\x9f\x98\x80 "q" \\ dir')
    aws = sh_stub(Path(odd) / "aws", V2_LINE, counter=counter)
    cli_info(str(aws), env, cache_dir=cache)
    assert cli_info(str(aws), env, cache_dir=cache).version == "2.32.0"
    assert runs(counter) == 1


# --- CRT detection through the interpreter ---------------------------------------------------


def python_stub(path: Path, counter: Path, *, flags: str = "-S") -> Path:
    """A v1-looking Python script whose line does not name botocore, so the probe must ask the
    interpreter.  With -S it sees no site-packages, hence no real awscrt."""
    return write_exe(
        path,
        f"#!{sys.executable} {flags}\n".replace(" \n", "\n")
        + f"open({str(counter)!r}, 'a').write('run\\n')\n"
        + "print('aws-cli/1.40.0 Python/3.11.7 Linux/6.8')\n",
    )


def fake_awscrt(root: Path, version: str, *, ec: bool = True) -> None:
    pkg = root / "awscrt"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(f"__version__ = {version!r}\n")
    (pkg / "auth.py").write_text("")
    (pkg / "crypto.py").write_text("class EC:\n    pass\n" if ec else "")


def test_crt_probe_follows_site_packages(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    counter = tmp_path / "count"
    aws = python_stub(tmp_path / "bin" / "aws", counter)
    site = tmp_path / "site"
    site.mkdir()
    environ = {**env, "PYTHONPATH": str(site)}
    info = cli_info(str(aws), environ, cache_dir=cache)
    assert (info.version, info.major, info.crt) == ("1.40.0", 1, False)
    assert cli_info(str(aws), environ, cache_dir=cache).crt is False
    assert runs(counter) == 1
    # `pip install awscrt` changes the directory: the cache notices without the script changing.
    fake_awscrt(site, "0.28.4")
    assert cli_info(str(aws), environ, cache_dir=cache).crt is True
    assert runs(counter) == 2
    assert cli_info(str(aws), {**environ, "BOTO_DISABLE_CRT": "true"}, cache_dir=cache).crt is False
    assert runs(counter) == 2


@pytest.mark.parametrize(
    ("version", "ec", "crt"),
    [
        ("0.28.4", True, True),
        ("1.0.0", True, True),
        ("0.28.3", True, False),
        ("0.30.0", False, False),
        ("0.30.x", True, False),
    ],
)
def test_crt_probe_mirrors_botocore(
    tmp_path: Path, env: dict[str, str], version: str, ec: bool, crt: bool
) -> None:
    site = tmp_path / "site"
    fake_awscrt(site, version, ec=ec)
    aws = python_stub(tmp_path / "aws", tmp_path / "count")
    assert cli_info(str(aws), {**env, "PYTHONPATH": str(site)}, cache_dir=None).crt is crt


def test_crt_probe_uses_the_shebang_flags(tmp_path: Path, env: dict[str, str]) -> None:
    # The venv's interpreter without -S sees the real awscrt; with -S it does not.
    with_site = python_stub(tmp_path / "a" / "aws", tmp_path / "count", flags="")
    without_site = python_stub(tmp_path / "b" / "aws", tmp_path / "count", flags="-S")
    assert cli_info(str(with_site), env, cache_dir=None).crt is True
    assert cli_info(str(without_site), env, cache_dir=None).crt is False


def test_crt_probe_ignores_the_current_directory(
    tmp_path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `python -c` would put the cwd first on sys.path; a planted awscrt there must not count.
    fake_awscrt(tmp_path / "cwd", "0.30.0")
    monkeypatch.chdir(tmp_path / "cwd")
    aws = python_stub(tmp_path / "bin" / "aws", tmp_path / "count")
    assert cli_info(str(aws), env, cache_dir=None).crt is False
    # Positive control: next to the script (sys.path[0] when it runs) it does count.
    fake_awscrt(tmp_path / "bin", "0.30.0")
    assert cli_info(str(aws), env, cache_dir=None).crt is True


def test_python_probe_env_is_part_of_the_key(
    tmp_path: Path, env: dict[str, str], cache: str
) -> None:
    counter = tmp_path / "count"
    aws = python_stub(tmp_path / "aws", counter)
    site = tmp_path / "site"
    fake_awscrt(site, "0.30.0")
    assert cli_info(str(aws), env, cache_dir=cache).crt is False
    assert cli_info(str(aws), {**env, "PYTHONPATH": str(site)}, cache_dir=cache).crt is True
    assert runs(counter) == 2


@pytest.mark.parametrize(
    ("shebang", "expected"),
    [
        ("#!{py}\n", ["{py}"]),
        ("#!{py} -sE\n", ["{py}", "-sE"]),
        ("#! {py}\t-s \r\n", ["{py}", "-s"]),
        ("#!/usr/bin/env {name}\n", ["{py}"]),
        ("#!/bin/sh\n'''exec' \"{py}\" \"$0\" \"$@\"\n' '''\n", ["{py}"]),
        ("#!/bin/sh\n'''exec' {py} \"$0\" \"$@\"\n' '''\n", ["{py}"]),
        ("#!/bin/sh\necho hi\n", None),
        ("#!/usr/bin/env -S {name} -s\n", None),
        ("#!/usr/bin/env no-such-python-here\n", None),
        ("#!/bin/bash\n", None),
        ("#!relative/python3\n", None),
        ("#!{py} script-arg\n", None),
        ("\x7fELF", None),
    ],
)
def test_python_interpreter(tmp_path: Path, shebang: str, expected: list[str] | None) -> None:
    py = sys.executable
    name = os.path.basename(py)
    script = write_exe(tmp_path / "aws", shebang.format(py=py, name=name) + "print(1)\n")
    environ = {"PATH": os.path.dirname(py)}
    want = None if expected is None else [part.format(py=py) for part in expected]
    assert python_interpreter(str(script), environ) == want


# --- AWSGUARD_CLI_MAJOR -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "2"])
def test_cli_major_override_skips_the_probe(
    tmp_path: Path, env: dict[str, str], cache: str, value: str
) -> None:
    counter = tmp_path / "count"
    aws = sh_stub(tmp_path / "aws", V2_LINE, counter=counter)
    info = cli_info(str(aws), {**env, "AWSGUARD_CLI_MAJOR": value}, cache_dir=cache)
    assert info.major == int(value)
    assert info.version is None
    assert info.crt is (True if value == "2" else None)
    assert runs(counter) == 0


def test_cli_major_override_uses_a_cached_probe(
    tmp_path: Path, env: dict[str, str], cache: str
) -> None:
    counter = tmp_path / "count"
    aws = sh_stub(
        tmp_path / "aws",
        "aws-cli/1.44.0 Python/3.11 Linux/6 awscrt/0.30.0 botocore/1.42.0",
        counter=counter,
    )
    assert cli_info(str(aws), env, cache_dir=cache).crt is True
    forced_v2 = cli_info(str(aws), {**env, "AWSGUARD_CLI_MAJOR": "2"}, cache_dir=cache)
    assert (forced_v2.version, forced_v2.major, forced_v2.crt) == ("1.44.0", 2, True)
    forced_v1 = cli_info(
        str(aws), {**env, "AWSGUARD_CLI_MAJOR": "1", "BOTO_DISABLE_CRT": "true"}, cache_dir=cache
    )
    assert (forced_v1.major, forced_v1.crt) == (1, False)
    assert runs(counter) == 1
    # Empty means unset.
    assert cli_info(str(aws), {**env, "AWSGUARD_CLI_MAJOR": ""}, cache_dir=cache).major == 1


@pytest.mark.parametrize("value", ["3", "0", "v2", " 2", "2 ", "1.0", "two", "\x1b[31m"])
def test_cli_major_invalid(tmp_path: Path, env: dict[str, str], value: str) -> None:
    aws = sh_stub(tmp_path / "aws", V2_LINE)
    with pytest.raises(RealCliError) as caught:
        cli_info(str(aws), {**env, "AWSGUARD_CLI_MAJOR": value}, cache_dir=None)
    message = caught.value.message
    assert message == str(caught.value)
    assert "AWSGUARD_CLI_MAJOR" in message and "1 and 2" in message
    assert "\x1b" not in message


# --- default_cache_dir -----------------------------------------------------------------------


def test_default_cache_dir() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/x/cache/", "HOME": "/h"}) == "/x/cache/awsguard"
    assert default_cache_dir({"XDG_CACHE_HOME": "rel", "HOME": "/h"}) == "/h/.cache/awsguard"
    assert default_cache_dir({"XDG_CACHE_HOME": "", "HOME": "/h/"}) == "/h/.cache/awsguard"
    assert default_cache_dir({"HOME": ""}) is None
    assert default_cache_dir({"HOME": "relative"}) is None


# --- find_real_aws ---------------------------------------------------------------------------

REAL = "#!/bin/sh\necho real\n"
SHIM = f'#!/bin/sh\n# {SHIM_MARKER.decode()}\nexec python -m awsguard.shim "$@"\n'


def test_plain_path_walk(tmp_path: Path) -> None:
    first = tmp_path / "first"
    first.mkdir()
    aws = write_exe(tmp_path / "second" / "aws", REAL)
    environ = {"PATH": f"{first}:{tmp_path / 'missing'}:{aws.parent}"}
    assert find_real_aws(environ) == str(aws)
    # Negative control: nothing named aws anywhere.
    assert find_real_aws({"PATH": f"{first}:{tmp_path / 'missing'}"}) is None
    assert find_real_aws({"PATH": ""}) is None


def test_path_order_wins(tmp_path: Path) -> None:
    a = write_exe(tmp_path / "a" / "aws", REAL)
    b = write_exe(tmp_path / "b" / "aws", REAL)
    assert find_real_aws({"PATH": f"{a.parent}:{b.parent}"}) == str(a)
    assert find_real_aws({"PATH": f"{b.parent}:{a.parent}"}) == str(b)


def test_unset_path_uses_defpath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    aws = write_exe(tmp_path / "def" / "aws", REAL)
    monkeypatch.setattr(os, "defpath", str(aws.parent))
    assert find_real_aws({}) == str(aws)
    assert find_real_aws({"PATH": ""}) is None


@pytest.mark.parametrize("entry", ["", ".", "./", "rel", "rel/../rel", "~/bin", "cwd"])
def test_relative_path_entries_are_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    cwd = tmp_path / "cwd"
    write_exe(cwd / "aws", "#!/bin/sh\necho malicious\n")
    write_exe(cwd / "rel" / "aws", "#!/bin/sh\necho malicious\n")
    write_exe(cwd / "~" / "bin" / "aws", "#!/bin/sh\necho malicious\n")
    monkeypatch.chdir(tmp_path if entry == "cwd" else cwd)
    real = write_exe(tmp_path / "real" / "aws", REAL)
    assert find_real_aws({"PATH": f"{entry}:{real.parent}"}) == str(real)
    assert find_real_aws({"PATH": entry}) is None
    assert find_real_aws({"PATH": f"{entry}:"}) is None
    # Negative control: the same directory named absolutely is used.
    assert find_real_aws({"PATH": str(cwd)}) == f"{cwd}/aws"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A shim directory holding the shim as `aws`, and a real CLI directory after it."""
    shim = write_exe(tmp_path / "shim" / "aws", SHIM)
    real = write_exe(tmp_path / "real" / "aws", REAL)
    return shim.parent, real, shim


@pytest.mark.parametrize("form", ["plain", "slash", "double-slash", "dotdot", "symlink", "dot"])
def test_skip_dirs_by_identity(tmp_path: Path, layout: tuple[Path, Path, Path], form: str) -> None:
    shim_dir, real, _ = layout
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(shim_dir)
    spelled = {
        "plain": str(shim_dir),
        "slash": f"{shim_dir}/",
        "double-slash": f"{shim_dir}//",
        "dotdot": f"{tmp_path}/elsewhere/../shim",
        "symlink": str(tmp_path / "link"),
        "dot": f"{shim_dir}/.",
    }[form]
    # The spelling may be on either side: in skip_dirs, or in PATH.
    environ = {"PATH": f"{shim_dir}:{real.parent}"}
    # Without SHIM_MARKER in the shim this checks identity alone.
    (shim_dir / "aws").write_text(REAL)
    assert find_real_aws(environ, skip_dirs=[spelled]) == str(real)
    assert find_real_aws({"PATH": f"{spelled}:{real.parent}"}, skip_dirs=[str(shim_dir)]) == str(
        real
    )
    # Negative control: without skip_dirs the shim directory's aws is taken.
    assert find_real_aws(environ) == f"{shim_dir}/aws"


def test_shim_dir_twice_on_path(layout: tuple[Path, Path, Path], tmp_path: Path) -> None:
    shim_dir, real, _ = layout
    (tmp_path / "link").symlink_to(shim_dir)
    path = f"{shim_dir}:{tmp_path / 'link'}/:{shim_dir}//:{real.parent}"
    assert find_real_aws({"PATH": path}, skip_dirs=[str(shim_dir)]) == str(real)


@pytest.mark.parametrize("how", ["symlink", "hardlink", "symlink-chain"])
def test_self_path_detected_by_inode(
    tmp_path: Path, layout: tuple[Path, Path, Path], how: str
) -> None:
    _, real, shim = layout
    shim.write_text(REAL)  # no marker: identity alone must catch it
    other = tmp_path / "bin"
    other.mkdir()
    if how == "symlink":
        (other / "aws").symlink_to(shim)
    elif how == "hardlink":
        os.link(shim, other / "aws")
    else:
        (tmp_path / "hop").symlink_to(shim)
        (other / "aws").symlink_to(tmp_path / "hop")
    environ = {"PATH": f"{other}:{real.parent}"}
    assert find_real_aws(environ, self_paths=[str(shim)]) == str(real)
    # Given through a symlink too.
    (tmp_path / "self-link").symlink_to(shim)
    assert find_real_aws(environ, self_paths=[str(tmp_path / "self-link")]) == str(real)
    # Negative control: without self_paths the link is taken.
    assert find_real_aws(environ) == f"{other}/aws"


def test_copied_shim_with_marker_is_skipped(
    tmp_path: Path, layout: tuple[Path, Path, Path]
) -> None:
    _, real, shim = layout
    copy = write_exe(tmp_path / "copy" / "aws", shim.read_text())
    environ = {"PATH": f"{copy.parent}:{real.parent}"}
    assert find_real_aws(environ, self_paths=[str(shim)]) == str(real)
    assert find_real_aws(environ) == str(real)  # the marker alone is enough
    # Negative controls: the same file without the marker, or with it past the first 4 KiB.
    copy.write_text(REAL)
    assert find_real_aws(environ) == str(copy)
    copy.write_text(REAL + "#" * 5000 + SHIM_MARKER.decode() + "\n")
    assert find_real_aws(environ) == str(copy)


def test_marker_in_a_binary(tmp_path: Path) -> None:
    real = write_exe(tmp_path / "real" / "aws", REAL)
    binary = tmp_path / "bin" / "aws"
    binary.parent.mkdir()
    binary.write_bytes(b"\x7fELF\x00\xff" + SHIM_MARKER + b"\x00" * 10)
    binary.chmod(0o755)
    assert find_real_aws({"PATH": f"{binary.parent}:{real.parent}"}) == str(real)


@pytest.mark.parametrize(
    "kind", ["not-executable", "directory", "dir-symlink", "dangling", "fifo", "socket-dir"]
)
def test_non_files_are_skipped(tmp_path: Path, kind: str) -> None:
    real = write_exe(tmp_path / "real" / "aws", REAL)
    bad = tmp_path / "bad"
    bad.mkdir()
    target = bad / "aws"
    if kind == "not-executable":
        write_exe(target, REAL, mode=0o644)
    elif kind in ("directory", "socket-dir"):
        target.mkdir()
        write_exe(target / "aws", REAL)
    elif kind == "dir-symlink":
        target.symlink_to(real.parent)
    elif kind == "dangling":
        target.symlink_to(tmp_path / "nowhere")
    else:
        os.mkfifo(target)
        target.chmod(0o755)
    assert find_real_aws({"PATH": f"{bad}:{real.parent}"}) == str(real)
    assert find_real_aws({"PATH": str(bad)}) is None


def test_path_entry_that_is_a_file(tmp_path: Path) -> None:
    real = write_exe(tmp_path / "real" / "aws", REAL)
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert find_real_aws({"PATH": f"{afile}:{real.parent}"}) == str(real)


def test_awsguard_aws_override(tmp_path: Path, layout: tuple[Path, Path, Path]) -> None:
    _, real, shim = layout
    chosen = write_exe(tmp_path / "chosen" / "aws-2.32", REAL)
    environ = {"PATH": f"{real.parent}", "AWSGUARD_AWS": str(chosen)}
    assert find_real_aws(environ, self_paths=[str(shim)]) == str(chosen)
    # Negative control: without it, PATH decides.
    assert find_real_aws({"PATH": f"{real.parent}"}, self_paths=[str(shim)]) == str(real)
    # Empty means unset.
    assert find_real_aws({**environ, "AWSGUARD_AWS": ""}) == str(real)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("aws", "not an absolute path"),
        ("./aws", "not an absolute path"),
        ("{tmp}/missing", "not an executable regular file"),
        ("{tmp}/chosen", "not an executable regular file"),
        ("{tmp}/plain.txt", "not an executable regular file"),
        ("{shim}", "the awsguard shim itself"),
        ("{tmp}/shim-link", "the awsguard shim itself"),
        ("{tmp}/copy", "a copy of the awsguard shim"),
    ],
)
def test_awsguard_aws_invalid(
    tmp_path: Path, layout: tuple[Path, Path, Path], value: str, why: str
) -> None:
    _, real, shim = layout
    (tmp_path / "chosen").mkdir()
    write_exe(tmp_path / "plain.txt", REAL, mode=0o644)
    (tmp_path / "shim-link").symlink_to(shim)
    shim.write_text(REAL)  # identity cases must not rely on the marker
    write_exe(tmp_path / "copy", SHIM)
    override = value.format(tmp=tmp_path, shim=shim)
    with pytest.raises(RealCliError) as caught:
        find_real_aws({"PATH": str(real.parent), "AWSGUARD_AWS": override}, self_paths=[str(shim)])
    assert caught.value.message.startswith(f"AWSGUARD_AWS={override} cannot be used: ")
    assert why in caught.value.message


def test_awsguard_aws_message_is_one_safe_line() -> None:
    with pytest.raises(RealCliError) as caught:
        find_real_aws({"AWSGUARD_AWS": "rel\n\x1b]0;pwned\x07"})
    assert "\n" not in caught.value.message and "\x1b" not in caught.value.message


@given(
    st.lists(
        st.sampled_from(
            ["", ".", "rel", "/nonexistent", "/", "//", "/dev/null", "\x00", "/tmp/\udcff"]
        ),
        max_size=6,
    )
)
def test_find_never_raises_on_odd_path(entries: list[str]) -> None:
    result = find_real_aws({"PATH": ":".join(entries)})
    assert result is None or result.startswith("/")


# --- The hot path stays light ----------------------------------------------------------------


def test_cache_hit_imports_nothing_heavy(tmp_path: Path, env: dict[str, str], cache: str) -> None:
    aws = sh_stub(tmp_path / "bin" / "aws", V2_LINE)
    cli_info(str(aws), env, cache_dir=cache)  # warm the cache
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "before = set(sys.modules)\n"
        "from awsguard.host import realcli\n"
        "env = {'PATH': sys.argv[2], 'HOME': sys.argv[4]}\n"
        "from awsguard.host import findaws\n"
        "aws = findaws.find_real_aws(env, skip_dirs=['/nonexistent'], self_paths=[sys.argv[0]])\n"
        "info = realcli.cli_info(aws, env, cache_dir=sys.argv[3])\n"
        "assert info.version == '2.32.0', info\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, REPO, str(aws.parent), cache, env["HOME"]],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "awsguard.host.realcli" in out
    # json is allowed: a full decision imports it anyway to read login and SSO caches, so the
    # cache is plain JSON read by json (the steady state answers from the memo without it).
    heavy = (
        "subprocess",
        "datetime",
        "hashlib",
        "typing",
        "dataclasses",
        "enum",
        "contextlib",
        "signal",
        "tempfile",
    )
    assert not [m for m in heavy if m in out], out


def test_the_probe_never_reads_the_users_files(tmp_path: Path) -> None:
    """Both CLIs parse the config and credentials files even for ``--version``: a malformed one
    must not fail the probe (and leave awsguard guessing the major).  With the real aws."""
    real = Path(sys.executable).parent / "aws"
    if not real.exists():
        pytest.fail("the dev install has no aws (awscli from PyPI)")
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[default\n")
    (home / ".aws" / "credentials").write_text("garbage outside any section\n")
    env = {"HOME": str(home), "PATH": f"{real.parent}:/usr/bin:/bin"}
    # Negative control: the real CLI itself fails on these files.
    direct = subprocess.run([str(real), "--version"], env=env, capture_output=True, timeout=120)
    assert direct.returncode != 0 and b"ConfigParseError" in direct.stderr
    info = cli_info(str(real), env, cache_dir=str(tmp_path / "cache"))
    assert info.major == 1 and info.version is not None and info.version.startswith("1.")


def _pyenv_world(tmp_path: Path) -> dict[str, str]:
    """A pyenv-style shim (pyenv's own template) whose pyenv picks a v1 or a v2 `aws` by FAKEV,
    and the field report with AWS_PROFILE (shadowed) and AWS_DEFAULT_PROFILE (clean) apart:
    CLI v2 follows AWS_PROFILE, v1 AWS_DEFAULT_PROFILE."""
    root = tmp_path / "pyenv"
    sh_stub(root / "v1" / "aws", V1_LINE)
    sh_stub(root / "v2" / "aws", V2_LINE)
    write_exe(
        root / "libexec" / "pyenv",
        '#!/bin/sh\nshift; shift\nif [ "$FAKEV" = 2 ]; then exec "'
        + str(root / "v2" / "aws")
        + '" "$@"; fi\nexec "'
        + str(root / "v1" / "aws")
        + '" "$@"\n',
    )
    write_exe(
        root / "shims" / "aws",
        '#!/usr/bin/env bash\nset -e\n[ -n "$PYENV_DEBUG" ] && set -x\n\n'
        'program="${0##*/}"\n\n'
        f'export PYENV_ROOT="{root}"\n'
        f'exec "{root}/libexec/pyenv" exec "$program" "$@"\n',
    )
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(
        "[profile shadowed]\nlogin_session = arn:aws:iam::999999999999:user/test_user_B\n"
        "[profile clean]\nregion = eu-west-1\n"
    )
    (home / ".aws" / "credentials").write_text(
        "[shadowed]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
        "[clean]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
    )
    return {
        "HOME": str(home),
        "PATH": f"{root / 'shims'}:/usr/bin:/bin",
        "AWS_PROFILE": "shadowed",
        "AWS_DEFAULT_PROFILE": "clean",
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "FAKEV": "1",
    }


def test_a_version_managers_shim_is_judged_under_both_clis(tmp_path: Path) -> None:
    """A pyenv shim may run CLI v1 now and v2 in the next directory: one probe says nothing
    about the next call, so the call is judged under both and the stricter verdict wins."""
    from awsguard.commands import explain

    env = _pyenv_world(tmp_path)
    out = io.StringIO()
    explain.run(["sts", "get-caller-identity"], as_json=True, environ=env, out=out)
    doc = json.loads(out.getvalue())
    assert doc["cli"]["rules"] == "both"
    # v1 would pick `clean` and only warn; v2 runs the shadowed profile: block.
    assert doc["verdict"] == "block" and doc["profile"] == "shadowed"
    # Negative control: the v1 CLI itself, not behind a manager, is judged by v1's rules.
    direct = dict(env, PATH=f"{tmp_path / 'pyenv' / 'v1'}:/usr/bin:/bin")
    out = io.StringIO()
    explain.run(["sts", "get-caller-identity"], as_json=True, environ=direct, out=out)
    doc = json.loads(out.getvalue())
    assert doc["cli"]["rules"] == "v1" and doc["profile"] == "clean" and doc["verdict"] == "warn"
