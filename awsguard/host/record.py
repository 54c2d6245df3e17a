"""What one decision read: the tape the memo keys on.

Every input of a decision is recorded where awsguard touches the world - a file through
:func:`awsguard.host.fileio.read_regular` (or :func:`note_path` for a path whose mere existence
or type matters), the clock through :func:`note_time`, the environment through
:class:`RecordingEnv` - so the memo's key cannot fall behind the code that reads.  Recording is
off (every call a no-op) unless a decision is between :func:`start` and :func:`stop`.

A leaf of the package: it imports only ``os``, so the pure prediction layer can record its
reads without knowing about the memo.
"""

from __future__ import annotations

import os

# The ABC itself, without importing the `collections` package (~2 ms): `os` has loaded it.
from _collections_abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

StatKey = tuple[int, int, int, int, int, int] | int
MISSING = 0  # stat key of a path that does not exist (ENOENT / ENOTDIR)
UNREADABLE = 1  # stat key of a path that could not be examined (any other error)


def stat_key(path: str) -> StatKey:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return MISSING
    except (OSError, ValueError):
        return UNREADABLE
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


class Recording:
    __slots__ = ("paths", "replaced", "times")

    def __init__(self) -> None:
        self.paths: dict[str, StatKey] = {}
        self.times: list[float] = []
        self.replaced: set[str] = set()  # only ever written by rename: no racy rewrite


_active: Recording | None = None


def note_path(path: str, *, replaced: bool = False) -> None:
    """The decision is about to depend on ``path`` (its content, type or existence).

    Call it *before* looking at the file: a change between the two makes the next lookup miss.
    ``replaced``: awsguard's own file, only ever written to a temporary name and renamed into
    place, so every write gives it a new inode and the racy-rewrite rule need not wait for it.
    """
    rec = _active
    if rec is not None and path not in rec.paths:
        rec.paths[path] = stat_key(path)
        if replaced:
            rec.replaced.add(path)


def note_time(ts: float) -> None:
    """The decision compared ``ts`` (an expiry) with the current time."""
    rec = _active
    if rec is not None:
        rec.times.append(ts)


class RecordingEnv(Mapping[str, str]):
    """A read-only view of an environment that remembers which names were asked for.

    Supports what the resolver uses of a mapping: ``get``, ``[]``, ``in``.  Iterating over all
    names marks the whole environment as read.
    """

    __slots__ = ("_env", "read", "whole")

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.read: dict[str, str | None] = {}
        self.whole = False

    @property
    def inner(self) -> Mapping[str, str]:
        """The environment itself: reads through it are not recorded."""
        return self._env

    def __getitem__(self, name: str) -> str:
        value = self._env.get(name)
        self.read[name] = value
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        value = self._env.get(name)
        self.read[name] = value
        return default if value is None else value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        value = self._env.get(name)
        self.read[name] = value
        return value is not None

    def __iter__(self) -> Iterator[str]:
        self.whole = True
        return iter(self._env)

    def __len__(self) -> int:
        self.whole = True
        return len(self._env)


def start() -> None:
    """Begin recording the inputs of one decision."""
    global _active
    _active = Recording()


def stop() -> Recording | None:
    global _active
    rec, _active = _active, None
    return rec
