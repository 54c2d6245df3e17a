"""`awsguard status` at 10, 1,000 and 10,000 profiles, against its budget.

Each figure is the median wall time of a fresh `awsguard status` process (stdout to /dev/null)
over a config of N profiles - the mix of tests/bench/bench.py's ``make_config``: roles, SSO,
`aws login` sessions (a tenth of them with a valid login token), credential processes - and a
credentials file with keys for every tenth profile, so a tenth of the rows are the field
report's trap and the table has every kind of row.  The process's CPU time (user + system) is
shown beside it: on a busy machine the wall time grows, the CPU time does not.  The first run of
each size is not counted (it learns the real CLI's version and the files' validity, as any
first run does).

Budget (issue 11): 1,000 profiles under 0.5 s, 10,000 under 3 s.

Run: .venv/bin/python tests/bench/bench_status.py [--quick]
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import make_config  # noqa: E402

SIZES = (10, 1_000, 10_000)
BUDGETS = {1_000: 0.5, 10_000: 3.0}  # seconds


def write_world(home: Path, n: int) -> None:
    aws = home / ".aws"
    aws.mkdir(parents=True, exist_ok=True)
    (aws / "config").write_text(make_config(n))
    keys = []
    cache = aws / "login" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 6 * 3600))
    for i in range(n):
        if i % 10 == 2:  # a login profile (make_config: i % 4 == 2) that also has keys
            keys.append(
                f"[p{i:05d}]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
            )
        if i % 40 == 2:  # a tenth of the login profiles have a valid token
            arn = f"arn:aws:iam::{i:012d}:user/u{i}"
            token = {
                "accessToken": {
                    "accessKeyId": "ASIAEXAMPLEEXAMPLE00",
                    "secretAccessKey": "x",
                    "sessionToken": "t",
                    "accountId": f"{i:012d}",
                    "expiresAt": expires,
                },
                "clientId": "c",
                "refreshToken": "r",
                "idToken": "i",
                "dpopKey": "k",
            }
            name = hashlib.sha256(arn.encode()).hexdigest() + ".json"
            (cache / name).write_text(json.dumps(token))
    (aws / "credentials").write_text("".join(keys))
    # Files written a minute ago, as a user's are (awsguard trusts nothing about a file written
    # in the last two seconds).
    stamp = time.time_ns() - 60 * 10**9
    for path in aws.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(stamp, stamp))


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench_status: {' '.join(cmd)} exited {done.returncode}: {done.stderr!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(cmd: list[str], env: dict[str, str], repeat: int) -> tuple[float, float]:
    run_once(cmd, env)  # warm: the CLI's version probe, the validity cache
    samples = [run_once(cmd, env) for _ in range(repeat)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main(quick: bool = False) -> list[str]:
    repeat = 3 if quick else 7
    venv_bin = Path(sys.executable).parent
    awsguard = str(venv_bin / "awsguard")
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    say(f"`awsguard status` (fresh processes; medians of {repeat} runs)")
    say(
        f"   {'profiles':>9} {'config':>8} {'status':>10} {'cpu':>9} {'--json':>10}"
        f" {'budget':>8}  result"
    )
    with tempfile.TemporaryDirectory(prefix="awsguard-bench-status-") as tmp:
        home = Path(tmp)
        env = {
            "HOME": str(home),
            "PATH": f"{venv_bin}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "AWS_EC2_METADATA_DISABLED": "true",
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "AWSGUARD_AWS": str(venv_bin / "aws"),
        }
        for n in SIZES:
            write_world(home, n)
            size = (home / ".aws" / "config").stat().st_size / 1e6
            wall, cpu = measure([awsguard, "status"], env, repeat)
            wall_json, _ = measure([awsguard, "status", "--json"], env, max(3, repeat // 2))
            budget = BUDGETS.get(n)
            if budget is None:
                verdict, shown = "-", "-"
            else:
                verdict, shown = ("PASS" if wall < budget else "FAIL"), f"{budget:.1f} s"
            say(
                f"   {n:>9,} {size:>6.2f}MB {wall * 1000:>7.0f} ms {cpu * 1000:>6.0f} ms"
                f" {wall_json * 1000:>7.0f} ms {shown:>8}  {verdict}"
            )
    say("   budget: 1,000 profiles under 0.5 s, 10,000 under 3 s (wall time of `awsguard status`)")
    return lines


if __name__ == "__main__":
    results = main("--quick" in sys.argv[1:])
    sys.exit(1 if any(line.rstrip().endswith("FAIL") for line in results) else 0)
