"""File I/O, once: the one reader of files that may be anything, the one atomic writer, the one
newline decoder.

*Reading.*  Every file a decision depends on is read through :func:`read_regular`, which records
the path for the memo (:mod:`awsguard.host.record`) *before* it looks: a read without a record
is not possible, so the memo's key cannot miss an input.  It opens non-blocking and checks the
type with ``fstat`` after opening, so a FIFO or a device where a file is expected (or swapped in
after a ``stat``) never hangs awsguard.

*Writing.*  :func:`atomic_replace` writes a new file beside the target under a unique name
(``O_EXCL``), optionally ``fsync``s it, and renames it over the target: a reader sees the whole
old file or the whole new one, never a mix.  The temporary file is removed on every way out,
``KeyboardInterrupt`` and timers included, and with ``hold_signals`` a killing signal waits
until it is gone.

Standard library only (``os``), on the shim's hot path.
"""

from __future__ import annotations

import os

from awsguard.host.record import note_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_S_IFMT = 0o170000
_S_IFREG = 0o100000
_S_IFDIR = 0o040000


def is_regular(mode: int) -> bool:
    """``stat.S_ISREG`` without importing ``stat``."""
    return (mode & _S_IFMT) == _S_IFREG


def read_regular(
    path: str, limit: int | None = None, *, nofollow: bool = False, replaced: bool = False
) -> tuple[bytes, os.stat_result] | None:
    """The bytes of ``path`` (at most ``limit``) and the fstat of what was read, when it is a
    regular file; None when it is a FIFO, a device or a socket.

    The path is recorded for the memo first (``replaced``: see :func:`record.note_path`).
    Raises OSError when it cannot be opened or read, ``IsADirectoryError`` for a directory
    (what ``open()`` raises), ``OSError(ELOOP)`` for a symlink with ``nofollow``.
    """
    note_path(path, replaced=replaced)
    return _read(path, limit, nofollow)


def _read(path: str, limit: int | None, nofollow: bool) -> tuple[bytes, os.stat_result] | None:
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_NOFOLLOW if nofollow else 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        kind = st.st_mode & _S_IFMT
        if kind != _S_IFREG:
            if kind == _S_IFDIR:
                raise IsADirectoryError(21, "Is a directory", path)
            return None
        chunks = []
        left = limit
        while left is None or left > 0:
            chunk = os.read(fd, 1 << 20 if left is None else min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            if left is not None:
                left -= len(chunk)
        return b"".join(chunks), st
    finally:
        os.close(fd)


def read_private(path: str, limit: int | None = None, *, derived: bool = False) -> bytes | None:
    """The bytes of one of awsguard's own cache files, or None unless it is a regular file owned
    by this user and not writable by group or others (its content steers decisions, so it
    must come from us).  Raises OSError like :func:`read_regular`.

    Recorded as an input of the decision (awsguard replaces these files by rename only), unless
    ``derived``: a cache keyed by the identity of what it was computed from (the memo itself,
    the per-file caches) adds no input, and recording it would make every rewrite of the cache
    invalidate the decisions that read it."""
    got = (
        _read(path, limit, True)
        if derived
        else read_regular(path, limit, nofollow=True, replaced=True)
    )
    if got is None:
        return None
    data, st = got
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        return None
    return data


def private_dir(path: str) -> bool:
    """Whether ``path`` is a directory (not a link to one) owned by this user and not writable
    by group or others: only then may what awsguard keeps in it steer anything."""
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return False
    return (
        (st.st_mode & _S_IFMT) == _S_IFDIR and st.st_uid == os.getuid() and not st.st_mode & 0o022
    )


def decode_newlines(text: str) -> str:
    """Universal newlines, as ``open()`` in text mode gives them: CRLF and CR become LF."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def atomic_replace(
    path: str,
    data: bytes,
    *,
    mode: int = 0o600,
    durable: bool = False,
    make_parents: bool = False,
    owner: tuple[int, int] | None = None,
    check: Callable[[], None] | None = None,
    temp: str | None = None,
    step: Callable[[str], None] | None = None,
    hold_signals: bool = False,
) -> None:
    """Replace ``path`` with ``data`` all at once: readers see the old file or the new one.

    The new file is created beside ``path`` (same directory, so the rename stays on one file
    system) with ``O_EXCL`` under a name no other writer uses, given ``mode``, written in full,
    ``fsync``ed when ``durable`` (and the directory after the rename), then renamed over ``path``.
    Raises OSError; whatever happens, the temporary file does not outlive the call.

    For editors of user files (:mod:`awsguard.host.safewrite`): ``owner`` (uid, gid) is given
    to the new file before the rename (a failure aborts it); ``check`` runs just before the
    rename and aborts it by raising (the target changed under us); ``temp`` names the temporary
    file (it must be beside ``path``); ``step`` is called with the name of each step before it
    runs ("temp-open", "temp-write", "temp-fsync", "temp-owner", "recheck", "rename",
    "dirsync"), for fault-injection tests.  "dirsync" comes after the rename: an error raised
    there leaves the new file in place.

    ``hold_signals``: the signals whose default action ends the process (Ctrl-C, ``kill``, a
    hang-up, timers) are held from before the temporary file exists until it is gone, then
    delivered: a process killed by one mid-write leaves nothing behind (the shim's memo).
    Editors of user files have their own watcher for that (:mod:`awsguard.host.safewrite`).
    """
    directory = os.path.dirname(path) or "."
    if make_parents:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    tmp = temp or _temp_name(path)
    held = _hold() if hold_signals else None
    try:
        _write_then_rename(path, tmp, data, directory, mode, durable, owner, check, step)
    finally:
        if held is not None:
            _release(held)


def _write_then_rename(
    path: str,
    tmp: str,
    data: bytes,
    directory: str,
    mode: int,
    durable: bool,
    owner: tuple[int, int] | None,
    check: Callable[[], None] | None,
    step: Callable[[str], None] | None,
) -> None:
    fd = -1
    created = False
    try:
        if step:
            step("temp-open")
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode & 0o777
        )
        created = True
        os.fchmod(fd, mode & 0o7777)  # the umask narrowed what O_CREAT set
        if step:
            step("temp-write")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            if step:
                step("temp-fsync")
            os.fsync(fd)
        if owner is not None:
            if step:
                step("temp-owner")
            st = os.fstat(fd)
            if (st.st_uid, st.st_gid) != owner:
                os.fchown(fd, *owner)
                os.fchmod(fd, mode & 0o7777)  # chown clears set-id bits; keep the mode exact
        os.close(fd)
        fd = -1
        if check is not None:
            if step:
                step("recheck")
            check()
        if step:
            step("rename")
        os.replace(tmp, path)
        created = False
        if durable:
            if step:
                step("dirsync")
            fsync_dir(directory)
    finally:
        if fd >= 0:
            os.close(fd)
        if created:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# Signals whose default action ends the process and that a person or a timer sends.
_HELD = (
    "SIGINT",
    "SIGTERM",
    "SIGHUP",
    "SIGQUIT",
    "SIGALRM",
    "SIGVTALRM",
    "SIGPROF",
    "SIGUSR1",
    "SIGUSR2",
    "SIGXCPU",
)


def _hold() -> object:
    import _signal  # type: ignore[import-not-found]  # `signal` imports enum: ~3 ms

    held = {getattr(_signal, name) for name in _HELD if hasattr(_signal, name)}
    return _signal.pthread_sigmask(_signal.SIG_BLOCK, held)


def _release(previous: object) -> None:
    import _signal

    _signal.pthread_sigmask(_signal.SIG_SETMASK, previous)


def fsync_dir(directory: str) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _temp_name(path: str) -> str:
    """A name beside ``path`` that no other process or call picks: pid and a random part."""
    head, _, tail = path.rpartition("/")
    prefix = f"{head}/" if head else ""
    return f"{prefix}.{tail}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
