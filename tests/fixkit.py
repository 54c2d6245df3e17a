"""Helpers of the ``awsguard fix`` and safe-editor tests (tests/test_fix*.py, test_safewrite*.py).

A :class:`Home` is a private HOME with ~/.aws files and a login cache.  ``Home.fix(...)`` runs the
installed ``awsguard fix`` in a fresh process with a complete environment (nothing inherited
from the test process) and checks every stream it wrote for every secret any of these tests
ever writes (:data:`SECRETS`): a secret on stdout or stderr fails the test that caused it.

The real CLI is not needed to judge: ``AWSGUARD_CLI_MAJOR=2`` makes awsguard follow v2 rules
without running ``aws --version``, and PATH has no ``aws``.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import logincache
import shimkit

VENV_BIN = Path(sys.executable).parent
AWSGUARD = VENV_BIN / "awsguard"
HANG_GUARD = 120  # seconds; a guard against a hang, never a measurement

ACCOUNT_A = "000000000000"
ACCOUNT_B = "999999999999"
LOGIN_ARN = f"arn:aws:iam::{ACCOUNT_B}:user/test_user_B"
KEY_A = shimkit.key_id(ACCOUNT_A)  # decodes offline to account A
KEY_OTHER = shimkit.key_id("123456789012", tail=0x0AB)

SECRET_A = "fixTestSecretOfUserA/Qw3+Zk8pLm2Rt6Yv9Bn4Xc7"
TOKEN_A = "fixTestSessionTokenOfUserA/Hj5Ks8Df2Gl4Pq7Wz1Mn3Vb6"
SECRET_OTHER = "fixTestSecretOfAnotherProfile/Tr5Ey8Ui1Op4"
SECRET_DEFAULT = "fixTestSecretInDefaultSection/Zx2Cv5Bn8Mq1"
# Every value no fix test may ever print (the login cache's come from shimkit), and the full
# key ids: only their masked form may appear.
SECRETS = (
    SECRET_A,
    TOKEN_A,
    SECRET_OTHER,
    SECRET_DEFAULT,
    *shimkit.SECRETS,
)
KEY_IDS = (KEY_A, KEY_OTHER)
OWN_SECRETS = (SECRET_A, TOKEN_A, SECRET_OTHER, SECRET_DEFAULT)


def assert_no_secrets(*streams: bytes | str, extra: Iterable[str] = ()) -> None:
    """No secret, no full key id, and no 12-character piece of one of this module's own secrets
    (built to share no such piece with anything awsguard prints legitimately) in any stream."""
    for stream in streams:
        text = stream.decode("utf-8", "replace") if isinstance(stream, bytes) else stream
        for secret in (*SECRETS, *extra):
            assert secret not in text, f"a secret was printed (…{secret[-4:]}):\n{text}"
        for secret in OWN_SECRETS:
            for i in range(0, len(secret) - 12, 4):
                assert secret[i : i + 12] not in text, f"part of a secret was printed:\n{text}"
        for key in KEY_IDS:
            assert key not in text, f"an unmasked key id was printed:\n{text}"


def credentials_of_a(profile: str = "test_user", *, newline: str = "\n") -> str:
    """The field report's credentials file: user A's keys under ``[profile]``, another profile
    with keys of its own before it, comments around."""
    lines = [
        "# keys kept from before aws login",
        "[other]",
        f"aws_access_key_id = {KEY_OTHER}",
        f"aws_secret_access_key = {SECRET_OTHER}",
        "",
        f"[{profile}]",
        f"aws_access_key_id = {KEY_A}",
        f"aws_secret_access_key = {SECRET_A}",
        "",
    ]
    return newline.join(lines)


def config_with_login(profile: str = "test_user", arn: str = LOGIN_ARN) -> str:
    header = "[default]" if profile == "default" else f"[profile {profile}]"
    return f"{header}\nregion = eu-west-1\nlogin_session = {arn}\n\n[profile other]\nregion = us-east-1\n"


@dataclasses.dataclass(frozen=True)
class Result:
    args: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def describe(self) -> str:
        return (
            f"awsguard {' '.join(self.args)} -> {shimkit.exit_status(self.returncode)}\n"
            f"--- stdout\n{self.out}--- stderr\n{self.err}"
        )


class Home:
    """A private HOME: ~/.aws/{config,credentials}, the login cache, awsguard's own dirs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.aws = self.home / ".aws"
        self.aws.mkdir(parents=True, exist_ok=True)
        self.cred = self.aws / "credentials"
        self.conf = self.aws / "config"
        self.data_dir = self.home / ".local" / "share" / "awsguard"

    def write(self, path: Path, content: str | bytes, mode: int = 0o600) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)
        path.chmod(mode)
        return shimkit.settle(path)

    def login(self, arn: str = LOGIN_ARN, account: str = ACCOUNT_B, **kwargs: str) -> Path:
        return self.write(
            self.home / shimkit.login_cache_relpath(arn), shimkit.login_token(account, **kwargs)
        )

    def field_report(self, profile: str = "test_user") -> bytes:
        """Keys of A shadow the login of B for ``profile``; returns the credentials bytes."""
        self.write(self.conf, config_with_login(profile))
        self.write(self.cred, credentials_of_a(profile))
        self.login()
        return self.cred.read_bytes()

    def env(self, extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
        env = {
            "HOME": str(self.home),
            "PATH": "/usr/bin:/bin",
            "LC_ALL": "C.UTF-8",
            "AWSGUARD_CLI_MAJOR": "2",
            "AWS_EC2_METADATA_DISABLED": "true",
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
        }
        for name, value in (extra or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def fix(
        self,
        *args: str,
        extra: Mapping[str, str | None] | None = None,
        env: Mapping[str, str] | None = None,
        input: bytes | None = None,
        user: int | None = None,
        check_secrets: bool = True,
        prefix: Sequence[str] = (),
    ) -> Result:
        """``awsguard fix ARGS`` (``prefix``: a command to run it under, e.g. strace)."""
        full_env = dict(env) if env is not None else self.env(extra)
        argv = [*prefix, str(AWSGUARD), "fix", *args]
        if user is not None:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
        proc = subprocess.run(
            argv,
            env=full_env,
            cwd=str(self.root),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=HANG_GUARD,
            check=False,
        )
        result = Result(["fix", *args], proc.returncode, proc.stdout, proc.stderr)
        if check_secrets:
            assert_no_secrets(result.stdout, result.stderr)
        return result

    def backups(self, directory: Path | None = None) -> list[Path]:
        d = directory or self.aws
        return sorted(
            p for p in d.iterdir() if ".awsguard-" in p.name and not p.name.endswith(".tmp")
        )

    def temps(self, directory: Path | None = None) -> list[Path]:
        d = directory or self.aws
        return sorted(p for p in d.iterdir() if p.name.endswith(".tmp"))


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait for a condition (never for a fixed time); fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.02)


def login_cache_path(home: Path, arn: str = LOGIN_ARN) -> Path:
    return logincache.path(home, arn)


def records(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def without_lines(data: bytes, lines: Iterable[int]) -> bytes:
    drop = set(lines)
    return b"".join(r for n, r in enumerate(records(data), 1) if n not in drop)


def has_tool(name: str) -> bool:
    return any(os.access(os.path.join(d, name), os.X_OK) for d in ("/usr/bin", "/bin", "/usr/sbin"))
