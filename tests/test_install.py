"""`awsguard install` (docs/ARCHITECTURE.md §5.4): the launcher it writes, through the real console script;
idempotence, staleness, a foreign `aws` in the way, and the launcher really running - in its
`#!python` form and in the /bin/sh form used for interpreter paths a `#!` line cannot hold."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from awsguard import __version__
from awsguard.host import launcher
from awsguard.host.findaws import SHIM_MARKER

AWSGUARD = str(Path(sys.executable).parent / "awsguard")  # the console script of this venv
HANG_GUARD = 60  # seconds; only a guard against a hang, never a measurement
BLOCKED = 77

STUB = """#!/bin/sh
# A recording stand-in for the real aws: every argument followed by NUL.
for a in "$@"; do printf '%s\\0' "$a"; done > "$STUB_RECORD"
exit "${STUB_EXIT:-0}"
"""


def install(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AWSGUARD, "install", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "AWSGUARD_HOME": str(tmp_path / "guard"),
    }


def bin_dir(env: dict[str, str]) -> Path:
    return Path(env["AWSGUARD_HOME"]) / "bin"


def identity(path: Path) -> tuple[int, int, int, bytes]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_ctime_ns, path.read_bytes()


def is_ours_and_executable(path: Path) -> bool:
    st = path.lstat()
    return (
        stat.S_ISREG(st.st_mode)
        and st.st_mode & 0o111 == 0o111
        and SHIM_MARKER in path.read_bytes()[:4096]
    )


# -- awsguard install --------------------------------------------------------------------------


def test_install_prints_the_bin_dir_and_writes_the_launcher(env):
    done = install(env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{bin_dir(env)}\n"  # exactly the directory: `$(awsguard install)`
    assert done.stderr == ""
    aws = bin_dir(env) / "aws"
    assert is_ours_and_executable(aws)
    first_line = aws.read_bytes().split(b"\n", 1)[0]
    # Bound to this interpreter by absolute path, started isolated (-I) without site (-S).
    assert first_line.startswith(f"#!{sys.executable} -".encode())
    flags = first_line.rsplit(b" -", 1)[1]
    assert b"I" in flags and b"S" in flags
    assert launcher.status(env) == "current"


def test_a_second_install_is_a_no_op(env):
    assert install(env).returncode == 0
    aws = bin_dir(env) / "aws"
    before = identity(aws)
    again = install(env)
    assert again.returncode == 0 and again.stdout == f"{bin_dir(env)}\n"
    assert identity(aws) == before
    assert sorted(p.name for p in bin_dir(env).iterdir()) == ["aws"]  # no temporary left


def test_install_defaults_to_xdg_data_home_then_local_share(env, tmp_path):
    del env["AWSGUARD_HOME"]
    xdg = tmp_path / "xdg-data"
    done = install(env | {"XDG_DATA_HOME": str(xdg)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{xdg}/awsguard/bin\n"
    assert is_ours_and_executable(xdg / "awsguard" / "bin" / "aws")
    default = Path(env["HOME"]) / ".local" / "share" / "awsguard" / "bin"
    assert not default.exists()
    for unset in ({}, {"XDG_DATA_HOME": ""}):
        done = install(env | unset)
        assert done.returncode == 0 and done.stdout == f"{default}\n"
        assert is_ours_and_executable(default / "aws")


def test_awsguard_home_expands_tilde(env):
    done = install(env | {"AWSGUARD_HOME": "~/guard"})
    assert done.stdout == f"{env['HOME']}/guard/bin\n"
    assert is_ours_and_executable(Path(env["HOME"]) / "guard" / "bin" / "aws")


def test_a_relative_xdg_data_home_is_ignored(env, tmp_path):
    del env["AWSGUARD_HOME"]
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    done = subprocess.run(
        [AWSGUARD, "install"],
        env=env | {"XDG_DATA_HOME": "relative"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert done.stdout == f"{env['HOME']}/.local/share/awsguard/bin\n"
    assert not (cwd / "relative").exists()


def stale_versions(current: bytes) -> dict[str, bytes]:
    old_version = current.replace(f"awsguard {__version__}".encode(), b"awsguard 0.0.1")
    assert old_version != current  # the launcher names the version that wrote it
    return {
        "old-version": old_version,
        "old-interpreter": current.replace(sys.executable.encode(), b"/opt/old/bin/python3.9", 1),
        "old-layout": b'#!/bin/sh\n# AWSGUARD-SHIM-MARKER\nexec /old/python -m awsguard.shim "$@"\n',
    }


@pytest.mark.parametrize("kind", ["old-version", "old-interpreter", "old-layout", "not-executable"])
def test_a_stale_launcher_is_rewritten(env, kind):
    assert install(env).returncode == 0
    aws = bin_dir(env) / "aws"
    current = aws.read_bytes()
    if kind == "not-executable":
        aws.chmod(0o644)
    else:
        aws.write_bytes(stale_versions(current)[kind])
    assert launcher.status(env) == "stale"
    done = install(env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{bin_dir(env)}\n"
    assert aws.read_bytes() == current and is_ours_and_executable(aws)
    assert launcher.status(env) == "current"


@pytest.mark.parametrize(
    "foreign",
    [b"#!/bin/sh\necho 'the real aws'\n", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, b""],
)
def test_a_foreign_aws_is_refused_then_replaced_with_force(env, foreign):
    aws = bin_dir(env) / "aws"
    aws.parent.mkdir(parents=True)
    aws.write_bytes(foreign)
    aws.chmod(0o755)
    before = identity(aws)
    assert launcher.status(env) == "foreign"
    refused = install(env)
    assert refused.returncode != 0
    assert refused.stdout == ""
    assert str(aws) in refused.stderr and "--force" in refused.stderr
    assert refused.stderr.startswith("awsguard: ") and "Traceback" not in refused.stderr
    assert identity(aws) == before
    forced = install(env, "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout == f"{bin_dir(env)}\n"
    assert is_ours_and_executable(aws)


def install_beside_a_fifo(env: dict[str, str], fifo: Path, *args: str) -> tuple[bool, int]:
    """Run `awsguard install` while watching whether it opens ``fifo``: opening a FIFO for
    reading blocks until a writer comes, so a reader is detected by opening the write end
    without blocking (ENXIO while nobody reads), which also releases it. Returns (opened, exit
    status); no time is measured."""
    proc = subprocess.Popen(
        [AWSGUARD, "install", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    opened = False
    try:
        while proc.poll() is None and not opened:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
                time.sleep(0.005)
                continue
            # Once `--force` has replaced the FIFO, the path is a regular file: that is no reader.
            opened = stat.S_ISFIFO(os.fstat(fd).st_mode)
            os.close(fd)
            if not opened:
                break
        proc.communicate(timeout=HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return opened, proc.returncode


def test_a_fifo_in_the_way_is_never_opened(env):
    fifo = bin_dir(env) / "aws"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    opened, code = install_beside_a_fifo(env, fifo)
    assert not opened and code != 0 and stat.S_ISFIFO(fifo.lstat().st_mode)
    opened, code = install_beside_a_fifo(env, fifo, "--force")
    assert not opened and code == 0 and is_ours_and_executable(fifo)


def test_force_replaces_a_symlink_without_writing_through_it(env, tmp_path):
    real = tmp_path / "real-aws"
    real.write_text("#!/bin/sh\necho real\n")
    real.chmod(0o755)
    aws = bin_dir(env) / "aws"
    aws.parent.mkdir(parents=True)
    aws.symlink_to(real)
    assert install(env).returncode != 0
    assert install(env, "--force").returncode == 0
    assert real.read_text() == "#!/bin/sh\necho real\n"
    assert not aws.is_symlink() and is_ours_and_executable(aws)


def test_install_help_is_helpful_and_installs_nothing(env):
    done = subprocess.run(
        [AWSGUARD, "install", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert done.returncode == 0
    for words in ("--force", "AWSGUARD_HOME", "XDG_DATA_HOME", "bin/aws", "PATH"):
        assert words in done.stdout, words
    assert not Path(env["AWSGUARD_HOME"]).exists()


@pytest.mark.parametrize("args", [("--frce",), ("extra",)])
def test_a_bad_command_line_installs_nothing(env, args):
    done = install(env, *args)
    assert done.returncode == 2
    assert not Path(env["AWSGUARD_HOME"]).exists()


@pytest.mark.parametrize("args", [("--frce",), ("extra",)])
def test_a_bad_command_line_is_reported_on_stderr_only(env, args):
    done = install(env, *args)
    assert done.stdout == ""
    assert args[0] in done.stderr and done.stderr.startswith("awsguard: ")


# -- the launcher runs -------------------------------------------------------------------------


@pytest.fixture
def stub(tmp_path: Path) -> Path:
    path = tmp_path / "stub" / "aws"
    path.parent.mkdir()
    path.write_text(STUB)
    path.chmod(0o755)
    return path


def run_env(env: dict[str, str], stub: Path, tmp_path: Path) -> dict[str, str]:
    return env | {
        "AWSGUARD_AWS": str(stub),
        "AWSGUARD_CLI_MAJOR": "2",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "STUB_RECORD": str(tmp_path / "record"),
    }


def run_launcher(
    aws: Path, args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(aws), *args], env=env, cwd=cwd, capture_output=True, timeout=HANG_GUARD, check=False
    )


def recorded(tmp_path: Path) -> list[str] | None:
    record = tmp_path / "record"
    if not record.exists():
        return None
    return record.read_bytes().decode().split("\0")[:-1]


ARGS = ["a", "b", "with space", "*", "$HOME", "--x=1", ""]


def test_the_launcher_runs_the_real_aws_with_the_arguments(env, stub, tmp_path):
    assert install(env).returncode == 0
    renv = run_env(env, stub, tmp_path)
    done = run_launcher(bin_dir(env) / "aws", ARGS, renv | {"STUB_EXIT": "3"})
    assert recorded(tmp_path) == ARGS
    assert done.returncode == 3  # the real aws's own exit status
    assert done.stdout == b""


def test_the_launcher_really_judges(env, stub, tmp_path):
    """It is the guard, not a pass-through: a read-only profile blocks `s3 rm` (exit 77,
    aws not run) and lets `s3 ls` through."""
    assert install(env).returncode == 0
    home = Path(env["HOME"])
    (home / ".aws").mkdir()
    (home / ".aws" / "config").write_text("[profile prod]\nregion = us-east-1\n")
    (home / ".aws" / "credentials").write_text(
        "[prod]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n"
    )
    policy = tmp_path / "policy.toml"
    policy.write_text("[profiles.prod]\nread_only = true\n")
    renv = run_env(env, stub, tmp_path) | {"AWSGUARD_CONFIG": str(policy)}
    aws = bin_dir(env) / "aws"
    blocked = run_launcher(aws, ["--profile", "prod", "s3", "rm", "s3://b/k"], renv)
    assert blocked.returncode == BLOCKED and recorded(tmp_path) is None
    assert b"read-only" in blocked.stderr and blocked.stdout == b""
    allowed = run_launcher(aws, ["--profile", "prod", "s3", "ls"], renv)
    assert allowed.returncode == 0 and recorded(tmp_path) == ["--profile", "prod", "s3", "ls"]


def hijack_dir(root: Path) -> Path:
    """A directory that would take over an interpreter that looked into it: an ``awsguard``
    package and a ``sitecustomize`` that both leave a trace and exit 99."""
    root.mkdir(parents=True, exist_ok=True)
    trap = f"open({str(root / 'hijacked')!r}, 'w').close(); raise SystemExit(99)\n"
    (root / "awsguard").mkdir(exist_ok=True)
    (root / "awsguard" / "__init__.py").write_text(trap)
    (root / "sitecustomize.py").write_text(trap)
    (root / "usercustomize.py").write_text(trap)
    return root


def test_the_launcher_is_isolated_from_pythonpath_and_the_working_directory(env, stub, tmp_path):
    assert install(env).returncode == 0
    trap = hijack_dir(tmp_path / "trap")
    renv = run_env(env, stub, tmp_path) | {"PYTHONPATH": str(trap)}
    done = run_launcher(bin_dir(env) / "aws", ["a", "b"], renv, cwd=trap)
    assert not (trap / "hijacked").exists()
    assert done.returncode == 0 and recorded(tmp_path) == ["a", "b"]


def odd_python(tmp_path: Path, kind: str) -> Path:
    """A symlink to this venv's interpreter at a path a `#!` line cannot hold."""
    if kind == "space":
        where = tmp_path / "py dir" / "python3"
    elif kind == "quotes":
        where = tmp_path / 'it\'s a "py" $HOME `id` dir' / "python3"
    else:
        where = tmp_path / ("l" * 60) / ("o" * 60) / "python3"
        assert len(f"#!{where} -IS\n".encode()) > 127
    where.parent.mkdir(parents=True)
    where.symlink_to(sys.executable)
    return where


@pytest.mark.parametrize("kind", ["space", "quotes", "long"])
def test_an_awkward_interpreter_path_gets_the_sh_launcher_and_it_runs(env, stub, tmp_path, kind):
    python = odd_python(tmp_path, kind)
    directory = launcher.ensure(env, python=str(python))
    assert directory == str(bin_dir(env))
    aws = bin_dir(env) / "aws"
    data = aws.read_bytes()
    assert data.startswith(b"#!/bin/sh\n") and is_ours_and_executable(aws)
    assert launcher.status(env, python=str(python)) == "current"
    assert launcher.status(env) == "stale"  # bound to that interpreter, not this one
    before = identity(aws)
    assert launcher.ensure(env, python=str(python)) == directory
    assert identity(aws) == before  # idempotent in this form too
    renv = run_env(env, stub, tmp_path)
    done = run_launcher(aws, ARGS, renv | {"STUB_EXIT": "5"})
    assert done.returncode == 5, done.stderr
    assert recorded(tmp_path) == ARGS


def test_the_sh_launcher_is_isolated_too(env, stub, tmp_path):
    launcher.ensure(env, python=str(odd_python(tmp_path, "space")))
    trap = hijack_dir(tmp_path / "trap")
    renv = run_env(env, stub, tmp_path) | {"PYTHONPATH": str(trap)}
    done = run_launcher(bin_dir(env) / "aws", ["a", "b"], renv, cwd=trap)
    assert not (trap / "hijacked").exists()
    assert done.returncode == 0 and recorded(tmp_path) == ["a", "b"]


def test_ensure_refuses_a_relative_interpreter(env):
    from awsguard.errors import AwsGuardError

    with pytest.raises(AwsGuardError):
        launcher.ensure(env, python="python3")
    assert not bin_dir(env).exists()


def test_a_directory_in_the_way_is_refused_even_with_force(env):
    aws = bin_dir(env) / "aws"
    aws.mkdir(parents=True)
    for args in ((), ("--force",)):
        done = install(env, *args)
        assert done.returncode != 0 and str(aws) in done.stderr
        assert "Traceback" not in done.stderr
    assert aws.is_dir()
