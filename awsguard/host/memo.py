"""Remembering the shim's quiet decisions, keyed by everything they were computed from.

Most ``aws`` calls are allowed without a word, and the same few profiles are used again and
again.  Working the answer out is cheap but not free (a 10,000-profile config takes tens of
milliseconds to validate), while the shim's budget is a fraction of the interpreter's own start.
So when a call is allowed silently, the shim stores the *inputs* of that decision:

* the global options of the command line that matter (profile, command, operation, flags),
* the real aws it found (path and file identity),
* every environment variable the decision read, with its value (or its absence),
* every file it looked at, with its identity (device, inode, size, mtime, ctime, mode) or
  its absence: config, credentials, caches, token files, the policy file, a
  ``credential_process`` program on PATH, and the rest,
* the earliest future expiry among the timestamps it parsed (a session that expires changes
  the answer without any file changing), capped at :data:`MAX_AGE` seconds.

The next call with equal inputs is allowed at once; any difference is a miss and the decision
is made again in full.  Recording happens where the resolver touches the outside world
(:func:`note_path`, :func:`note_time`, :class:`RecordingEnv`), so the key cannot fall behind
the code that reads.  Only allow-and-silent outcomes are stored: warnings and blocks are always
computed fresh.  The cache lives in awsguard's user-private cache directory and is only trusted
when this user owns it (see :func:`read_marshal`).
"""

from __future__ import annotations

import os

from awsguard import __version__
from awsguard.host.fileio import atomic_replace, read_private
from awsguard.host.record import Recording, RecordingEnv, StatKey, stat_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TypeVar

    T = TypeVar("T")

# Another version of awsguard may decide differently: its memo starts empty.
SCHEMA = (1, __version__)
MAX_AGE = 300.0  # seconds: a bound on anything time-dependent we failed to see
MAX_ENTRIES = 32
FILE = "shim-decisions.marshal"

# A file written this recently may be written again within the same timestamp tick (file times
# come from a coarse clock; some filesystems keep whole seconds) with the same size, and its
# identity would not change: nothing is remembered about it until its mtime is this old ("racy
# git", git's Documentation/technical/racy-git.txt).  Only the mtime counts: any later write
# sets it to the time of that write, so an old mtime cannot hide one.
SETTLE_NS = 2_000_000_000


def settled(key: StatKey | tuple[int, ...], now: float) -> bool:
    """Whether a file with identity ``key`` was last written well before ``now``."""
    if not isinstance(key, tuple):
        return True  # absent: its appearance changes the key
    return key[3] < int(now * 1e9) - SETTLE_NS


def by_file(
    cache_dir: str | None,
    tag: str,
    path: str,
    identity: tuple[int, ...],
    compute: Callable[[], T],
) -> T:
    """``compute()``, remembered for the file at ``path`` while its ``identity`` (device, inode,
    size, mtime, ctime: mtime at index 3) stays the same.

    One small marshal file per (``tag``, ``path``) in ``cache_dir``.  What ``compute`` returns
    must be marshal-able; what it raises propagates and is not remembered.  Nothing is stored
    while the file is unsettled (see :func:`settled`).
    """
    if not cache_dir:
        return compute()
    import time

    from awsguard.predict.identity import sha1_hex

    cache_path = f"{cache_dir}/{tag.partition('-')[0]}-{sha1_hex(path)[:16]}.marshal"
    key = (tag, path, identity)
    hit = read_marshal(cache_path)
    if isinstance(hit, tuple) and len(hit) == 2 and hit[0] == key:
        return hit[1]  # type: ignore[no-any-return]
    value = compute()
    if settled(identity, time.time()):
        write_marshal(cache_path, (key, value))
    return value


def _path(cache_dir: str) -> str:
    return f"{cache_dir}/{FILE}"


def lookup(
    key: tuple[object, ...], environ: Mapping[str, str], cache_dir: str | None, now: float
) -> bool:
    """Whether a stored quiet decision matches ``key`` and the current environment and files."""
    if not cache_dir:
        return False
    data = read_marshal(_path(cache_dir))
    if not isinstance(data, tuple) or len(data) != 2 or data[0] != SCHEMA:
        return False
    entries = data[1]
    if not isinstance(entries, list):
        return False
    for entry in entries:
        if not isinstance(entry, tuple) or len(entry) != 4 or entry[0] != key:
            continue
        _key, env, files, until = entry
        if not (isinstance(until, float) and now < until):
            continue
        if not isinstance(env, dict) or any(environ.get(k) != v for k, v in env.items()):
            continue
        if not isinstance(files, dict) or any(stat_key(p) != s for p, s in files.items()):
            continue
        return True
    return False


def store(
    key: tuple[object, ...],
    env: RecordingEnv,
    rec: Recording,
    cache_dir: str | None,
    now: float,
) -> None:
    """Remember a quiet decision made from ``env``'s reads and ``rec``'s files and times."""
    if not cache_dir or env.whole:
        return  # a decision that read every variable is keyed on all of them: not worth it
    if not all(settled(key, now) for path, key in rec.paths.items() if path not in rec.replaced):
        return  # a file that just changed: decide again next time
    until = now + MAX_AGE
    for ts in rec.times:
        if now < ts < until:
            until = ts
    entry = (key, dict(env.read), dict(rec.paths), float(until))
    old = read_marshal(_path(cache_dir))
    kept: list[object] = []
    if isinstance(old, tuple) and len(old) == 2 and old[0] == SCHEMA and isinstance(old[1], list):
        kept = [
            e
            for e in old[1]
            if isinstance(e, tuple) and len(e) == 4 and (e[0], e[1]) != (key, entry[1])
        ]
    kept.append(entry)
    write_marshal(_path(cache_dir), (SCHEMA, kept[-MAX_ENTRIES:]))


# -- small marshal files (user-private) --------------------------------------------------------


# awsguard's marshal files start with this and the length of what follows: marshal trusts its
# input (a corrupt length field can make it allocate gigabytes), so anything that is not a whole
# file awsguard wrote - garbage, a truncated or foreign file - is refused before it is parsed.
_MAGIC = b"awsguard-marshal-1\n"


def read_marshal(path: str, limit: int = 64 << 20, *, derived: bool = True) -> object:
    """The object in a cache file awsguard wrote, or None.  Only files owned by this user and
    not writable by others are trusted (marshal data must come from us), and only whole files
    in awsguard's framing.  ``derived``: see :func:`awsguard.host.fileio.read_private`."""
    import marshal

    try:
        got = read_private(path, limit + len(_MAGIC) + 9, derived=derived)
        if got is None or not got.startswith(_MAGIC):
            return None
        size = int.from_bytes(got[len(_MAGIC) : len(_MAGIC) + 8], "big")
        body = got[len(_MAGIC) + 8 :]
        if size != len(body) or size > limit:
            return None
        return marshal.loads(body)
    except (OSError, ValueError, EOFError, TypeError, MemoryError):
        return None


# The writer's steps as AWSGUARD_TEST_FAULT names them (tests/test_shim.py).
MEMO_STEPS = ("memo-temp-open", "memo-temp-write", "memo-rename")


def _test_step() -> Callable[[str], None] | None:
    if "AWSGUARD_TEST_FAULT" not in os.environ:
        return None
    from awsguard.host.faults import faults

    hook = faults(os.environ, MEMO_STEPS)
    if hook is None:
        return None
    named = hook
    return lambda step: named("memo-" + step)


def write_marshal(path: str, value: object) -> None:
    """Atomically replace ``path`` with ``value``; a failure leaves things as they were."""
    import marshal

    try:
        data = marshal.dumps(value)  # type: ignore[arg-type]
    except ValueError:
        return
    try:
        framed = _MAGIC + len(data).to_bytes(8, "big") + data
        atomic_replace(
            path, framed, mode=0o600, make_parents=True, hold_signals=True, step=_test_step()
        )
    except OSError:
        pass
