"""`make bench`: awsguard's costs, each measured side by side with its baseline in one run.

Budgets (DESIGN.md §7) are checked here, never by timed assertions in tests.  Every figure is the
median of several runs on the same machine, in the same run, so the ratios are comparable even on
a noisy box.  Run: .venv/bin/python tests/bench/bench.py [--quick]
"""

from __future__ import annotations

import configparser
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from awsguard.resolver import resolve  # noqa: E402

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
        from awsguard import inifile

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
    print("Budgets: explain >= 5x faster than `aws configure list` (DESIGN.md §7).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
