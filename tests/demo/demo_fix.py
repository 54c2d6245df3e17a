"""The end of `make demo`: the fix made by ``awsguard fix``, then undone.

``tests/demo/demo.py`` calls :func:`fix_and_undo` after the shim has blocked the call (step b),
with its ``Demo`` (``heading``, ``say``, ``run``, ``show_file``, ``expect``), the sandbox HOME, the
environment whose PATH starts with the shim, the aws command line of the field report, the local
STS server and the two users' keys.  The steps:

  (c) ``awsguard fix --yes --profile test_user``: the plan (a diff, secrets masked), the backup,
      the proof - the credentials file is edited by awsguard, not by hand;
  (d) through the shim again: STS answers as test_user_B (999999999999), awsguard says nothing;
  (e) ``awsguard fix --undo --yes``: the file exactly as it was;
  (f) through the shim: blocked again (exit 77), nothing sent to STS.

Nothing here prints a secret: awsguard masks its own output, and files are shown through the
demo's masking ``show_file``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

AWSGUARD = Path(sys.executable).parent / "awsguard"
BLOCKED = 77


def _identity(stdout: str) -> tuple[str, str] | None:
    try:
        doc = json.loads(stdout)
        return doc["Account"], doc["Arn"]
    except (ValueError, KeyError, TypeError):
        return None


def fix_and_undo(
    demo: Any,
    *,
    home: Path,
    env: dict[str, str],
    call: Sequence[str],
    server: Any,
    key_a: Any,
    key_b: Any,
    profile: str = "test_user",
    awsguard: Path = AWSGUARD,
) -> None:
    """Run steps (c)-(f); every expectation goes through ``demo.expect``."""
    before = (home / ".aws" / "credentials").read_bytes()
    fix(
        demo,
        home=home,
        env=env,
        call=call,
        key_a=key_a,
        key_b=key_b,
        profile=profile,
        awsguard=awsguard,
    )
    undo(demo, home=home, env=env, call=call, server=server, before=before, awsguard=awsguard)


def fix(
    demo: Any,
    *,
    home: Path,
    env: dict[str, str],
    call: Sequence[str],
    key_a: Any,
    key_b: Any,
    profile: str = "test_user",
    awsguard: Path = AWSGUARD,
) -> None:
    """Steps (c)-(d): ``awsguard fix --yes``, then the shim running as the logged-in identity."""
    credentials = home / ".aws" / "credentials"
    shown_call = " ".join(call)

    demo.heading("(c) The fix, by awsguard: plan, backup, atomic edit, proof")
    fixed = demo.run(
        [str(awsguard), "fix", "--yes", "--profile", profile],
        env,
        f"awsguard fix --yes --profile {profile}",
    )
    demo.expect(fixed.returncode == 0, "awsguard fix applied the plan (exit 0)")
    text = credentials.read_text()
    demo.expect(
        key_a.access_key_id not in text and f"[{profile}]" not in text,
        f"the keys of test_user_A and the empty [{profile}] section are gone from the file",
    )
    demo.expect(
        "now uses its aws login session" in fixed.stdout,
        "awsguard proved the profile now resolves to its aws login session",
    )
    backups = sorted(p.name for p in credentials.parent.glob("credentials.awsguard-*"))
    demo.expect(
        len(backups) == 1, f"one backup, mode 0600: ~/.aws/{backups[0] if backups else '?'}"
    )
    demo.show_file(credentials, home)

    demo.heading("(d) Through the shim again: the login session, and awsguard stays quiet")
    as_b = demo.run(list(call), env, f"{shown_call}      # the shim first on PATH")
    demo.expect(
        as_b.returncode == 0 and _identity(as_b.stdout) == (key_b.account, key_b.arn),
        f"aws ran as test_user_B in {key_b.account}, the identity of `aws login`",
    )
    demo.expect(as_b.stderr == "", "awsguard printed nothing")


def undo(
    demo: Any,
    *,
    home: Path,
    env: dict[str, str],
    call: Sequence[str],
    server: Any,
    before: bytes,
    awsguard: Path = AWSGUARD,
) -> None:
    """Steps (e)-(f): the undo, and the shim blocking again."""
    credentials = home / ".aws" / "credentials"
    shown_call = " ".join(call)
    demo.heading("(e) awsguard fix --undo: the file exactly as it was")
    undone = demo.run([str(awsguard), "fix", "--undo", "--yes"], env, "awsguard fix --undo --yes")
    demo.expect(
        undone.returncode == 0 and credentials.read_bytes() == before,
        "the credentials file is byte for byte what it was before the fix",
    )

    demo.heading("(f) Through the shim: blocked again")
    served = server.requests_served()
    again = demo.run(list(call), env, f"{shown_call}      # the shim first on PATH")
    demo.expect(
        again.returncode == BLOCKED and again.stdout == "",
        f"exit {BLOCKED} again, nothing on stdout",
    )
    demo.expect(server.requests_served() == served, "no request reached STS")
