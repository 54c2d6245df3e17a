"""Finding the real `aws` behind the shim: pure ``stat`` work, on every shim call.

Walk PATH in order, absolute entries only (Go's os/exec rule: an empty, ``.`` or relative entry
would run whatever ``aws`` the current directory holds), and recognise the shim by identity
rather than by name, because it may sit on PATH twice, behind a symlinked directory, or be
symlinked, hard-linked or copied as ``aws`` elsewhere (pyenv#2696, asdf#2166, mise PR #10982;
docs/hostile-inputs.md §2 and §7 items 13-16).  Kept apart from :mod:`awsguard.host.realcli`
(which learns the CLI's version) so that the shim's steady state imports only this.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# The launcher `awsguard install` writes carries these bytes near its top, so a *copy* of the shim
# (which has its own inode) is still recognised.
SHIM_MARKER = b"AWSGUARD-SHIM-MARKER"

# Hops through the shim in one chain of execs and children (shim → wrapper → shim …), counted in
# the environment.  A credential_process that calls aws nests two or three deep; a loop reaches
# the bound quickly, and since each hop is a process the bound also bounds the damage.
DEPTH_VAR = "AWSGUARD_DEPTH"
MAX_DEPTH = 8
_MARKER_WINDOW = 4096


class RealCliError(Exception):
    """A setting about the real CLI is unusable; ``message`` says which and why, without prefix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_reg(mode: int) -> bool:
    return (mode & 0o170000) == 0o100000  # stat.S_ISREG without importing stat


def _show(value: str) -> str:
    """A value from the environment, safe to put in a one-line message."""
    value = value[:200]
    return value if value.isprintable() else repr(value)


# --- Finding the real aws ---------------------------------------------------------------------


def _identities(names: Sequence[str]) -> set[tuple[int, int]]:
    """(st_dev, st_ino) of each path that exists, symlinks followed."""
    ids = set()
    for name in names:
        try:
            st = os.stat(name)
        except (OSError, ValueError):
            continue
        ids.add((st.st_dev, st.st_ino))
    return ids


def _is_executable_file(path: str) -> os.stat_result | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not _is_reg(st.st_mode) or not os.access(path, os.X_OK):
        return None
    return st


def _read_head(path: str, size: int = _MARKER_WINDOW) -> bytes | None:
    """The first ``size`` bytes of a regular file; None if it cannot be read (never blocks)."""
    from awsguard.host.fileio import read_regular

    try:
        got = read_regular(path, size)
    except (OSError, ValueError):
        return None
    return None if got is None else got[0]


def _why_unusable(path: str, self_ids: set[tuple[int, int]]) -> str | None:
    """Why ``path`` cannot be the real aws, or None if it can."""
    if not path.startswith("/"):
        return "not an absolute path"
    st = _is_executable_file(path)
    if st is None:
        return "not an executable regular file"
    if (st.st_dev, st.st_ino) in self_ids:
        return "it is the awsguard shim itself"
    head = _read_head(path)
    # An executable we cannot read (mode 0111) can still be exec'd; it is not a script of ours.
    if head is not None and SHIM_MARKER in head:
        return "it is a copy of the awsguard shim"
    return None


def find_real_aws(
    environ: Mapping[str, str],
    *,
    skip_dirs: Sequence[str] = (),
    self_paths: Sequence[str] = (),
) -> str | None:
    """The ``aws`` the shim should exec, or None when there is none.

    ``AWSGUARD_AWS`` (when non-empty) is used as given, but it must be an absolute path to an
    executable regular file that is not the shim; otherwise ``RealCliError`` is raised rather
    than silently falling back to PATH.  Without it, ``PATH`` (``os.defpath`` when unset) is
    walked in order; skipped are entries that are not absolute, directories that are one of
    ``skip_dirs`` (compared by device and inode, so ``dir/``, ``dir//``, ``x/../dir`` and
    symlinks to it all match), files that are one of ``self_paths`` (by inode: symlinks and hard
    links) or that carry ``SHIM_MARKER`` in their first 4 KiB (copies), and anything that is not
    an executable regular file.
    """
    self_ids = _identities(self_paths)
    override = environ.get("AWSGUARD_AWS")
    if override:
        problem = _why_unusable(override, self_ids)
        if problem is not None:
            raise RealCliError(f"AWSGUARD_AWS={_show(override)} cannot be used: {problem}")
        return override
    skip_ids = _identities(skip_dirs)
    seen: set[tuple[int, int]] = set()
    for entry in environ.get("PATH", os.defpath).split(os.pathsep):
        if not entry.startswith("/"):
            continue
        try:
            st = os.stat(entry)
        except (OSError, ValueError):
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in skip_ids or ident in seen or (st.st_mode & 0o170000) != 0o040000:
            continue
        seen.add(ident)
        candidate = entry + "aws" if entry.endswith("/") else entry + "/aws"
        if _why_unusable(candidate, self_ids) is None:
            return candidate
    return None
