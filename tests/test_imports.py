"""The two import regimes (docs/ARCHITECTURE.md §4): the resolver path imports only the standard library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
before = set(sys.modules)
from awsguard.judge import policy
from awsguard.present import report
from awsguard.predict.resolver import resolve
env = {"HOME": sys.argv[2], "AWS_EC2_METADATA_DISABLED": "true", "PATH": "/usr/bin:/bin"}
res = resolve(["sts", "get-caller-identity", "--profile", "test_user"], env, major=2, crt=True)
findings, verdict = policy.judge(res, env)
loaded = sorted(set(sys.modules) - before)
print(json.dumps({"source": res.source, "verdict": verdict, "loaded": loaded}))
"""

FORBIDDEN = ("plumbum", "boto3", "botocore", "dateutil", "awscli", "s3transfer", "urllib3")


def _probe(home: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", PROBE, str(ROOT), str(home)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def _field_report_home(tmp_path: Path) -> Path:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "config").write_text(
        "[profile test_user]\nlogin_session = arn:aws:iam::999999999999:user/test_user_B\n"
    )
    (aws / "credentials").write_text(
        "[test_user]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
    )
    return tmp_path


def test_resolver_imports_no_third_party_module(tmp_path):
    result = _probe(_field_report_home(tmp_path))
    # The probe really resolved something (a broken import would not get here) ...
    assert result["source"] == "shared-credentials-file"
    assert result["verdict"] == "block"
    loaded = result["loaded"]
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert bad == [], f"the hot path imported {bad}"
    # ... and the check itself sees imports: awsguard's own modules are in the list.
    assert "awsguard.predict.providers" in loaded


def test_probe_detects_a_forbidden_import(tmp_path):
    """Negative control: the same probe does see botocore when something imports it."""
    probe = PROBE.replace(
        "from awsguard.judge import policy\n",
        "import botocore\nfrom awsguard.judge import policy\n",
    )
    assert probe != PROBE
    out = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(ROOT), str(_field_report_home(tmp_path))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "botocore" in json.loads(out)["loaded"]


# -- the shim, run as the launcher runs it ------------------------------------------------------

SHIM_PROBE = r"""
import json, os, sys
sys.path.extend(json.loads(sys.argv[1]))
before = set(sys.modules)
from awsguard import shim
real = sys.argv[2]
env = dict(os.environ)
try:
    decision = list(shim.decide(sys.argv[3:], env, real))
except shim._Block as stop:
    decision = [stop.text, stop.code]
print(json.dumps({"loaded": sorted(set(sys.modules) - before), "decision": decision}))
"""


def _settle(*files: Path) -> None:
    """Date files a minute back: the memo keeps nothing about a file written in the last two
    seconds (memo.settled).  Once only: dating changes the file's ctime, hence its identity."""
    stamp = time.time_ns() - 60 * 10**9
    for path in files:
        os.utime(path, ns=(stamp, stamp))


def _shim_probe(home: Path, *argv: str) -> dict[str, object]:
    from awsguard.host import launcher

    stub = home / "stub-aws"
    if not stub.exists():  # written once: the real aws's identity is part of the memo's key
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
        _settle(stub)
    env = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWSGUARD_CLI_MAJOR": "2",
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            SHIM_PROBE,
            json.dumps(launcher.import_dirs()),
            str(stub),
            *argv,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return json.loads(out)


def test_the_shim_imports_no_third_party_module_when_it_blocks(tmp_path):
    home = _field_report_home(tmp_path)
    argv = ("--profile", "test_user", "sts", "get-caller-identity")
    for _ in range(2):  # a block is never remembered: the second call decides in full again
        result = _shim_probe(home, *argv)
        assert result["decision"][1] == 77
        bad = [m for m in result["loaded"] if m.split(".")[0] in FORBIDDEN]
        assert bad == [], f"the shim imported {bad}"
        assert "awsguard.predict.providers" in result["loaded"]


def test_the_shims_steady_state_skips_the_resolver(tmp_path):
    home = _field_report_home(tmp_path)
    (home / ".aws" / "credentials").write_text("")  # the fix: now the login session is used
    _settle(home / ".aws" / "config", home / ".aws" / "credentials")
    argv = ("--profile", "test_user", "sts", "get-caller-identity")
    first = _shim_probe(home, *argv)
    second = _shim_probe(home, *argv)  # a new process, as the next `aws` call would be
    assert first["decision"] == ["", None] and second["decision"] == ["", None]
    assert "awsguard.predict.providers" in first["loaded"]  # the first call decided in full ...
    heavy = {
        "awsguard.predict.providers",
        "awsguard.predict.resolver",
        "awsguard.judge.policy",
        "awsguard.predict.inifile",
    }
    assert heavy.isdisjoint(second["loaded"])  # ... the second was answered from the memo
    for result in (first, second):
        bad = [m for m in result["loaded"] if m.split(".")[0] in FORBIDDEN]
        assert bad == []
