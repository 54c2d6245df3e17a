"""``awsguard fix`` against the real AWS CLI writing the same credentials file.

The CLI rewrites the file in place (read, change, ``open(path, 'w')``), with no lock - so awsguard
re-checks the file just before its rename and looks at the inode it read once more after it.
First every window is forced open deterministically: ``awsguard fix`` is paused at a step
(``AWSGUARD_TEST_FAULT=<step>:pause``), the real ``aws configure set`` runs to completion in that
window, then fix goes on.  Then both run freely: ``aws configure set`` in a loop (new sections
and in-place updates) while ``awsguard fix`` runs again and again.  In every case no update of
either side is lost: each of the CLI's values is in the file at the end, and the keys fix
removed are not back.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import fixkit
import pytest
from fixkit import Home

from awsguard.predict import inifile

pytestmark = pytest.mark.slow

AWS = fixkit.VENV_BIN / "aws"
PROFILE = "test_user"
FIX = ("--profile", PROFILE, "--yes")

if not os.access(AWS, os.X_OK):  # pragma: no cover - make install provides it
    if os.environ.get("CI") == "true":
        pytest.fail(f"the real aws at {AWS} is required under CI")
    pytest.skip("the real aws is not installed", allow_module_level=True)


@pytest.fixture
def h(tmp_path: Path) -> Home:
    return Home(tmp_path)


def configure_set(h: Home, key: str, value: str, profile: str) -> None:
    done = subprocess.run(
        [str(AWS), "configure", "set", key, value, "--profile", profile],
        env=h.env(),
        capture_output=True,
        timeout=fixkit.HANG_GUARD,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def sections(h: Home) -> dict[str, dict[str, tuple[int, int]]]:
    return inifile.layout(h.cred.read_bytes()).options


def has_keys(h: Home) -> bool:
    return "aws_access_key_id" in sections(h).get(PROFILE, {})


def paused_fix(h: Home, step: str, during: object) -> fixkit.Result:
    """Run fix paused at ``step``; run ``during()`` in that window; let fix finish."""
    pause = h.root / "pause"
    pause.mkdir(exist_ok=True)
    env = h.env({"AWSGUARD_TEST_FAULT": f"{step}:pause", "AWSGUARD_TEST_PAUSE": str(pause)})
    proc = subprocess.Popen(
        [str(fixkit.AWSGUARD), "fix", *FIX],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        fixkit.wait_until(
            lambda: (pause / f"{step}.paused").exists() or proc.poll() is not None,
            f"fix to reach {step}",
        )
        assert proc.poll() is None, proc.communicate()
        during()  # type: ignore[operator]
        (pause / f"{step}.go").touch()
        out, err = proc.communicate(timeout=fixkit.HANG_GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = fixkit.Result(["fix", *FIX], proc.returncode, out, err)
    fixkit.assert_no_secrets(out, err)
    return result


def test_a_write_after_the_plan_is_seen_when_fix_reads_again(h: Home) -> None:
    h.field_report()
    run = paused_fix(h, "read", lambda: configure_set(h, "aws_session_token", "cli-1", "writer"))
    assert run.returncode == 1 and "changed after the plan was made" in run.err, run.describe()
    assert "writer" in sections(h) and has_keys(h) and h.backups() == []


def test_a_write_before_the_rename_aborts_it(h: Home) -> None:
    """The re-check: the CLI rewrote the file after fix read it; nothing is replaced."""
    h.field_report()
    run = paused_fix(h, "recheck", lambda: configure_set(h, "aws_session_token", "cli-1", "writer"))
    assert run.returncode == 1, run.describe()
    assert "changed while awsguard was editing it" in run.err and "run the command again" in run.err
    assert "writer" in sections(h) and has_keys(h)
    assert h.backups() == [] and h.temps() == []
    again = h.fix(*FIX)
    assert again.returncode == 0, again.describe()
    assert "writer" in sections(h) and not has_keys(h)


def test_a_write_into_the_inode_fix_is_replacing_is_put_back(h: Home) -> None:
    """The CLI wrote the old inode between the re-check and the rename: its write went to a
    file that is no longer the credentials file.  fix sees it and puts that version back."""
    h.field_report()
    run = paused_fix(h, "rename", lambda: configure_set(h, "aws_session_token", "cli-2", "writer"))
    assert run.returncode == 1, run.describe()
    assert "while awsguard replaced it; its version was put back" in run.err
    assert "writer" in sections(h) and has_keys(h)
    again = h.fix(*FIX)
    assert again.returncode == 0 and "writer" in sections(h) and not has_keys(h), again.describe()


def test_a_write_right_after_the_rename_keeps_both(h: Home) -> None:
    h.field_report()
    run = paused_fix(h, "proof", lambda: configure_set(h, "aws_session_token", "cli-3", "writer"))
    assert run.returncode == 0, run.describe()
    assert "changed again right after the edit" in run.out
    assert "writer" in sections(h) and not has_keys(h)


def test_keys_put_back_right_after_the_rename_are_reported(h: Home) -> None:
    h.field_report()
    run = paused_fix(
        h, "proof", lambda: configure_set(h, "aws_access_key_id", fixkit.KEY_A, PROFILE)
    )
    assert run.returncode == 1, run.describe()
    assert has_keys(h)


def test_fix_and_the_cli_in_a_loop_lose_nothing(h: Home) -> None:
    """The CLI in a loop - a new section, the profile's keys put back in place, another
    section updated in place - while fix runs again and again.  Every value the CLI wrote is
    in the file at the end, every refusal of fix says to run it again, and once the CLI has
    stopped one more fix leaves the keys removed."""
    h.field_report()
    written: list[str] = []
    outcomes: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(6):
                name = f"w{i}"
                configure_set(h, "aws_session_token", f"tok-{name}", name)
                written.append(name)
                configure_set(h, "aws_access_key_id", fixkit.KEY_A, PROFILE)
                if i % 2:  # the whole key pair back; or only the id (which breaks the CLI)
                    configure_set(h, "aws_secret_access_key", f"loop-secret-{i}", PROFILE)
                configure_set(h, "aws_session_token", f"last-{name}", "writer")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(300):  # bounded; each run is a whole fix
            run = h.fix(*FIX)
            if run.returncode == 0:
                outcomes.append("applied" if "backup:" in run.out else "nothing to do")
            else:
                assert "run the command again" in run.err, run.describe()
                outcomes.append("refused: changed")
            if stop.is_set():
                break
    finally:
        thread.join(timeout=fixkit.HANG_GUARD)
    assert not failures, failures
    assert stop.is_set(), "the CLI loop did not finish"
    final = h.fix(*FIX)
    assert final.returncode == 0, final.describe()
    have = sections(h)
    missing = [name for name in written if name not in have]
    assert not missing, f"updates of the CLI lost: {missing}"
    assert f"last-{written[-1]}" in h.cred.read_text(), "the CLI's last in-place update was lost"
    assert not has_keys(h)
    assert h.temps() == []
    for backup in h.backups():
        inifile.layout(backup.read_bytes())  # every backup is a whole, readable file
    assert outcomes.count("applied") >= 2, outcomes


def test_two_fixes_at_once_take_turns(h: Home) -> None:
    """awsguard's own writers lock the directory: the second waits for the first, then finds
    the file changed since its plan and says so; nothing is applied twice."""
    old = h.field_report()
    second: list[fixkit.Result] = []

    def during() -> None:
        thread = threading.Thread(target=lambda: second.append(h.fix(*FIX)))
        thread.start()
        # The second fix plans, then waits on the lock the first one holds.
        fixkit.wait_until(
            lambda: not thread.is_alive() or _waiting_on_lock(h), "the second fix to wait"
        )
        during.thread = thread  # type: ignore[attr-defined]

    first = paused_fix(h, "recheck", during)
    during.thread.join(timeout=fixkit.HANG_GUARD)  # type: ignore[attr-defined]
    assert first.returncode == 0, first.describe()
    [run] = second
    assert run.returncode == 1 and "changed after the plan was made" in run.err, run.describe()
    assert h.cred.read_bytes() == fixkit.without_lines(old, {6, 7, 8})
    assert len(h.backups()) == 1


def _waiting_on_lock(h: Home) -> bool:
    """Some process other than the paused one has the credentials directory open (flock
    needs an open descriptor): the second fix reached the lock."""
    target = str(h.aws)
    holders = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    holders += 1
            except OSError:
                continue
    return holders >= 2
