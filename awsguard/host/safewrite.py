"""Edit a user's file (``~/.aws/credentials``) as safely as a file can be edited.

The AWS CLI rewrites its files in place, without a lock, a temporary file or an ``fsync``
(docs/hostile-inputs.md §3); other tools that "fixed" these files lost comments, indentation,
symlinks or modes.  This module is the one editor awsguard uses (``awsguard fix`` is its first
user).  What it promises:

* **format-preserving** - an edit is a set of whole lines removed (and lines appended at the
  end).  Lines are the file's own byte records (``\\n``, ``\\r\\n`` or ``\\r``, as the CLI's
  universal-newline reader splits them); every other byte - comments, blank lines, order,
  indentation, CRLF, a missing final newline, a BOM, bytes that are not UTF-8 - is copied as is;
* **atomic** - the new content goes to a temporary file beside the *target* (symlinks are
  resolved, the link itself is kept), created ``O_EXCL``, written, ``fsync``ed, given the
  original's owner and its mode (tightened to at most 0600 for private files), renamed over the
  target, then the directory is ``fsync``ed: :func:`awsguard.host.fileio.atomic_replace` does
  the writing.  A file with several hard links is refused (the rename would split it), so is a
  file owned by someone else, a symlink loop, a dangling link, anything not a regular file;
* **backed up** - before the replace, ``<file>.awsguard-<UTC timestamp>`` (mode 0600, beside
  the path the CLI uses, never overwriting another backup: written under a temporary name,
  ``fsync``ed, then hard-linked to a name that does not exist yet, so it is complete or absent);
* **concurrency** - awsguard's own writers take an ``flock`` on the directories involved; the
  AWS CLI and other tools take no lock, so just before the rename the target's identity (device,
  inode, size, times, mode) and content are compared with what was read: any change aborts and
  nothing is replaced.  After the rename the inode that was read is looked at once more (kept
  open): a writer that opened it in the last instant wrote into a file that is no longer the
  target, and the caller gets its content back to put it in place;
* **no leftovers** - a temporary file never outlives a failure: ``atomic_replace`` removes it
  on every error; a watchdog child process removes it when awsguard itself is killed
  (``SIGKILL`` runs no cleanup code); stale ones of dead processes are swept at the next run.

Fault injection for the tests (tests/test_safewrite_faults.py): ``AWSGUARD_TEST_FAULT``, see
:mod:`awsguard.host.faults`; the steps, in order, are :data:`STEPS`.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import signal
import time

from awsguard.errors import AwsGuardError
from awsguard.host.faults import faults
from awsguard.host.fileio import atomic_replace, fsync_dir, is_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

# Every step of one edit, in order.  "lock" .. "dirsync" happen here or in atomic_replace;
# "record", "proof" and "done" are the caller's (fix: the undo record, the proof, the end).
STEPS = (
    "lock",
    "read",
    "backup-open",
    "backup-write",
    "backup-fsync",
    "backup-link",
    "backup-dirsync",
    "temp-open",
    "temp-write",
    "temp-fsync",
    "temp-owner",
    "recheck",
    "rename",
    "dirsync",
    "record",
    "proof",
    "done",
)

MAX_SIZE = 64 << 20  # a credentials file is kilobytes; beyond this nothing is edited
LOCK_WAIT = 30.0  # seconds to wait for another awsguard editing the same directory
_BACKUP_TAG = ".awsguard-"


class Changed(AwsGuardError):
    """The file changed between reading and replacing it: nothing was replaced."""


# -- lines -------------------------------------------------------------------------------------


def split_lines(data: bytes) -> list[bytes]:
    """The file's line records, each with its own terminator (``\\n``, ``\\r\\n`` or ``\\r``;
    the last one may have none).  Record *n* is line *n* of the CLI's universal-newline reader:
    ``bytes.splitlines`` splits on exactly those three, and no UTF-8 sequence contains 0x0A or
    0x0D."""
    return data.splitlines(keepends=True)


def terminator(record: bytes) -> bytes:
    if record.endswith(b"\r\n"):
        return b"\r\n"
    if record.endswith((b"\n", b"\r")):
        return record[-1:]
    return b""


def newline_of(records: Sequence[bytes]) -> bytes:
    """The newline the file uses (that of its first terminated line), ``\\n`` if none."""
    for record in records:
        end = terminator(record)
        if end:
            return end
    return b"\n"


class LineEdit:
    """Whole lines removed (1-based numbers) and lines appended at the end.

    An appended item is either new bytes (no terminator) or the number of an existing line to
    copy (its text, without its terminator).  Appended lines get the file's own newline; when
    the last kept line has no terminator it gets one first (aws-cli#2996: appending to a
    file without a final newline glued the new section onto its last line).
    """

    __slots__ = ("append", "remove")

    def __init__(self, remove: Iterable[int] = (), append: Sequence[bytes | int] = ()) -> None:
        self.remove = frozenset(remove)
        self.append = list(append)

    def __bool__(self) -> bool:
        return bool(self.remove or self.append)


def apply_edit(data: bytes, edit: LineEdit) -> bytes:
    """``data`` with ``edit`` applied; every byte of every kept line is unchanged."""
    records = split_lines(data)
    kept = [r for n, r in enumerate(records, 1) if n not in edit.remove]
    if edit.append:
        newline = newline_of(records)
        if kept and not terminator(kept[-1]):
            kept[-1] = kept[-1] + newline
        for item in edit.append:
            if isinstance(item, int):
                record = records[item - 1]
                item = record[: len(record) - len(terminator(record))]
            kept.append(item + newline)
    return b"".join(kept)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- fault injection (tests) ---------------------------------------------------------------------


# -- the watchdog: temporary files survive no kill ------------------------------------------------


class Watchdog:
    """A child process that removes the named temporary files if awsguard dies before it says
    it is done.  ``SIGKILL`` runs no cleanup code in the process it kills; the child learns of
    the death from the end of a pipe and unlinks whatever is still registered."""

    def __init__(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; exercised by the kill tests
            try:
                _watch(read_end, write_end)
            finally:
                os._exit(0)
        os.close(read_end)
        self._fd = write_end
        self._pid = pid

    def _send(self, tag: bytes, name: str) -> None:
        if self._fd >= 0:
            os.write(self._fd, tag + os.fsencode(name) + b"\0")

    def add(self, name: str) -> None:
        """Register ``name`` before it is created."""
        self._send(b"+", name)

    def drop(self, name: str) -> None:
        """``name`` is gone (renamed or removed): nothing to clean up for it."""
        self._send(b"-", name)

    def close(self) -> None:
        if self._fd < 0:
            return
        try:
            os.write(self._fd, b"!\0")
        finally:
            os.close(self._fd)
            self._fd = -1
            try:
                os.waitpid(self._pid, 0)
            except ChildProcessError:
                pass


def _watch(read_end: int, write_end: int) -> None:  # pragma: no cover - runs in the child
    os.close(write_end)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE):
        signal.signal(signum, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, read_end)
    os.closerange(read_end + 1, 1 << 16)
    names: set[bytes] = set()
    done = False
    buffer = b""
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        buffer += chunk
        *records, buffer = buffer.split(b"\0")
        for record in records:
            if record == b"!":
                done = True
            elif record[:1] == b"+":
                names.add(record[1:])
            elif record[:1] == b"-":
                names.discard(record[1:])
    if not done:
        for name in names:
            try:
                os.unlink(name)
            except OSError:
                pass


# -- temporary names and stale ones ---------------------------------------------------------------


def temp_name(path: str) -> str:
    """A name beside ``path`` no other process picks, recognisable as awsguard's and its pid's."""
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}{_BACKUP_TAG}{os.getpid()}-{os.urandom(4).hex()}.tmp")


def sweep_stale(path: str) -> list[str]:
    """Remove temporary files beside ``path`` left by awsguard processes that no longer exist
    (a kill that took the watchdog too).  Only this user's regular files are touched."""
    head, tail = os.path.split(path)
    prefix = f".{tail}{_BACKUP_TAG}"
    removed: list[str] = []
    try:
        names = os.listdir(head or ".")
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(prefix) :].partition("-")[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        full = os.path.join(head, name)
        try:
            st = os.lstat(full)
            if is_regular(st.st_mode) and st.st_uid == os.geteuid():
                os.unlink(full)
                removed.append(full)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the target ---------------------------------------------------------------------------------


class Target:
    """The file as it was read: the path the CLI uses, the real file behind it, its bytes and
    its status; ``fd`` stays open on the inode that was read until :meth:`Session.__exit__`."""

    __slots__ = ("data", "fd", "mode", "path", "real", "st", "tightened")

    def __init__(
        self, path: str, real: str, data: bytes, st: os.stat_result, fd: int, private: bool
    ) -> None:
        self.path = path
        self.real = real
        self.data = data
        self.st = st
        self.fd = fd
        perms = st.st_mode & 0o7777
        self.mode = perms & 0o600 if private else perms & 0o777
        self.tightened = self.mode != perms


_KINDS = {0o010000: "a FIFO", 0o020000: "a character device", 0o060000: "a block device",
          0o140000: "a socket", 0o040000: "a directory"}  # fmt: skip


def _refuse(path: str, why: str, hint: str) -> AwsGuardError:
    return AwsGuardError(f"{path}: {why}", hint)


def inspect(path: str, *, private: bool, shown: str | None = None) -> Target:
    """Open the file at ``path`` for editing: resolve symlinks, refuse what cannot be edited
    safely (with the reason), read it.  Writes nothing.  ``shown`` is how messages name it."""
    name = shown or path
    try:
        os.lstat(path)
    except FileNotFoundError:
        raise _refuse(name, "does not exist", "nothing to edit") from None
    except OSError as exc:
        raise _refuse(name, f"cannot be looked at ({exc.strerror})", "check the path") from None
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(
                name, "is a symlink loop", "point the link at the real file, then run this again"
            ) from None
        raise _refuse(
            name,
            "is a symlink to a file that does not exist",
            "point the link at the real file, then run this again",
        ) from None
    st = os.stat(real)
    if not is_regular(st.st_mode):
        kind = _KINDS.get(st.st_mode & 0o170000, "not a regular file")
        raise _refuse(
            name,
            f"is {kind}, not a regular file",
            "awsguard edits only regular files; the AWS CLI reads it as absent",
        )
    if st.st_uid != os.geteuid():
        raise _refuse(
            name,
            f"is owned by uid {st.st_uid}, and awsguard runs as uid {os.geteuid()}",
            "run awsguard fix as the user who owns the file (not through sudo)",
        )
    if st.st_nlink > 1:
        raise _refuse(
            name,
            f"has {st.st_nlink} hard links",
            "replacing it would split them (the other names would keep the keys); "
            "edit it by hand, or make it a single file first",
        )
    for directory in {os.path.dirname(real) or ".", os.path.dirname(path) or "."}:
        # No write bit at all is a deliberate "read-only", respected even by root (whom the
        # kernel would let write anyway); otherwise the kernel's own answer for this user.
        try:
            dir_mode = os.stat(directory).st_mode & 0o777
        except OSError:
            dir_mode = 0
        if not dir_mode & 0o222:
            raise _refuse(
                name,
                f"its directory {directory} is read-only (mode {dir_mode:04o})",
                "awsguard writes the new file and the backup there; nothing was changed",
            )
        if not os.access(directory, os.W_OK | os.X_OK):
            raise _refuse(
                name,
                f"its directory {directory} is not writable",
                "awsguard writes the new file and the backup there; nothing was changed",
            )
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise _refuse(
            name,
            f"cannot be read ({exc.strerror})",
            "the AWS CLI silently reads an unreadable file as empty; fix its permissions",
        ) from None
    try:
        fst = os.fstat(fd)
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino) or not is_regular(fst.st_mode):
            raise Changed(f"{name} changed while awsguard was opening it", "run this again")
        if fst.st_size > MAX_SIZE:
            raise _refuse(
                name,
                f"is larger than {MAX_SIZE >> 20} MiB",
                "awsguard does not edit a file that large",
            )
        data = _read_fd(fd, MAX_SIZE + 1)
        if len(data) > MAX_SIZE:
            raise _refuse(name, f"is larger than {MAX_SIZE >> 20} MiB", "edit it by hand")
    except BaseException:
        os.close(fd)
        raise
    return Target(path, real, data, fst, fd, private)


def _read_fd(fd: int, limit: int) -> bytes:
    chunks = []
    offset = 0
    while offset < limit:
        chunk = os.pread(fd, min(1 << 20, limit - offset), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (
        a.st_dev == b.st_dev
        and a.st_ino == b.st_ino
        and a.st_size == b.st_size
        and a.st_mtime_ns == b.st_mtime_ns
        and a.st_ctime_ns == b.st_ctime_ns
        and a.st_mode == b.st_mode
        and a.st_nlink == b.st_nlink
    )


def read_current(path: str) -> bytes | None:
    """The bytes at ``path`` now (following links), or None when it is not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not is_regular(os.fstat(fd).st_mode):
            return None
        return _read_fd(fd, MAX_SIZE + 1)
    finally:
        os.close(fd)


# -- one editing session ------------------------------------------------------------------------


class Session:
    """One edit of one file: the directory locks, the watchdog, the fault hook.

    Use as a context manager; inside, :meth:`read` the target, make a :meth:`backup`,
    :meth:`replace` it.  Every method raises :class:`AwsGuardError` (``Changed`` for a
    concurrent change) with what happened and what is left; nothing is replaced on any error
    before the rename.
    """

    def __init__(
        self, path: str, *, private: bool, environ: Mapping[str, str], shown: str | None = None
    ) -> None:
        self.path = path
        self.private = private
        self.shown = shown or path
        self.hook = faults(environ, STEPS)
        self._locks: list[int] = []
        self._targets: list[Target] = []
        self._watchdog: Watchdog | None = None

    def step(self, name: str) -> None:
        if self.hook is not None:
            self.hook(name)

    def __enter__(self) -> Session:
        try:
            self.step("lock")
            real = os.path.realpath(self.path)
            dirs = sorted({os.path.dirname(self.path) or ".", os.path.dirname(real) or "."})
            for directory in dirs:
                self._locks.append(lock_directory(directory, self.shown))
            for candidate in {self.path, real}:
                sweep_stale(candidate)
            self._watchdog = Watchdog()
        except OSError as exc:
            self._release()
            raise AwsGuardError(
                f"could not lock the directory of {self.shown}: {exc.strerror or exc}",
                "nothing was changed",
            ) from None
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        if self._watchdog is not None:
            self._watchdog.close()
            self._watchdog = None
        for target in self._targets:
            try:
                os.close(target.fd)
            except OSError:
                pass
        self._targets = []
        for fd in reversed(self._locks):
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        self._locks = []

    def read(self) -> Target:
        try:
            self.step("read")
            target = inspect(self.path, private=self.private, shown=self.shown)
        except OSError as exc:
            raise AwsGuardError(
                f"could not read {self.shown}: {exc.strerror or exc}", "nothing was changed"
            ) from None
        self._targets.append(target)
        return target

    # backups

    def backup(self, target: Target) -> str:
        """Copy the bytes that were read to ``<path>.awsguard-<UTC time>`` (beside the path the
        CLI uses: a symlink into a dotfiles repository must not put a copy of the secrets in
        that repository), mode 0600; returns its path."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        base = f"{target.path}{_BACKUP_TAG}{stamp}"
        tmp = temp_name(target.path)
        name = ""
        try:
            self._write_new(tmp, target.data, "backup")
            self.step("backup-link")
            name = _link_unique(tmp, base, target.data)
            self.step("backup-dirsync")
            fsync_dir(os.path.dirname(name) or ".")
            return name
        except OSError as exc:
            if name:
                self.discard(name)
            raise AwsGuardError(
                f"could not write the backup of {self.shown}: {exc.strerror or exc}",
                "nothing was changed",
            ) from None
        finally:
            self._unlink(tmp)

    def _write_new(self, name: str, data: bytes, what: str) -> None:
        assert self._watchdog is not None
        self._watchdog.add(name)
        self.step(f"{what}-open")
        fd = os.open(
            name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            self.step(f"{what}-write")
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            self.step(f"{what}-fsync")
            os.fsync(fd)
        finally:
            os.close(fd)

    def _unlink(self, name: str) -> None:
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
        except OSError:
            return  # left registered: the watchdog tries once more
        if self._watchdog is not None:
            self._watchdog.drop(name)

    def discard(self, backup: str) -> None:
        """Remove a backup that turned out to be needless (nothing was replaced)."""
        try:
            os.unlink(backup)
        except OSError:
            pass

    # the replace

    def replace(self, target: Target, new: bytes) -> bool:
        """Atomically replace the target's real file with ``new`` if it is still exactly what
        was read.  Returns False when the rename happened but the directory could not be
        ``fsync``ed (the change is made; a crash right now might still undo it)."""
        assert self._watchdog is not None
        tmp = temp_name(target.real)
        self._watchdog.add(tmp)
        try:
            atomic_replace(
                target.real,
                new,
                mode=target.mode,
                durable=True,
                owner=(target.st.st_uid, target.st.st_gid),
                check=lambda: self._recheck(target),
                temp=tmp,
                step=self.hook,
            )
        except Changed:
            raise
        except OSError as exc:
            if read_current(target.real) == new and new != target.data:
                return False  # after the rename: only the directory fsync failed
            raise AwsGuardError(
                f"could not replace {self.shown}: {exc.strerror or exc}",
                "nothing was changed (the file is as it was)",
            ) from None
        finally:
            self._watchdog.drop(tmp)
        return True

    def _recheck(self, target: Target) -> None:
        """Just before the rename: the path still leads to the same file, unchanged."""
        changed = Changed(
            f"{self.shown} changed while awsguard was editing it (another program wrote it)",
            "nothing was replaced; run the command again",
        )
        try:
            real = os.path.realpath(target.path, strict=True)
            st = os.stat(real)
        except OSError:
            raise changed from None
        if real != target.real or not _same(st, target.st):
            raise changed
        if read_current(real) != target.data:
            raise changed

    def orphaned(self, target: Target) -> bytes | None:
        """After the replace: the content of the inode that was read, if someone wrote to it
        since it was read - their write went to a file that is no longer the target.  A writer
        that opened it (``O_TRUNC``) may still be writing: the content is taken once it has
        stopped changing (the CLI writes a whole file in one call; bounded wait)."""
        previous: tuple[int, int, bytes] | None = None
        deadline = time.monotonic() + 5.0
        while True:
            try:
                st = os.fstat(target.fd)
                data = _read_fd(target.fd, MAX_SIZE + 1)
            except OSError:
                return None
            if data == target.data:
                return None
            now = (st.st_size, st.st_mtime_ns, data)
            if now == previous or time.monotonic() > deadline:
                return data
            previous = now
            time.sleep(0.05)

    def put_back(self, expected: bytes, content: bytes) -> bool:
        """Replace the file with ``content`` if it still holds exactly ``expected`` (what this
        session wrote).  False when it holds something else (then nothing is touched)."""
        target = self.read()
        if target.data != expected:
            return False
        try:
            self.replace(target, content)
        except Changed:
            return False
        return True


def _link_unique(tmp: str, base: str, data: bytes) -> str:
    """Give the complete file ``tmp`` a backup name that exists nowhere yet (``link`` fails
    rather than replace); ``-2``, ``-3``… when the second already has one."""
    for n in range(1, 1000):
        name = base if n == 1 else f"{base}-{n}"
        try:
            os.link(tmp, name, follow_symlinks=False)
            return name
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EOPNOTSUPP):
                raise
            return _create_unique_copy(name, base, n, data)  # a file system without hard links
    raise OSError(errno.EEXIST, "too many backups with the same time stamp")


def _create_unique_copy(name: str, base: str, n: int, data: bytes) -> str:
    for m in range(n, 1000):
        name = base if m == 1 else f"{base}-{m}"
        try:
            fd = os.open(
                name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
            )
        except FileExistsError:
            continue
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        return name
    raise OSError(errno.EEXIST, "too many backups with the same time stamp")


def lock_directory(directory: str, shown: str, wait: float = LOCK_WAIT) -> int:
    """An exclusive ``flock`` on ``directory`` (awsguard's writers only; the AWS CLI takes
    none).  Locking the directory needs no lock file and works where no file can be created."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise AwsGuardError(
                    f"another awsguard is editing files beside {shown}",
                    "wait for it to finish, then run this again",
                ) from None
            time.sleep(0.02)
        except OSError:
            os.close(fd)
            raise


# -- what fix wrote: the record undo relies on ----------------------------------------------------

_HISTORY_NAME = "fix-history.json"
_HISTORY_KEEP = 20  # entries per file


def history_path(data_dir: str) -> str:
    return os.path.join(data_dir, _HISTORY_NAME)


def _load_history(data_dir: str) -> dict[str, list[dict[str, str]]]:
    from awsguard.host.fileio import read_private

    try:
        raw = read_private(history_path(data_dir), derived=True)
    except OSError:
        return {}
    if raw is None:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        return {}
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict):
        return {}
    out: dict[str, list[dict[str, str]]] = {}
    for key, entries in files.items():
        if isinstance(key, str) and isinstance(entries, list):
            good = [
                e
                for e in entries
                if isinstance(e, dict)
                and all(isinstance(e.get(k), str) for k in ("backup", "before", "after", "time"))
            ]
            if good:
                out[key] = good
    return out


def _save_history(data_dir: str, files: dict[str, list[dict[str, str]]]) -> None:
    doc = {"schema": 1, "files": files}
    atomic_replace(
        history_path(data_dir),
        json.dumps(doc, indent=1, sort_keys=True).encode() + b"\n",
        mode=0o600,
        durable=True,
        make_parents=True,
    )


def _edit_history(data_dir: str, change: Callable[[dict[str, list[dict[str, str]]]], None]) -> None:
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    fd = lock_directory(data_dir, history_path(data_dir))
    try:
        files = _load_history(data_dir)
        change(files)
        _save_history(data_dir, files)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def record_write(data_dir: str, real: str, entry: dict[str, str]) -> None:
    """Remember that fix replaced ``real`` (digests of the bytes before and after, the backup)."""

    def change(files: dict[str, list[dict[str, str]]]) -> None:
        entries = files.setdefault(real, [])
        entries.append(entry)
        del entries[:-_HISTORY_KEEP]

    _edit_history(data_dir, change)


def forget_write(data_dir: str, real: str, entry: dict[str, str]) -> None:
    def change(files: dict[str, list[dict[str, str]]]) -> None:
        entries = [e for e in files.get(real, []) if e != entry]
        if entries:
            files[real] = entries
        else:
            files.pop(real, None)

    _edit_history(data_dir, change)


def last_write(data_dir: str, real: str) -> dict[str, str] | None:
    """The newest record of a fix of ``real`` whose backup still exists, or None."""
    for entry in reversed(_load_history(data_dir).get(real, [])):
        if os.path.lexists(entry["backup"]):
            return entry
    return None
