"""`make demo`: the field report (shared/origin/aws-login-blog.txt) reproduced in a sandbox HOME.

Profile `test_user` keeps the access keys of IAM user test_user_A (account 000000000000) in
~/.aws/credentials, and `aws login` has recorded the session of test_user_B (account
999999999999) in ~/.aws/config.  The real `aws` (awscli from PyPI) silently uses the keys;
awsguard explains it and blocks; after the fix both agree on the login session.

Everything happens under a fresh temporary HOME; nothing outside it is read or written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
AWS = VENV_BIN / "aws"
AWSGUARD = VENV_BIN / "awsguard"

LOGIN_ARN = "arn:aws:iam::999999999999:user/test_user_B"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def key_id_for(account: int, prefix: str = "AKIA", tail: int = 0x5EED) -> str:
    """A new-generation access key id whose offline-decoded account is ``account``."""
    value = ((1 << 47) | (account << 7)) << 32 | (tail & 0xFFFFFFFF)
    return prefix + "".join(B32[(value >> (75 - 5 * i)) & 31] for i in range(16))


def bold(text: str) -> str:
    return f"\033[1m{text}\033[0m" if sys.stdout.isatty() and "NO_COLOR" not in os.environ else text


def run(cmd: list[str], env: dict[str, str], title: str) -> subprocess.CompletedProcess[str]:
    print(bold(f"$ {title}"))
    proc = subprocess.run(cmd, env=env, text=True, capture_output=True, check=False)
    out = (proc.stdout + proc.stderr).rstrip()
    print(out if out else "(no output)")
    print()
    return proc


def explain_json(explain: list[str], env: dict[str, str]) -> dict[str, object]:
    """The same explain command with --json: the report the demo checks its verdicts on."""
    cmd = [*explain[:2], "--json", *explain[2:]]
    proc = subprocess.run(cmd, env=env, text=True, capture_output=True, check=True)
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="awsguard-demo-"))
    aws_dir = home / ".aws"
    (aws_dir / "login" / "cache").mkdir(parents=True)
    key_a = key_id_for(0)
    credentials = aws_dir / "credentials"
    credentials.write_text(
        "# keys of IAM user test_user_A, account 000000000000 (kept from before aws login)\n"
        "[test_user]\n"
        f"aws_access_key_id = {key_a}\n"
        "aws_secret_access_key = demo-secret-not-real\n"
    )
    (aws_dir / "config").write_text(
        f"[profile test_user]\nregion = ap-northeast-1\nlogin_session = {LOGIN_ARN}\n"
    )
    import hashlib

    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 15 * 60))
    cache = aws_dir / "login" / "cache" / (hashlib.sha256(LOGIN_ARN.encode()).hexdigest() + ".json")
    cache.write_text(
        json.dumps(
            {
                "accessToken": {
                    "accessKeyId": key_id_for(999999999999, "ASIA"),
                    "secretAccessKey": "demo-login-secret",
                    "sessionToken": "demo-session-token",
                    "accountId": "999999999999",
                    "expiresAt": expires,
                },
                "tokenType": "aws_sigv4",
                "clientId": "arn:aws:signin:::devtools/same-device",
                "refreshToken": "demo-refresh-token",
                "idToken": "demo.id.token",
                "dpopKey": "-----BEGIN EC PRIVATE KEY-----\ndemo\n-----END EC PRIVATE KEY-----\n",
            }
        )
    )
    env = {
        "HOME": str(home),
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "AWSGUARD_AWS": str(AWS),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "TERM": os.environ.get("TERM", "dumb"),
    }
    if "NO_COLOR" in os.environ:
        env["NO_COLOR"] = os.environ["NO_COLOR"]
    print(bold(f"awsguard demo: the field report in a sandbox HOME ({home})"))
    print(
        "Profile test_user: access keys of test_user_A (account 000000000000) in ~/.aws/credentials,\n"
        f"and `aws login` recorded {LOGIN_ARN} in ~/.aws/config.\n"
    )
    run(
        [str(AWS), "configure", "list", "--profile", "test_user"],
        env,
        "aws configure list --profile test_user      # the real CLI: which credentials does it use?",
    )
    explain = [
        str(AWSGUARD),
        "explain",
        "--",
        "sts",
        "get-caller-identity",
        "--profile",
        "test_user",
    ]
    run(explain, env, "awsguard explain -- sts get-caller-identity --profile test_user")
    report = explain_json(explain, env)
    print(bold("$ awsguard explain --json … | the contract fields"))
    print(
        json.dumps(
            {k: report[k] for k in ("source", "shadowed", "identity", "session", "verdict")},
            indent=2,
        )
    )
    print()

    print(bold("Fix: delete the stale keys from [test_user] in ~/.aws/credentials"))
    credentials.write_text("[test_user]\n")
    print()
    run(
        [str(AWS), "configure", "list", "--profile", "test_user"],
        env,
        "aws configure list --profile test_user      # now the login session",
    )
    run(explain, env, "awsguard explain -- sts get-caller-identity --profile test_user")
    fixed = explain_json(explain, env)
    ok = report["verdict"] == "block" and fixed["verdict"] == "allow" and fixed["source"] == "login"
    print(bold("demo " + ("OK" if ok else "FAILED")) + f"  (sandbox left in {home})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
