"""`make bench`: awsguard's costs, each measured side by side with its baseline in one run.

Budgets (docs/ARCHITECTURE.md §7) are checked here, never by timed assertions in tests.  Every figure is the
median of several runs on the same machine, in the same run, so the ratios are comparable even on
a noisy box.  Run: .venv/bin/python tests/bench/bench.py [--quick]
"""

from __future__ import annotations

import configparser
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from awsguard.predict.resolver import resolve  # noqa: E402

SIZES = (10, 1_000, 10_000)


def make_config(n: int) -> str:
    """A realistic config of ``n`` profiles: roles, SSO, login sessions, processes, nested blocks."""
    out = ["[default]", "region = us-east-1", "output = json", "", "[sso-session corp]",
           "sso_start_url = https://corp.awsapps.com/start", "sso_region = us-east-1", ""]  # fmt: skip
    for i in range(n):
        out.append(f"[profile p{i:05d}]")
        out.append("region = eu-west-1")
        kind = i % 4
        if kind == 0:
            out += [f"role_arn = arn:aws:iam::{i:012d}:role/Admin", "source_profile = default"]
        elif kind == 1:
            out += ["sso_session = corp", f"sso_account_id = {i:012d}", "sso_role_name = ReadOnly"]
        elif kind == 2:
            out += [f"login_session = arn:aws:iam::{i:012d}:user/u{i}"]
        else:
            out += ["credential_process = /bin/true", "s3 =", "    max_concurrent_requests = 20",
                    "    addressing_style = path"]  # fmt: skip
        out.append("")
    # The profile both tools are asked about: last in the file, static keys, so that neither
    # `aws configure list` nor awsguard has any reason to touch the network.
    out += [
        "[profile target]",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = x",
        "",
    ]
    return "\n".join(out) + "\n"


def median_seconds(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_cmd(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def main() -> int:
    quick = "--quick" in sys.argv
    repeat = 5 if quick else 15
    venv_bin = Path(sys.executable).parent
    aws = venv_bin / "aws"
    awsguard = venv_bin / "awsguard"
    with tempfile.TemporaryDirectory(prefix="awsguard-bench-") as tmp:
        home = Path(tmp)
        (home / ".aws").mkdir()
        (home / ".aws" / "credentials").write_text(
            "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
        )
        env = {
            "HOME": str(home),
            "PATH": f"{venv_bin}:/usr/bin:/bin",
            "AWS_EC2_METADATA_DISABLED": "true",
            "XDG_CACHE_HOME": str(home / ".cache"),
            "AWSGUARD_AWS": str(aws),
            # Belt and braces: were anything to call AWS, it would hit a closed loopback port.
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        }
        print(f"awsguard bench  ({'quick' if quick else 'full'}; medians of {repeat} runs)")
        print()
        print(
            "1. Resolving one profile vs configparser's full parse of the same config (in process)"
        )
        print(f"   {'profiles':>9} {'size':>9} {'configparser':>12} {'awsguard':>12} {'ratio':>8}")
        results = {}
        for n in SIZES:
            config = home / ".aws" / "config"
            config.write_text(make_config(n))
            target = "target"

            def full_parse(path=config):
                parser = configparser.RawConfigParser()
                parser.read(path)

            def one_profile(target=target):
                resolve(["sts", "get-caller-identity", "--profile", target], env, major=2, crt=True)

            base = median_seconds(full_parse, max(3, repeat // 3) if n >= 10_000 else repeat)
            ours = median_seconds(one_profile, repeat)
            results[n] = (base, ours)
            print(
                f"   {n:>9,} {config.stat().st_size / 1e6:>7.2f}MB {fmt_ms(base):>12} {fmt_ms(ours):>12} {base / ours:>7.1f}x"
            )
        print()
        print("   where the time goes at 10,000 profiles (the config file alone):")
        from awsguard.predict import inifile

        config = home / ".aws" / "config"
        config.write_text(make_config(10_000))
        for label, validate in (
            ("whole-file validation + one section", True),
            ("one section, no validation", False),
        ):

            def load(v: bool = validate) -> None:
                ini = inifile.load(str(config), validate=v)
                assert ini is not None and ini.section("profile target")

            print(f"   {label:<40} {fmt_ms(median_seconds(load, repeat))}")
        print()
        print(
            "2. `awsguard explain --json` vs `aws configure list` on the same files (fresh processes)"
        )
        print(
            f"   {'profiles':>9} {'aws configure list':>19} {'awsguard explain':>17} {'ratio':>8}"
        )
        for n in SIZES:
            config = home / ".aws" / "config"
            config.write_text(make_config(n))
            target = "target"
            cmd_aws = [str(aws), "configure", "list", "--profile", target]
            cmd_ours = [
                str(awsguard),
                "explain",
                "--json",
                "--",
                "sts",
                "get-caller-identity",
                "--profile",
                target,
            ]
            run_cmd(cmd_ours, env)  # warm the real-CLI version cache, like any second run
            slow_repeat = max(3, repeat // 3)
            base = median_seconds(lambda c=cmd_aws: run_cmd(c, env), slow_repeat)
            ours = median_seconds(lambda c=cmd_ours: run_cmd(c, env), slow_repeat)
            print(f"   {n:>9,} {fmt_ms(base):>19} {fmt_ms(ours):>17} {base / ours:>7.1f}x")
        print()
        shim_ok = bench_shim(home, env, repeat)
    print()
    prompt_ok = True
    if "--no-prompt" not in sys.argv:
        import bench_prompt

        print("4. The prompt hook in real shells (tests/bench/bench_prompt.py)")
        prompt_ok = not any("FAIL" in line for line in bench_prompt.main(quick))
    print()
    import bench_status

    print("5. Every profile at once (tests/bench/bench_status.py)")
    status_ok = not any("FAIL" in line for line in bench_status.main(quick))
    print()
    import bench_fix

    print("6. awsguard fix --dry-run (tests/bench/bench_fix.py)")
    bench_fix.main(quick)
    print()
    print(
        "Budgets (docs/ARCHITECTURE.md §7): explain >= 5x faster than `aws configure list`; shim <= 1.5x"
    )
    print("a bare `python -I -S -c pass` at 10,000 profiles; prompt: 0 processes and < 2 ms")
    print("steady, < 50 ms after a change; status: 1,000 profiles < 0.5 s, 10,000 < 3 s.")
    return 0 if shim_ok and prompt_ok and status_ok else 1


PYENV_STYLE_SHIM = """#!/usr/bin/env bash
# What a pyenv/rbenv-style shim does: bash starts, works out the program, execs it.
set -e
[ -n "$PYENV_DEBUG" ] && set -x
program="${0##*/}"
export PYENV_ROOT="${PYENV_ROOT:-$HOME/.pyenv}"
exec "$STUB_AWS" "$@"
"""


def spawn(cmd: list[str], env: dict[str, str]) -> float:
    """Wall time of one process, exec'd programs included."""
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bench: {cmd[0]} exited {done.returncode}")
    return elapsed


# A process's peak RSS counts its image before exec too, and a child forked from this (large)
# process starts with our pages: so peaks are measured from a small interpreter that forks.
_PEAK = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
"""


def peak_kib(cmd: list[str], env: dict[str, str]) -> int:
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _PEAK, *cmd],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[-1])


def measure(cmd: list[str], env: dict[str, str], repeat: int, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        times.append(spawn(cmd, env))
    return statistics.median(times)


def bench_shim(home: Path, base_env: dict[str, str], repeat: int) -> bool:
    """The shim's cost: shim -> stub aws, against a bare interpreter start and a bash shim."""
    from awsguard.host import launcher

    python = sys.executable
    stub = home / "stub" / "aws"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    bash_shim = home / "bash-shim" / "aws"
    bash_shim.parent.mkdir()
    bash_shim.write_text(PYENV_STYLE_SHIM)
    bash_shim.chmod(0o755)
    guard_home = home / "awsguard-home"
    env = {
        **{k: v for k, v in base_env.items() if k != "AWSGUARD_AWS"},
        "AWSGUARD_HOME": str(guard_home),
        "AWSGUARD_AWS": str(stub),
        "STUB_AWS": str(stub),
        "AWS_PROFILE": "p00002",  # an `aws login` profile: config, credentials, login cache
    }
    shim_dir = launcher.ensure(env)
    shim = f"{shim_dir}/aws"
    memo_file = Path(env["XDG_CACHE_HOME"]) / "awsguard" / "shim-decisions.marshal"
    reps = repeat * 2
    print("3. The aws shim: `aws sts get-caller-identity` through the shim to a stub aws, against")
    print("   a bare `python -I -S -c pass` of the same interpreter (fresh processes; peak RSS)")
    print(
        f"   {'profiles':>9} {'bare python':>12} {'stub alone':>11} {'bash shim':>11}"
        f" {'awsguard':>11} {'ratio':>6} {'first call':>11} {'ratio':>6}"
        f" {'config edited':>13} {'ratio':>6} {'peak RSS':>9}"
    )
    ok = True
    argv = ["sts", "get-caller-identity"]
    for n in SIZES:
        (home / ".aws" / "config").write_text(make_config(n))
        arn = f"arn:aws:iam::{2:012d}:user/u2"
        cache = home / ".aws" / "login" / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        from awsguard.predict.identity import sha256_hex

        (cache / f"{sha256_hex(arn)}.json").write_text(
            '{"accessToken": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "x", '
            '"sessionToken": "t", "accountId": "000000000002", "expiresAt": "2099-01-01T00:00:00Z"}, '
            '"clientId": "c", "refreshToken": "r", "idToken": "i", "dpopKey": "k"}'
        )
        # Files written a minute ago, as a user's are: awsguard remembers nothing about a file
        # written in the last two seconds (memo.settled).
        stamp = time.time_ns() - 60 * 10**9
        for path in [stub, *(home / ".aws").rglob("*")]:
            if path.is_file():
                os.utime(path, ns=(stamp, stamp))
        spawn([shim, *argv], env)  # the first call fills the caches
        bare_rss = 0
        bare = measure([python, "-I", "-S", "-c", "pass"], env, reps)
        alone = measure([str(stub), *argv], env, reps)
        bash = measure([str(bash_shim), *argv], env, reps)
        ours = measure([shim, *argv], env, reps)
        rss = peak_kib([shim, *argv], env)
        bare_rss = peak_kib([python, "-I", "-S", "-c", "pass"], env)
        memo_file.unlink(missing_ok=True)
        first_rss = peak_kib([shim, *argv], env)
        first = measure(
            [shim, *argv],
            env,
            max(3, repeat // 2),
            before=lambda: memo_file.unlink(missing_ok=True),
        )
        config = home / ".aws" / "config"

        def touch_config(path: Path = config) -> None:
            # A new identity for the config: nothing remembered applies, validation runs again.
            stamp = time.time_ns()
            os.utime(path, ns=(stamp, stamp))

        edited = measure([shim, *argv], env, max(3, repeat // 2), before=touch_config)
        ratio = ours / bare
        if n == SIZES[-1] and ratio > 1.5:
            ok = False
        print(
            f"   {n:>9,} {fmt_ms(bare):>12} {fmt_ms(alone):>11} {fmt_ms(bash):>11} {fmt_ms(ours):>11}"
            f" {ratio:>5.2f}x {fmt_ms(first):>11} {first / bare:>5.2f}x"
            f" {fmt_ms(edited):>13} {edited / bare:>5.2f}x"
            f" {rss / 1024:>5.1f}/{first_rss / 1024:.1f}MiB"
        )
    print(f"   peak RSS: steady/first call; a bare python peaks at {bare_rss / 1024:.1f} MiB")
    print("   'awsguard' is the steady state (the decision is remembered, keyed by every input it")
    print("   read); 'first call' decides from scratch (no remembered decision, files as before);")
    print("   'config edited' right after the config changed (its validation runs again).")
    print(f"   shim budget at 10,000 profiles (<= 1.5x bare python): {'PASS' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    raise SystemExit(main())
