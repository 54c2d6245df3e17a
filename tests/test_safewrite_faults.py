"""Faults at every step of ``awsguard fix``'s write: the file is old or new, never partial.

Two ways in:

- the editor's own hook, ``AWSGUARD_TEST_FAULT=<step>:<action>`` (awsguard/host/safewrite.py):
  at every step of the edit (lock, read, backup open/write/fsync/link/dirsync, temporary file
  open/write/fsync/owner, re-check, rename, directory fsync, the undo record, the proof, the
  end) a ``SIGKILL`` and an ``EIO``, plus ENOSPC on both writes, EROFS/EACCES on the opens,
  EXDEV/EACCES on the rename and an unexpected exception;
- the kernel's answers, changed under the real process by ``strace -e inject=``: the n-th
  ``write``/``fsync``/``rename``/``link`` of awsguard is found in a clean traced run first
  (``-y`` names the file of every descriptor), then that very call fails in a second run - and a
  real full file system (a tiny tmpfs), where the kernel itself says ENOSPC.

After each: the credentials file is byte for byte the old one or the new one; every backup is a
complete copy of the old one (mode 0600) or absent; no temporary file is left (a killed
awsguard's watchdog removes it - waited for, never slept on); the secrets removed by the fix
are still somewhere (the file or a backup); no stream holds a secret; and a plain run afterwards
completes the fix (and ``--undo`` undoes it).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import fixkit
import pytest
from fixkit import Home

from awsguard.host.safewrite import STEPS

# A process per fault, most under strace: half a minute in all; `make test` runs them.
pytestmark = pytest.mark.slow

PROFILE = "test_user"
FIX = ("--profile", PROFILE, "--yes")


def _strace() -> str:
    found = shutil.which("strace")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("strace is required under CI")
        pytest.skip("strace is not installed")
    return found


def _expected(step: str, action: str) -> tuple[bool, bool, int]:
    """(the file ends up new, a backup remains, exit code) of a fault at ``step``."""
    after_rename = {"dirsync", "record", "proof", "done"}
    backup_made = {"backup-dirsync", "temp-open", "temp-write", "temp-fsync", "temp-owner",
                   "recheck", "rename", *after_rename}  # fmt: skip
    if action == "kill":
        return step in after_rename, step in backup_made, -signal.SIGKILL
    if action == "raise":
        return False, False, 1
    if step in ("dirsync", "record"):  # after the rename, not fatal: said, and kept
        return True, True, 0
    return False, False, 1  # everything else: nothing changed (proof: the old file put back)


def _check_after(h: Home, old: bytes, new: bytes, run: fixkit.Result) -> None:
    fixkit.wait_until(lambda: h.temps() == [], "no temporary file left beside the credentials")
    now = h.cred.read_bytes()
    assert now in (old, new), f"partial file after {run.describe()}"
    for backup in h.backups():
        assert backup.read_bytes() == old, f"incomplete backup {backup.name}"
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    kept = [now, *(b.read_bytes() for b in h.backups())]
    assert any(fixkit.SECRET_A.encode() in k for k in kept), "the removed secret is gone"
    assert "Traceback" not in run.err


def _recover(h: Home, old: bytes, new: bytes) -> None:
    """A plain run completes the fix; undo (when this run did it) brings the old file back."""
    was = h.cred.read_bytes()
    run = h.fix(*FIX)
    assert run.returncode == 0, run.describe()
    assert h.cred.read_bytes() == new
    assert h.temps() == []
    if was == old:
        undo = h.fix("--undo", "--yes")
        assert undo.returncode == 0, undo.describe()
        assert h.cred.read_bytes() == old


CASES = (
    [(step, "kill") for step in STEPS]
    + [(step, "EIO") for step in STEPS if step != "done"]
    + [
        ("temp-write", "ENOSPC"),
        ("backup-write", "ENOSPC"),
        ("temp-open", "EROFS"),
        ("backup-open", "EACCES"),
        ("temp-owner", "EPERM"),
        ("rename", "EXDEV"),
        ("rename", "EACCES"),
        ("recheck", "raise"),
        ("rename", "raise"),
    ]
)


@pytest.mark.parametrize(("step", "action"), CASES, ids=[f"{s}:{a}" for s, a in CASES])
def test_fault_at_every_step_leaves_old_or_new(tmp_path: Path, step: str, action: str) -> None:
    h = Home(tmp_path)
    old = h.field_report()
    new = fixkit.without_lines(old, {6, 7, 8})
    run = h.fix(*FIX, extra={"AWSGUARD_TEST_FAULT": f"{step}:{action}"})
    is_new, backup_left, code = _expected(step, action)
    assert run.returncode == code, run.describe()
    _check_after(h, old, new, run)
    assert h.cred.read_bytes() == (new if is_new else old), run.describe()
    assert len(h.backups()) == (1 if backup_left else 0), run.describe()
    if action not in ("kill", "raise") and code == 1:
        assert run.err.startswith("awsguard: "), run.err
        assert "nothing was changed" in run.err or "put back" in run.err, run.err
    _recover(h, old, new)


# -- the kernel's own errors, injected under the real process -------------------------------------

_LINE = re.compile(r"^(\d+)\s+(\w+)\((.*)$")


def _syscalls(log: str) -> tuple[int, list[tuple[str, str]]]:
    """(pid of awsguard, [(syscall, arguments)] of that process in order) from ``strace -f``."""
    calls: list[tuple[int, str, str]] = []
    for line in log.splitlines():
        m = _LINE.match(line)
        if m:
            calls.append((int(m.group(1)), m.group(2), m.group(3)))
    main = calls[0][0]  # the first line is awsguard's own execve
    return main, [(name, args) for pid, name, args in calls if pid == main]


def _nth(calls: list[tuple[str, str]], syscall: str, pattern: str, which: int = 1) -> int:
    """1-based count of ``syscall`` in the process at its ``which``-th call matching ``pattern``."""
    count = seen = 0
    for name, args in calls:
        if name != syscall:
            continue
        count += 1
        if re.search(pattern, args):
            seen += 1
            if seen == which:
                return count
    raise AssertionError(f"no {syscall} matching {pattern!r} (#{which}) in the trace")


TRACED = "execve,write,fsync,rename,renameat,renameat2,link,linkat"
TMP = r"\.credentials\.awsguard-\d+-[0-9a-f]+\.tmp"


def _discover(tmp_path: Path) -> list[tuple[str, str]]:
    """One clean traced run: the calls awsguard makes, with the file of every descriptor."""
    strace = _strace()
    h = Home(tmp_path / "discover")
    h.field_report()
    log = tmp_path / "discover.log"
    run = h.fix(
        *FIX,
        "--json",
        prefix=[strace, "-f", "-qq", "-s", "0", "-y", "-o", str(log), "-e", f"trace={TRACED}"],
    )
    assert run.returncode == 0, run.describe()
    _, calls = _syscalls(log.read_text())
    return calls


INJECTIONS = [
    # (what, syscall, pattern of the call, which match, error, file new afterwards, backup left)
    ("ENOSPC writing the backup", "write", TMP, 1, "ENOSPC", False, False),
    ("ENOSPC writing the new file", "write", TMP, 2, "ENOSPC", False, False),
    ("EIO on fsync of the backup", "fsync", TMP, 1, "EIO", False, False),
    ("EIO on fsync of the new file", "fsync", TMP, 2, "EIO", False, False),
    ("EXDEV on rename", "rename", TMP, 1, "EXDEV", False, False),
    ("EACCES on rename", "rename", TMP, 1, "EACCES", False, False),
    ("EPERM on link (no hard links): the backup is copied", "link", TMP, 1, "EPERM", True, True),
    ("SIGKILL entering the rename", "rename", TMP, 1, "SIGKILL", False, True),
    ("SIGKILL entering the backup's link", "link", TMP, 1, "SIGKILL", False, False),
    ("SIGKILL entering the new file's write", "write", TMP, 2, "SIGKILL", False, True),
]


@pytest.mark.parametrize(
    ("what", "syscall", "pattern", "which", "error", "is_new", "backup_left"),
    INJECTIONS,
    ids=[i[0] for i in INJECTIONS],
)
def test_kernel_errors_injected_by_strace(
    tmp_path: Path,
    what: str,
    syscall: str,
    pattern: str,
    which: int,
    error: str,
    is_new: bool,
    backup_left: bool,
) -> None:
    strace = _strace()
    calls = _discover(tmp_path)
    # glibc picks the syscall (rename or renameat2, link or linkat): use what it used
    used = [name for name, args in calls if name.startswith(syscall) and re.search(pattern, args)]
    syscall = used[0] if used else syscall
    n = _nth(calls, syscall, pattern, which)
    h = Home(tmp_path / "run")
    old = h.field_report()
    new = fixkit.without_lines(old, {6, 7, 8})
    effect = f"signal={error}" if error.startswith("SIG") else f"error={error}"
    inject = [
        "-f",
        "-qq",
        "-o",
        "/dev/null",
        "-e",
        f"trace={syscall}",
        "-e",
        f"inject={syscall}:{effect}:when={n}",
    ]
    run = h.fix(*FIX, "--json", prefix=[strace, *inject])
    if error.startswith("SIG"):
        # strace reports the tracee's death by the signal as its own exit status
        assert run.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), run.describe()
    elif is_new:
        assert run.returncode == 0, run.describe()
    else:
        assert run.returncode == 1, run.describe()
    _check_after(h, old, new, run)
    assert h.cred.read_bytes() == (new if is_new else old), run.describe()
    assert len(h.backups()) == (1 if backup_left else 0), run.describe()
    _recover(h, old, new)


# -- a real full file system ------------------------------------------------------------------------


def _mount_tiny(mnt: Path) -> None:
    mnt.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mnt)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here (strace covers ENOSPC)")


def _fill(fs: Path, leave_pages: int) -> Path:
    page = os.statvfs(fs).f_frsize
    filler = fs / "filler"
    with open(filler, "wb") as f:
        while os.statvfs(fs).f_bavail > leave_pages:
            try:
                f.write(b"\0" * page)
                f.flush()
            except OSError:
                break
    return filler


@pytest.mark.parametrize("where", ["target full, backup elsewhere", "room for the backup only"])
def test_a_full_file_system_says_enospc_and_nothing_is_lost(tmp_path: Path, where: str) -> None:
    """The kernel's own ENOSPC: a 64 KiB tmpfs filled up.  Either the new file cannot be
    written beside a symlink's target (the backup beside the link fits), or the backup takes
    the last page and the new file finds none: both leave the old file and no backup."""
    h = Home(tmp_path)
    mnt = tmp_path / "mnt" if where.startswith("target") else h.aws
    _mount_tiny(mnt)
    try:
        old = h.field_report()
        new = fixkit.without_lines(old, {6, 7, 8})
        real = h.cred
        if where.startswith("target"):
            real = mnt / "credentials"
            real.write_bytes(old)
            real.chmod(0o600)
            h.cred.unlink()
            h.cred.symlink_to(real)
        filler = _fill(mnt, 0 if where.startswith("target") else 1)
        run = h.fix(*FIX)
        assert run.returncode == 1, run.describe()
        assert "No space left on device" in run.err, run.err
        assert "nothing was changed" in run.err
        assert real.read_bytes() == old
        fixkit.wait_until(lambda: h.temps(mnt) == [] and h.temps() == [], "no temporary file")
        assert h.backups() == []
        filler.unlink()
        ok = h.fix(*FIX)
        assert ok.returncode == 0 and real.read_bytes() == new, ok.describe()
        assert h.cred.is_symlink() == where.startswith("target")
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
