"""`make demo`'s status and verify steps, called by tests/demo/demo.py around the fix.

    status_before(demo, env)        every profile at once; the trap is blocked
    verify_before(demo, env, a, b)  STS says the profile runs as test_user_A: wrong-identity
    (the fix)
    verify_after(demo, env, b)      STS says test_user_B, the logged-in identity: as-predicted

``demo`` is demo.py's ``Demo`` (``run``, ``expect``, ``heading``, ``say``); ``env`` the environment
of its shim runs (AWS_ENDPOINT_URL is the local STS, the network guard is on PYTHONPATH); ``a``
and ``b`` are stsd's ``AccessKey`` of test_user_A and test_user_B.  Each function prints the
command, its output and exit code, and checks what it must show.  Run alone
(``.venv/bin/python tests/demo/demo_verify.py``) it replays the field report around these steps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

AWSGUARD = Path(sys.executable).parent / "awsguard"
PROFILE = "test_user"
WRONG_IDENTITY, AS_PREDICTED = 1, 0


def _json(argv: list[str], env: dict[str, str]) -> Any:
    done = subprocess.run(
        argv, env=env, cwd=env["HOME"], capture_output=True, text=True, timeout=120, check=False
    )
    try:
        return json.loads(done.stdout)
    except ValueError:
        return None


def status_before(demo: Any, env: dict[str, str], profile: str = PROFILE) -> None:
    demo.heading("awsguard status: every profile at once, offline")
    proc = demo.run([str(AWSGUARD), "status"], env, "awsguard status")
    rows = _json([str(AWSGUARD), "status", "--json"], env) or []
    row = next((r for r in rows if r.get("profile") == profile), {})
    demo.expect(
        proc.returncode == 0
        and row.get("verdict") == "block"
        and row.get("source") == "shared-credentials-file"
        and any(f.get("rule") == "login-shadowed" for f in row.get("findings", [])),
        f"status: profile {profile} uses the credentials file's keys and is blocked "
        "(login-shadowed)",
    )


def verify_before(
    demo: Any, env: dict[str, str], key_a: Any, key_b: Any, profile: str = PROFILE
) -> None:
    demo.heading("awsguard verify: ask the local STS who the profile really is")
    shown = f"awsguard verify --profile {profile}"
    proc = demo.run([str(AWSGUARD), "verify", "--profile", profile], env, shown)
    doc = _json([str(AWSGUARD), "verify", "--profile", profile, "--json"], env) or {}
    sts = doc.get("sts") or {}
    demo.expect(
        proc.returncode == WRONG_IDENTITY
        and doc.get("verdict") == "wrong-identity"
        and sts.get("arn") == key_a.arn,
        f"verify: wrong-identity (exit 1): STS answers {key_a.user}, the profile is logged in "
        f"as {key_b.user}",
    )


def verify_after(demo: Any, env: dict[str, str], key_b: Any, profile: str = PROFILE) -> None:
    demo.heading("awsguard verify after the fix: the login session, confirmed by STS")
    shown = f"awsguard verify --profile {profile}"
    proc = demo.run([str(AWSGUARD), "verify", "--profile", profile], env, shown)
    doc = _json([str(AWSGUARD), "verify", "--profile", profile, "--json"], env) or {}
    sts = doc.get("sts") or {}
    demo.expect(
        proc.returncode == AS_PREDICTED
        and doc.get("verdict") == "as-predicted"
        and sts.get("arn") == key_b.arn
        and (doc.get("used") or {}).get("source") == "login",
        f"verify: as-predicted (exit 0): STS answers {key_b.user}, through the login session",
    )


def main() -> int:
    """status → verify (wrong identity) → the fix → verify (as predicted), on their own."""
    import importlib.util
    import tempfile

    spec = importlib.util.spec_from_file_location("demo", Path(__file__).with_name("demo.py"))
    assert spec is not None and spec.loader is not None
    demo_mod = importlib.util.module_from_spec(spec)
    sys.modules["demo"] = demo_mod
    spec.loader.exec_module(demo_mod)
    stsd = demo_mod.stsd
    import os
    import shutil

    root = Path(tempfile.mkdtemp(prefix="awsguard-demo-verify-"))
    try:
        return _replay(demo_mod, stsd, root)
    finally:
        # The scratch HOME holds access keys: gone on every way out, unless asked to keep it.
        if os.environ.get("AWSGUARD_DEMO_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)


def _replay(demo_mod: Any, stsd: Any, root: Path) -> int:
    home = root / "home"
    home.mkdir()
    with stsd.StsServer() as server:
        key_a, key_b = server.field_report_users()
        demo = demo_mod.Demo(
            [
                key_a.secret_access_key,
                key_b.secret_access_key,
                key_a.access_key_id,
                key_b.access_key_id,
            ]
        )
        stsd.write_field_report(home, key_a, key_b)
        guard = stsd.write_network_guard(root / "guard")
        shim_dir = demo_mod.install_shim(home, root / "awsguard-home")
        env = stsd.cli_environment(
            home, server, path=[shim_dir, demo_mod.VENV_BIN, *demo_mod.SYSTEM_PATH], guard=guard
        )
        status_before(demo, env)
        verify_before(demo, env, key_a, key_b)
        demo.heading("The fix: delete the profile's keys from ~/.aws/credentials")
        (home / ".aws" / "credentials").write_text(stsd.credentials_text(None))
        demo.show_file(home / ".aws" / "credentials", home)
        verify_after(demo, env, key_b)
    demo.expect(not demo.leaked(), "no secret or full access key id was printed")
    if demo.failures:
        demo.say("demo_verify FAILED: " + "; ".join(demo.failures), "1;31")
        return 1
    demo.say("demo_verify OK", "1;32")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
