"""The field report closed end to end: blocked -> ``awsguard fix`` -> the login runs -> undo.

Real parts only (as tests/test_shim_e2e.py): moto's STS on 127.0.0.1 with test_user_A in
000000000000 (keys in ~/.aws/credentials) and test_user_B in 999999999999 (the ``aws login``
session of profile ``test_user``), the real ``aws`` from the venv behind the installed shim,
and ``awsguard fix`` itself - no file is edited by the test.  What ran is what STS answered.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import fixkit
import pytest
import stsd
from stsd import ACCOUNT_A, ACCOUNT_B, PROFILE, AccessKey, StsServer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_external_network")]

VENV_BIN = Path(sys.executable).parent
REAL_AWS = VENV_BIN / "aws"
AWSGUARD = VENV_BIN / "awsguard"
SYSTEM_PATH = [Path("/usr/bin"), Path("/bin")]
CALL = ("sts", "get-caller-identity", "--output", "json", "--profile", PROFILE)


def _require(ok: bool, what: str) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI", pytrace=False)
    pytest.skip(f"{what} is not available", allow_module_level=True)


_require(os.access(REAL_AWS, os.X_OK), f"the real aws at {REAL_AWS}")
_require(
    all(importlib.util.find_spec(n) for n in ("moto", "flask", "flask_cors", "awscrt")),
    "moto[server] and awscrt in the venv",
)


@dataclasses.dataclass
class Stack:
    server: StsServer
    key_a: AccessKey
    key_b: AccessKey
    guard: Path
    root: Path
    shim_dir: Path
    awsguard_home: Path


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="awsguard-fix-e2e-"))
    agh = root / "awsguard-home"
    try:
        with StsServer() as server:
            key_a, key_b = server.field_report_users()
            install_home = root / "install-home"
            install_home.mkdir()
            done = subprocess.run(
                [str(AWSGUARD), "install"],
                env={
                    "HOME": str(install_home),
                    "PATH": os.pathsep.join(map(str, [VENV_BIN, *SYSTEM_PATH])),
                    "AWSGUARD_HOME": str(agh),
                    "LANG": "C.UTF-8",
                },
                capture_output=True,
                text=True,
                timeout=fixkit.HANG_GUARD,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            shim_dir = Path(done.stdout.strip().splitlines()[-1])
            guard = stsd.write_network_guard(root / "guard")
            yield Stack(server, key_a, key_b, guard, root, shim_dir, agh)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclasses.dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(stack: Stack, home: Path, argv: list[str]) -> Run:
    env = stsd.cli_environment(
        home,
        stack.server,
        path=[stack.shim_dir, VENV_BIN, *SYSTEM_PATH],
        guard=stack.guard,
        extra={"AWSGUARD_HOME": str(stack.awsguard_home)},
    )
    program = shutil.which(argv[0], path=env["PATH"])
    assert program is not None
    if argv[0] == "aws":
        assert program == str(stack.shim_dir / "aws"), program
    done = subprocess.run(
        [program, *argv[1:]],
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=fixkit.HANG_GUARD,
        check=False,
    )
    for key in (stack.key_a, stack.key_b):
        for stream in (done.stdout, done.stderr):
            assert key.secret_access_key not in stream, "a secret was printed"
            assert key.access_key_id not in stream, "an unmasked key id was printed"
    return Run(done.returncode, done.stdout, done.stderr)


def identity(r: Run) -> tuple[str, str] | None:
    try:
        doc = json.loads(r.stdout)
        return doc["Account"], doc["Arn"]
    except (ValueError, KeyError):
        return None


def test_blocked_fix_runs_as_b_undo_blocked_again(stack: Stack, tmp_path: Path) -> None:
    home = tmp_path
    stsd.write_field_report(home, stack.key_a, stack.key_b)
    credentials = home / ".aws" / "credentials"
    original = credentials.read_bytes()

    served = stack.server.requests_served()
    blocked = run(stack, home, ["aws", *CALL])
    assert blocked.returncode == 77 and blocked.stdout == "", blocked
    assert ACCOUNT_A in blocked.stderr and ACCOUNT_B in blocked.stderr
    assert stack.server.requests_served() == served

    fixed = run(stack, home, ["awsguard", "fix", "--yes", "--profile", PROFILE])
    assert fixed.returncode == 0, fixed
    assert f"-aws_access_key_id = {stack.key_a.masked}" in fixed.stdout
    assert "-aws_secret_access_key = ****" in fixed.stdout
    assert f"now uses its aws login session ({stack.key_b.arn}" in fixed.stdout
    # what the file holds now: the comment line kept, the section and its keys gone (by hand)
    assert credentials.read_bytes() == original.splitlines(keepends=True)[0]

    as_b = run(stack, home, ["aws", *CALL])
    assert as_b.returncode == 0 and as_b.stderr == "", as_b
    assert identity(as_b) == (ACCOUNT_B, stack.key_b.arn)  # what STS itself answered
    assert stack.server.requests_served() > served

    undone = run(stack, home, ["awsguard", "fix", "--undo", "--yes"])
    assert undone.returncode == 0, undone
    assert credentials.read_bytes() == original

    served = stack.server.requests_served()
    again = run(stack, home, ["aws", *CALL])
    assert again.returncode == 77 and again.stdout == "", again
    assert stack.server.requests_served() == served


def _load(name: str) -> object:
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).parent / "demo" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    ours = sys.modules.get("stsd")  # demo.py loads its own copy under this name
    sys.modules.setdefault(name, module)
    try:
        spec.loader.exec_module(module)
    finally:
        if ours is not None:
            sys.modules["stsd"] = ours
    return module


def test_the_demo_step_runs_the_same_story(stack: Stack, tmp_path: Path) -> None:
    """tests/demo/demo_fix.py, the steps `make demo` ends with, driven by demo.py's own Demo
    against the same parts (its environment has no AWSGUARD_HOME: fix finds the real aws
    behind the shim by the shim's marker)."""
    demo_mod = _load("demo")
    demo_fix = _load("demo_fix")
    home = tmp_path / "home"
    home.mkdir()
    stsd.write_field_report(home, stack.key_a, stack.key_b)
    env = stsd.cli_environment(
        home, stack.server, path=[stack.shim_dir, VENV_BIN, *SYSTEM_PATH], guard=stack.guard
    )
    secrets = [stack.key_a.secret_access_key, stack.key_b.secret_access_key,
               stack.key_a.access_key_id, stack.key_b.access_key_id]  # fmt: skip
    demo = demo_mod.Demo(secrets)  # type: ignore[attr-defined]
    demo_fix.fix_and_undo(  # type: ignore[attr-defined]
        demo,
        home=home,
        env=env,
        call=["aws", "sts", "get-caller-identity", "--profile", PROFILE],
        server=stack.server,
        key_a=stack.key_a,
        key_b=stack.key_b,
    )
    assert demo.failures == [], "\n".join(demo.printed)
    assert demo.leaked() == []
    shown = "\n".join(demo.printed)
    assert "$ awsguard fix --yes --profile test_user" in shown
    assert "$ awsguard fix --undo --yes" in shown
