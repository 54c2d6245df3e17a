"""`make demo`: the field report (docs/credential-chain.md §0), replayed with real parts.

A local STS (moto's server on 127.0.0.1, tests/stsd.py) holds two IAM users: test_user_A in
account 000000000000 and test_user_B in 999999999999. In a sandbox HOME, profile `test_user`
keeps A's access keys in ~/.aws/credentials while `aws login` recorded B's session in
~/.aws/config (its cache holds B's keys). Then, with the real `aws` (awscli from PyPI):

  (a) `aws sts get-caller-identity` silently runs as A;
      `awsguard status` lists every profile, the trap marked;
  (b) the same call through the awsguard shim is blocked (exit 77) with its explanation, and
      `awsguard verify` asks STS: wrong identity;
  (c) `awsguard fix --yes`: the plan, a backup, the atomic edit, the proof;
  (d) through the shim again: B, and awsguard prints nothing; `awsguard verify`: as predicted;
  (e) `awsguard fix --undo`: the file exactly as it was;
  (f) through the shim: blocked again.

Everything happens in a fresh temporary directory; nothing outside it is read or written, and
nothing leaves the loopback network (AWS_ENDPOINT_URL is the local server, IMDS is off, and the
CLI's interpreter refuses any other connection). Secrets are never printed. The last line is
`demo OK` only when every expectation held; otherwise the exit status is 1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
AWS = VENV_BIN / "aws"
AWSGUARD = VENV_BIN / "awsguard"
SYSTEM_PATH = [Path("/usr/bin"), Path("/bin")]
BLOCKED = 77


# The demo is a script: its helpers are tests/stsd.py (the local STS) and its own steps beside it.
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
import demo_fix  # noqa: E402
import demo_verify  # noqa: E402
import stsd  # noqa: E402


def styled(text: str, code: str) -> str:
    if sys.stdout.isatty() and "NO_COLOR" not in os.environ:
        return f"\033[{code}m{text}\033[0m"
    return text


class Demo:
    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = [s for s in secrets if s]
        self.failures: list[str] = []
        self.printed: list[str] = []

    def say(self, text: str = "", code: str = "") -> None:
        self.printed.append(text)
        print(styled(text, code) if code else text)

    def heading(self, text: str) -> None:
        self.say()
        self.say(text, "1;36")
        self.say("─" * len(text), "36")

    def expect(self, ok: bool, what: str) -> None:
        self.say(f"  {'✓' if ok else '✗'} {what}", "32" if ok else "1;31")
        if not ok:
            self.failures.append(what)

    def run(
        self, argv: Sequence[str], env: dict[str, str], shown: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv``; show it as ``shown``, then its stdout, its stderr and its exit code."""
        self.say(f"$ {shown}", "1")
        proc = subprocess.run(
            list(argv),
            env=env,
            cwd=env["HOME"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        for label, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            if text.strip():
                self.say(f"  [{label}]", "2")
                for line in text.rstrip("\n").splitlines():
                    self.say(f"  {line}")
            else:
                self.say(f"  [{label}: nothing]", "2")
        self.say(f"  [exit {proc.returncode}]", "2")
        return proc

    def show_file(self, path: Path, home: Path) -> None:
        self.say(f"$ cat ~/{path.relative_to(home)}", "1")
        for line in path.read_text().splitlines():
            # Never print a secret: mask the value of every secret-looking key.
            line = re.sub(r"^(\s*aws_secret_access_key\s*=\s*).*$", r"\1****", line)
            line = re.sub(r"^(\s*aws_access_key_id\s*=\s*)(\S{4})\S*(\S{4})$", r"\1\2…\3", line)
            self.say(f"  {line}")

    def leaked(self) -> list[str]:
        text = "\n".join(self.printed)
        return [f"…{s[-4:]}" for s in self.secrets if s in text]


def identity(proc: subprocess.CompletedProcess[str]) -> tuple[str, str] | None:
    try:
        doc = json.loads(proc.stdout)
        return doc["Account"], doc["Arn"]
    except (ValueError, KeyError, TypeError):
        return None


def install_shim(home: Path, awsguard_home: Path) -> Path:
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join(str(p) for p in [VENV_BIN, *SYSTEM_PATH]),
        "AWSGUARD_HOME": str(awsguard_home),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [str(AWSGUARD), "install"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"demo FAILED: awsguard install exited {done.returncode}: {done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


def main() -> int:
    """The demo in a scratch directory that holds a HOME with access keys in it: removed at the
    end, whatever happens (AWSGUARD_DEMO_KEEP=1 keeps it to look around)."""
    root = Path(tempfile.mkdtemp(prefix="awsguard-demo-"))
    try:
        return _demo(root)
    finally:
        if os.environ.get("AWSGUARD_DEMO_KEEP") == "1":
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def _demo(root: Path) -> int:
    home = root / "home"
    home.mkdir()
    with stsd.StsServer() as server:
        key_a, key_b = server.field_report_users()
        demo = Demo(
            [
                key_a.secret_access_key,
                key_b.secret_access_key,
                key_a.access_key_id,
                key_b.access_key_id,
            ]
        )
        stsd.write_field_report(home, key_a, key_b)
        guard = stsd.write_network_guard(root / "guard")
        shim_dir = install_shim(home, root / "awsguard-home")
        env_plain = stsd.cli_environment(home, server, path=[VENV_BIN, *SYSTEM_PATH], guard=guard)
        env_shim = stsd.cli_environment(
            home, server, path=[shim_dir, VENV_BIN, *SYSTEM_PATH], guard=guard
        )
        call = ["aws", "sts", "get-caller-identity", "--profile", stsd.PROFILE]
        shown = " ".join(call)

        demo.say(f"awsguard demo: the field report, replayed in {root}", "1")
        demo.say(f"local STS: moto's server at {server.endpoint} (loopback only)")
        demo.say(f"  {key_a.arn}  access key {key_a.masked}")
        demo.say(f"  {key_b.arn}  access key {key_b.masked}")
        demo.say(f"real aws:  {AWS}")
        demo.say(f"shim:      {shim_dir}/aws  (awsguard install, first on PATH below)")

        demo.heading("The setup: keys of test_user_A kept, `aws login` as test_user_B")
        demo.show_file(home / ".aws" / "credentials", home)
        demo.show_file(home / ".aws" / "config", home)
        cache = stsd.login_cache_path(home, key_b.arn)
        demo.say(f"  (and the login cache ~/{cache.relative_to(home)}, valid for 6 hours)")

        demo.heading("(a) Without awsguard: the wrong identity, silently")
        plain = demo.run([str(AWS), *call[1:]], env_plain, shown)
        demo.expect(
            plain.returncode == 0 and identity(plain) == (stsd.ACCOUNT_A, key_a.arn),
            f"aws ran as test_user_A in {stsd.ACCOUNT_A}, although the profile is logged in "
            f"as test_user_B",
        )
        demo.expect(plain.stderr == "", "and nothing said so")

        demo_verify.status_before(demo, env_shim)

        demo.heading("(b) Through the awsguard shim: blocked before anything is sent")
        served = server.requests_served()
        blocked = demo.run(call, env_shim, f"{shown}      # PATH={shim_dir}:…")
        demo.expect(
            blocked.returncode == BLOCKED and blocked.stdout == "",
            f"exit {BLOCKED}, nothing on stdout",
        )
        demo.expect(server.requests_served() == served, "no request reached STS")
        demo.expect(
            stsd.ACCOUNT_A in blocked.stderr and stsd.ACCOUNT_B in blocked.stderr,
            f"the message names both accounts ({stsd.ACCOUNT_A} used, {stsd.ACCOUNT_B} shadowed)",
        )

        demo.heading("Why: awsguard explain shows the whole credential chain")
        explain = [str(AWSGUARD), "explain", "--", *call[1:]]
        demo.run(explain, env_shim, "awsguard explain -- " + " ".join(call[1:]))
        report = json.loads(
            subprocess.run(
                [str(AWSGUARD), "explain", "--json", "--", *call[1:]],
                env=env_shim,
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            or "{}"
        )
        demo.expect(
            report.get("source") == "shared-credentials-file"
            and report.get("shadowed") == ["login"]
            and report.get("verdict") == "block",
            "explain --json: source shared-credentials-file, shadowed [login], verdict block",
        )

        demo_verify.verify_before(demo, env_shim, key_a, key_b)
        credentials = home / ".aws" / "credentials"
        before = credentials.read_bytes()
        demo_fix.fix(demo, home=home, env=env_shim, call=call, key_a=key_a, key_b=key_b)
        demo_verify.verify_after(demo, env_shim, key_b)
        demo_fix.undo(demo, home=home, env=env_shim, call=call, server=server, before=before)

    leaks = demo.leaked()
    demo.expect(not leaks, "no secret or full access key id was printed")
    demo.say()
    if demo.failures:
        demo.say("demo FAILED: " + "; ".join(demo.failures), "1;31")
        return 1
    demo.say("demo OK", "1;32")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
