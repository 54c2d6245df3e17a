"""A sandbox for running the installed `aws` shim in front of a recording stub `aws`.

The stub is a /bin/sh script (not Python: its SIGPIPE behaviour and signal mask must be its own,
not an interpreter's). Each run writes ``<pid>.<what>`` files into ``STUB_RECORD``:

- ``argv``: every argument followed by NUL, as raw bytes; ``argc``: the count (so ``aws`` with
  no argument differs from ``aws ''``);
- ``environ``: ``/proc/<pid>/environ`` as it was at exec; ``sigign``: the ``SigIgn`` mask from
  ``/proc/<pid>/status``;
- ``stdin`` (only with ``STUB_STDIN=1``): everything read from stdin.

It then obeys ``STUB_OUT`` (a file copied to stdout), ``STUB_FLOOD`` (print that many lines,
then record ``survived`` and exit 3: only a SIGPIPE at default ends it early), ``STUB_WAIT``
(announce ``ready`` and wait for SIGINT/SIGTERM, recording ``got-<signal>``), ``STUB_SIGNAL``
(kill itself) and ``STUB_EXIT`` (its exit code). ``aws --version`` alone prints a v2 version
line and exits at once (with ``STUB_EXIT``), so the shim's version probe learns a v2 CLI and is
not caught by a test's flood, wait or signal.

Records are keyed by PID: the shim `exec`s the real aws, so the run whose PID is the one the
test started is the command itself; any other record is a probe (``--version``) or a bug.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import logincache

REPO = Path(__file__).resolve().parent.parent
V2_VERSION_LINE = "aws-cli/2.32.0 Python/3.13.7 Linux/6.8.0 exe/x86_64.ubuntu.24 prompt/off"
MARKER = b"AWSGUARD-SHIM-MARKER"
BLOCKED = 77
NO_REAL_AWS = 127
HANG_GUARD = 60  # seconds; only ever a guard against a hang, never a measurement

STUB = f"""#!/bin/sh
# A recording stand-in for the real aws (tests/shimkit.py).
rec="${{STUB_RECORD:?}}/$$"
for a in "$@"; do printf '%s\\0' "$a"; done > "$rec.argv"
printf '%s' "$0" > "$rec.argv0"
printf '%s' "$#" > "$rec.argc"
/bin/cat /proc/$$/environ > "$rec.environ"
/bin/grep '^SigIgn:' /proc/$$/status > "$rec.sigign"
if [ "$#" = 1 ] && [ "$1" = --version ]; then
  echo '{V2_VERSION_LINE}'
  exit "${{STUB_EXIT:-0}}"
fi
if [ -n "$STUB_STDIN" ]; then /bin/cat > "$rec.stdin"; fi
if [ -n "$STUB_OUT" ]; then /bin/cat "$STUB_OUT"; fi
if [ -n "$STUB_FLOOD" ]; then
  i=0
  while [ "$i" -lt "$STUB_FLOOD" ]; do echo "line $i of a long listing"; i=$((i+1)); done
  : > "$rec.survived"
  exit 3
fi
if [ -n "$STUB_WAIT" ]; then
  trap '/bin/kill "$child" 2>/dev/null; : > "$rec.got-INT"; exit 130' INT
  trap '/bin/kill "$child" 2>/dev/null; : > "$rec.got-TERM"; exit 143' TERM
  # The sleeper must not hold stdout/stderr: a TERM that lands between its fork and its exec
  # can be lost (the forked shell drops its inherited traps), and the caller waits for EOF.
  /bin/sleep 120 < /dev/null > /dev/null 2>&1 &
  child=$!
  : > "$rec.ready"
  wait "$child"
  exit 99
fi
if [ -n "$STUB_SIGNAL" ]; then kill -s "$STUB_SIGNAL" $$; fi
exit "${{STUB_EXIT:-0}}"
"""

# --- Identities and secrets -------------------------------------------------------------------

# Values that must never reach stdout or stderr (docs/ARCHITECTURE.md §8). Every sandbox file and environment
# in test_shim.py takes its secrets from here, and every run is checked against all of them.
SECRETS = (
    "shimTestSecretOfTheStaticKeysAAAA0000000",
    "shimTestSecretOfTheEnvironmentKeys111111",
    "shimTestEnvSessionTokenValue22222222222",
    "shimTestLoginSecretAccessKey333333333333",
    "shimTestLoginSessionToken444444444444444",
    "shimTestLoginRefreshToken55555555555555",
)
(
    SECRET_STATIC,
    SECRET_ENV,
    TOKEN_ENV,
    SECRET_LOGIN,
    TOKEN_LOGIN,
    REFRESH_LOGIN,
) = SECRETS

_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def key_id(account: str, *, prefix: str = "AKIA", tail: int = 0x5EC2E7) -> str:
    """A new-generation access key id that decodes offline to ``account`` (docs/hostile-inputs.md §6):
    80 bits = [generation flag][40-bit account][7 bits][32 bits], base32."""
    first48 = (1 << 47) | (int(account) << 7) | (tail & 0x7F)
    raw = first48.to_bytes(6, "big") + (tail & 0xFFFFFFFF).to_bytes(4, "big")
    return prefix + base64.b32encode(raw).decode()


def login_cache_relpath(arn: str) -> str:
    """Where `aws login` caches a session, relative to HOME (tests/logincache.py)."""
    return logincache.relpath(arn)


def login_token(account: str, expires_at: str = "2099-01-01T00:00:00Z") -> str:
    """A login cache document shaped like the one `aws login` writes (tests/logincache.py),
    with this module's secrets; the dpop key is never parsed offline."""
    doc = logincache.document(
        account,
        access_key_id=key_id(account, prefix="ASIA", tail=0x10617),
        secret_access_key=SECRET_LOGIN,
        session_token=TOKEN_LOGIN,
        expires_at=expires_at,
        refresh_token=REFRESH_LOGIN,
    )
    return json.dumps(doc, indent=2)


# --- Installing the shim ----------------------------------------------------------------------


def install(
    awsguard_home: Path, *, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``awsguard install`` with ``AWSGUARD_HOME=awsguard_home``, run by this interpreter."""
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(awsguard_home.parent),
        "AWSGUARD_HOME": str(awsguard_home),
    }
    return subprocess.run(
        [sys.executable, "-m", "awsguard", "install"],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        cwd=str(REPO),
        check=False,
    )


# --- Running ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Record:
    """What the stub saw in one run."""

    pid: int
    argv: list[bytes]
    argv0: bytes
    environ: dict[bytes, bytes]
    sigign: int
    stdin: bytes | None
    files: set[str]

    def env(self, name: str) -> str | None:
        value = self.environ.get(name.encode())
        return None if value is None else value.decode("utf-8", "surrogateescape")


@dataclasses.dataclass
class Result:
    args: list[str | bytes]
    returncode: int
    stdout: bytes
    stderr: bytes
    pid: int
    record: Record | None  # the stub's run under the same PID: the exec'd command itself
    others: list[Record]  # every other stub run of this call (probes)

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()

    @property
    def ran(self) -> bool:
        """The stub ran as the command (exec'd, same PID)."""
        return self.record is not None

    @property
    def service_runs(self) -> list[Record]:
        """Stub runs other than a bare ``--version`` probe."""
        runs = [self.record] if self.record else []
        runs += [r for r in self.others if r.argv != [b"--version"]]
        return runs

    def describe(self) -> str:
        return (
            f"args={self.args!r}\nexit={self.returncode} ran={self.ran}\n"
            f"stdout={self.stdout[:2000]!r}\nstderr:\n{self.err[:4000]}"
        )


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def read_record(rec_dir: Path, pid: int) -> Record | None:
    argv = _read(rec_dir / f"{pid}.argv")
    if argv is None:
        return None
    argc = int((_read(rec_dir / f"{pid}.argc") or b"0").decode())
    words = argv.split(b"\0")[:-1] if argv else []
    assert len(words) == argc, (argv, argc)
    environ: dict[bytes, bytes] = {}
    for item in (_read(rec_dir / f"{pid}.environ") or b"").split(b"\0"):
        if item:
            name, _, value = item.partition(b"=")
            environ[name] = value
    sig_line = (_read(rec_dir / f"{pid}.sigign") or b"SigIgn: 0").decode()
    files = {p.name.partition(".")[2] for p in rec_dir.glob(f"{pid}.*")}
    return Record(
        pid=pid,
        argv=words,
        argv0=_read(rec_dir / f"{pid}.argv0") or b"",
        environ=environ,
        sigign=int(sig_line.split(":")[1].strip(), 16),
        stdin=_read(rec_dir / f"{pid}.stdin"),
        files=files,
    )


def record_pids(rec_dir: Path) -> set[int]:
    return {int(p.name.partition(".")[0]) for p in rec_dir.glob("*.argv")}


def signal_ignored(mask: int, signum: int) -> bool:
    return bool(mask & (1 << (signum - 1)))


def default_disposition(*signums: int) -> Callable[[], None]:
    """A ``preexec_fn`` giving the child ``signums`` at their default action.

    Ignored signals survive fork and exec, and a shell starts a background job (``cmd &`` in a
    script, a CI step's helper) with SIGINT and SIGQUIT ignored; pytest run from such a job would
    hand that on, and a test about how SIGINT kills aws would be testing the harness instead.
    """

    def reset() -> None:
        for signum in signums:
            signal.signal(signum, signal.SIG_DFL)

    return reset


class Sandbox:
    """A private HOME with ~/.aws, a stub aws in ``real/``, and the installed shim.

    ``env()`` is the complete environment of a run (nothing is inherited from the test process);
    PATH is ``<shim dir>:<real dir>`` unless a test says otherwise.
    """

    def __init__(self, root: Path, shim: Path) -> None:
        self.root = root
        self.shim = shim
        self.shim_dir = shim.parent
        self.home = root / "home"
        self.aws_dir = self.home / ".aws"
        self.real_dir = root / "real"
        self.rec = root / "rec"
        self.cwd = root / "cwd"
        for d in (self.aws_dir, self.real_dir, self.rec, self.cwd):
            d.mkdir(parents=True, exist_ok=True)
        self.stub = write_exe(self.real_dir / "aws", STUB)
        self.config_toml = self.home / ".config" / "awsguard" / "config.toml"

    # files

    def write(self, relpath: str, text: str | bytes) -> Path:
        path = self.home / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        return settle(path)

    def aws_config(self, text: str) -> Path:
        return self.write(".aws/config", text)

    def credentials(self, text: str) -> Path:
        return self.write(".aws/credentials", text)

    def policy(self, text: str) -> Path:
        self.config_toml.parent.mkdir(parents=True, exist_ok=True)
        self.config_toml.write_text(text)
        return settle(self.config_toml)

    def login_cache(self, arn: str, account: str, **kwargs: str) -> Path:
        return self.write(login_cache_relpath(arn), login_token(account, **kwargs))

    # running

    def env(
        self, extra: Mapping[str, str | None] | None = None, *, path: str | None = None
    ) -> dict[str, str]:
        env = {
            "HOME": str(self.home),
            "PATH": path if path is not None else f"{self.shim_dir}:{self.real_dir}",
            "AWS_CONFIG_FILE": str(self.aws_dir / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.aws_dir / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "LC_ALL": "C.UTF-8",
            "STUB_RECORD": str(self.rec),
        }
        for name, value in (extra or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def run(
        self,
        args: Sequence[str | bytes],
        extra: Mapping[str, str | None] | None = None,
        *,
        exe: str | bytes | Path | None = None,
        path: str | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        stdin: int | None = subprocess.DEVNULL,
        cwd: Path | None = None,
        check_secrets: bool = True,
        timeout: float = HANG_GUARD,
        preexec_fn: Callable[[], object] | None = None,
    ) -> Result:
        """Run ``exe`` (default: the shim) with ``args`` and collect what happened."""
        program = os.fspath(exe) if exe is not None else str(self.shim)
        full_env = dict(env) if env is not None else self.env(extra, path=path)
        before = record_pids(self.rec)
        proc = subprocess.Popen(
            [program, *args],
            env=full_env,
            stdin=subprocess.PIPE if input is not None else stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(cwd or self.cwd),
            preexec_fn=preexec_fn,
        )
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError(f"hang guard: {args!r} did not finish") from None
        others = [
            r
            for pid in sorted(record_pids(self.rec) - before - {proc.pid})
            if (r := read_record(self.rec, pid)) is not None
        ]
        result = Result(
            list(args), proc.returncode, out, err, proc.pid, read_record(self.rec, proc.pid), others
        )
        if check_secrets:
            assert_no_secrets(result)
        return result

    def kill_leftovers(self) -> None:
        """SIGKILL every process still carrying this sandbox's environment (a runaway loop)."""
        for _ in range(100):
            pids = processes_with(str(self.rec).encode())
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)


def assert_no_secrets(result: Result) -> None:
    for secret in SECRETS:
        assert secret.encode() not in result.stdout, f"secret on stdout\n{result.describe()}"
        assert secret.encode() not in result.stderr, f"secret on stderr\n{result.describe()}"


def write_exe(path: Path, text: str, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return settle(path)


def settle(path: Path) -> Path:
    """Date ``path``'s mtime a minute back, like a config written before this session: awsguard
    remembers nothing about a file written in the last two seconds (a same-size rewrite within
    one timestamp tick would not change its identity)."""
    stamp = time.time_ns() - 60 * 10**9
    os.utime(path, ns=(stamp, stamp))
    return path


def processes_with(token: bytes) -> list[int]:
    """PIDs of live (non-zombie) processes whose environment contains ``token``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if token in environ and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def exit_status(returncode: int) -> str:
    """A returncode as a shell would describe it, for messages."""
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit {returncode}"


def require_tool(name: str) -> str:
    """The absolute path of ``name``; skip without it locally, fail under CI=true."""
    import pytest

    found = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required under CI")
        pytest.skip(f"{name} is not installed")
    return found
