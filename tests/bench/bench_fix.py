"""What ``awsguard fix --dry-run`` costs at 10, 1,000 and 10,000 profiles.

The files: a config of N profiles (every one logged in with ``aws login``) and a credentials
file of N sections with keys; the profile asked about sits in the middle of both, its keys
shadowing its login session - so fix has a plan to make: it resolves the invocation, judges it,
reads and parses the whole credentials file (the lines to remove), and prints the masked diff.
Side by side, in the same run and the same HOME:

* ``fix --dry-run``  - the command as a user runs it (a process: interpreter, plumbum, the work);
* ``explain``        - the same resolution through the command that only reports (a process);
* ``fix (in-proc)``  - ``awsguard.commands.fix.run`` called in this process: the work alone.

Figures are medians of several runs, in milliseconds.  No budget is set for fix (it runs once,
by hand); the table shows how it grows with the file.
Run: .venv/bin/python tests/bench/bench_fix.py [--quick]
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from shimkit import key_id, login_cache_relpath, login_token  # noqa: E402

from awsguard.commands import fix  # noqa: E402

SIZES = (10, 1_000, 10_000)
TARGET = "target"
TARGET_ARN = "arn:aws:iam::999999999999:user/bench"


def write_home(home: Path, n: int) -> None:
    aws = home / ".aws"
    aws.mkdir(parents=True)
    config: list[str] = []
    creds: list[str] = []
    key = key_id("123456789012")
    for i in range(n):
        name = f"p{i:05d}"
        if i == n // 2:
            config += [
                f"[profile {TARGET}]",
                "region = eu-west-1",
                f"login_session = {TARGET_ARN}",
                "",
            ]
            creds += [f"[{TARGET}]", f"aws_access_key_id = {key_id('000000000000')}",
                      "aws_secret_access_key = benchSecretNotReal0000000000000000000000", ""]  # fmt: skip
        config += [f"[profile {name}]", "region = us-east-1",
                   f"login_session = arn:aws:iam::{i:012d}:user/u{i}", ""]  # fmt: skip
        creds += [f"[{name}]", f"aws_access_key_id = {key}", f"aws_secret_access_key = s{i}", ""]
    (aws / "config").write_text("\n".join(config))
    (aws / "credentials").write_text("\n".join(creds))
    os.chmod(aws / "credentials", 0o600)
    cache = home / login_cache_relpath(TARGET_ARN)
    cache.parent.mkdir(parents=True)
    cache.write_text(login_token("999999999999"))
    # Files written "a minute ago": awsguard remembers nothing about a just-written file.
    stamp = time.time_ns() - 60 * 10**9
    for path in (aws / "config", aws / "credentials", cache):
        os.utime(path, ns=(stamp, stamp))


def environ(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "LC_ALL": "C.UTF-8",
        "AWSGUARD_CLI_MAJOR": "2",
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }


def median_ms(fn: object, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def process(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"bench: {' '.join(argv[1:3])} failed ({done.returncode}): {done.stderr[-300:]!r}"
        )


def main(quick: bool = False) -> list[str]:
    repeat = 3 if quick else 9
    awsguard = str(Path(sys.executable).parent / "awsguard")
    lines = [
        f"awsguard fix --dry-run  ({'quick' if quick else 'full'}; medians of {repeat} runs, ms)",
        f"  {'profiles':>9}  {'fix --dry-run':>14}  {'explain':>9}  {'fix/explain':>11}  {'fix (in-proc)':>13}",
    ]
    for line in lines:
        print(line, flush=True)
    for n in SIZES:
        with tempfile.TemporaryDirectory(prefix="awsguard-bench-fix-") as tmp:
            home = Path(tmp)
            write_home(home, n)
            env = environ(home)
            before = (home / ".aws" / "credentials").read_bytes()
            fix_argv = [awsguard, "fix", "--dry-run", "--profile", TARGET]
            explain_argv = [
                awsguard,
                "explain",
                "--",
                "--profile",
                TARGET,
                "sts",
                "get-caller-identity",
            ]
            process(fix_argv, env)  # warm the caches, check it has a plan
            process(explain_argv, env)
            t_fix = median_ms(lambda a=fix_argv, e=env: process(a, e), repeat)
            t_explain = median_ms(lambda a=explain_argv, e=env: process(a, e), repeat)

            def in_process(e: dict[str, str] = env) -> None:
                code = fix.run(
                    [], fix.Options(profile=TARGET, dry_run=True), environ=e,
                    out=io.StringIO(), err=io.StringIO(), ask=False,
                )  # fmt: skip
                assert code == 0

            t_inproc = median_ms(in_process, repeat)
            assert (home / ".aws" / "credentials").read_bytes() == before, (
                "a dry run changed the file"
            )
            line = f"  {n:>9,}  {t_fix:>14.1f}  {t_explain:>9.1f}  {t_fix / t_explain:>10.2f}x  {t_inproc:>13.1f}"
            print(line, flush=True)
            lines.append(line)
    return lines


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
