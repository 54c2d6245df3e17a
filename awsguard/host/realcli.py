"""Learning which CLI the real `aws` is, and so whose rules a decision follows (finding it lives
in :mod:`awsguard.host.findaws`).

:func:`semantics` is the one answer to "which aws, and which CLI's rules", for the shim, ``explain``
and the prompt alike.  Knowing the CLI (``cli_info``) needs its major version (v1 and v2 resolve
profiles differently, docs/credential-chain.md §12) and, for v1, whether botocore can load
``awscrt.crypto.EC`` (without it a ``login_session`` profile fails with
MissingDependencyException, §5.3).  That takes running ``aws --version`` once, so the answer is
cached in ``cli.marshal`` under the cache directory, keyed by the file's identity; a shim decision
reads that file and stats a few paths (the steady state does not even do that: see
awsguard.host.memo).  Everything that starts a process or imports ``subprocess``/``json`` is on the
miss path.
"""

from __future__ import annotations

import os
import time

from awsguard.host.findaws import (
    DEPTH_VAR,
    MAX_DEPTH,
    RealCliError,
    _show,
    find_real_aws,
)
from awsguard.host.memo import read_marshal, write_marshal
from awsguard.host.record import note_path
from awsguard.host.wrapper import python_interpreter
from awsguard.words import VARIABLES

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Mapping

PROBE_TIMEOUT = 5.0
CACHE_FILE = "cli.marshal"
_CACHE_SCHEMA = 2
_CACHE_MAX_BYTES = 256 * 1024
_CACHE_MAX_ENTRIES = 16
# A probe that learned nothing is retried as soon as anything it depended on changes (the files
# it ran, the variables that steer them); an odd wrapper that just fails is also retried after
# this long, one that timed out (a busy machine can be why) much sooner.  Not on every
# invocation: a hanging `aws --version` must not cost 5 s per command.
_RETRY_FAILED_AFTER = 3600
_RETRY_TIMED_OUT_AFTER = 60
# botocore/compat.py: ``EC`` exists only when awscrt imports and is at least this version.
_MIN_CRT_FOR_EC = (0, 28, 4)
# Variables that change what a pip-installed v1 imports; part of the cache key for such entries.
_PYTHON_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "PYTHONUSERBASE", "HOME")
# What a failed probe may have depended on besides files: the same, and where commands are found.
_FAILED_ENV = (*_PYTHON_ENV, "PATH")
_PROBE_LINE = "AWSGUARD-PROBE "
# Run with ``python -c CODE SCRIPT_DIR``.  sys.path[0] is made the script's directory (what it is
# when the script itself runs) instead of the current directory, then botocore/compat.py's test
# is repeated: ``import awscrt.auth``, version >= 0.28.4, ``from awscrt.crypto import EC``.
_PYTHON_PROBE = """\
import sys
if sys.path and sys.path[0] == "":
    sys.path[0] = sys.argv[1]
crt = False
try:
    import awscrt.auth
    if tuple(map(int, awscrt.__version__.split("."))) >= (0, 28, 4):
        from awscrt.crypto import EC
        crt = True
except Exception:
    pass
import json
print("AWSGUARD-PROBE " + json.dumps({"crt": crt, "path": [p for p in sys.path if isinstance(p, str)]}))
"""


class CliInfo:
    """What awsguard knows about the real CLI at ``path``.

    ``version`` is the ``aws-cli/X.Y.Z`` version or None; ``major`` 1, 2 or None (unknown: v2
    rules apply, see :func:`semantics`); ``crt`` whether the CLI can use a
    ``login_session`` (always True for v2, which bundles awscrt; for v1 whether botocore finds
    ``awscrt.crypto.EC`` under this environment's ``BOTO_DISABLE_CRT``) or None when unknown;
    ``botocore`` the botocore version a v1 CLI reports; ``varies`` why the CLI it runs may be
    v1 on one call and v2 on the next (:mod:`awsguard.host.wrapper`), None when it cannot.
    """

    __slots__ = ("botocore", "crt", "major", "path", "varies", "version")

    def __init__(
        self,
        path: str,
        version: str | None = None,
        major: int | None = None,
        crt: bool | None = None,
        botocore: str | None = None,
        varies: str | None = None,
    ) -> None:
        self.path = path
        self.version = version
        self.major = major
        self.crt = crt
        self.botocore = botocore
        self.varies = varies

    def __repr__(self) -> str:
        return (
            f"CliInfo(path={self.path!r}, version={self.version!r}, major={self.major!r}, "
            f"crt={self.crt!r}, botocore={self.botocore!r}, varies={self.varies!r})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CliInfo) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )


class Semantics:
    """Which real aws a call reaches and whose rules predict it.

    ``path`` is the real aws (None: none found), ``info`` what is known of it (None without a
    path).  ``majors`` are the major versions whose rules apply: ``(1,)`` or ``(2,)``, or
    ``(1, 2)`` when the aws found may run either CLI (a wrapper whose choice can vary): a decision
    is then made under both and the stricter verdict is taken.  ``major`` is the one to use where
    only one can be: ``AWSGUARD_CLI_MAJOR``, else the detected one, else 2 (the current CLI).
    """

    __slots__ = ("crt_disabled", "info", "major", "majors", "path")

    def __init__(
        self,
        path: str | None,
        info: CliInfo | None,
        majors: tuple[int, ...],
        major: int,
        crt_disabled: bool = False,
    ) -> None:
        self.path = path
        self.info = info
        self.majors = majors
        self.major = major
        self.crt_disabled = crt_disabled

    @property
    def rules(self) -> str:
        """``"v1"``, ``"v2"`` or ``"both"`` (the ``cli.rules`` of ``explain --json``)."""
        return "both" if len(self.majors) > 1 else f"v{self.majors[0]}"

    def crt(self, major: int) -> bool | None:
        """Whether the CLI under ``major``'s rules can use a ``login_session`` (None: unknown)."""
        if major == 2:
            return True if self.info is not None else None
        if self.crt_disabled:
            return False
        info = self.info
        return info.crt if info is not None and info.major == 1 else None


def semantics(
    environ: Mapping[str, str],
    *,
    probe: bool,
    path: str | None = None,
    cache_dir: str | None = None,
) -> Semantics:
    """The real aws and whose rules apply to a call under ``environ``.

    ``path``: the real aws when the caller has found it already (the shim, which skips itself by
    identity); otherwise it is looked for on PATH past awsguard's own bin directory.
    ``cache_dir``: where the version probe is cached (None: not cached).  ``probe=False`` never
    starts the CLI (the prompt): an unprobed CLI counts as v2.  Raises :class:`RealCliError` for
    a bad ``AWSGUARD_AWS`` or ``AWSGUARD_CLI_MAJOR``.
    """
    forced = major_override(environ)
    if path is None:
        from awsguard.host import dirs

        path = find_real_aws(environ, skip_dirs=[dirs.shim_bin_dir(environ)])
    info = cli_info(path, environ, cache_dir=cache_dir, probe=probe) if path else None
    major = forced or (1 if info is not None and info.major == 1 else 2)
    # Both CLIs' rules when the aws found may run either (awsguard.host.wrapper), and when the
    # probe could not tell which it is: not knowing is no reason to judge more leniently.
    either = info is not None and (info.varies is not None or info.major is None)
    majors = (1, 2) if forced is None and either else (major,)
    return Semantics(path, info, majors, major, _crt_disabled(environ))


# --- Which CLI it is --------------------------------------------------------------------------


def major_override(environ: Mapping[str, str]) -> int | None:
    value = environ.get("AWSGUARD_CLI_MAJOR")
    if not value:
        return None
    if VARIABLES["AWSGUARD_CLI_MAJOR"].problem(value) is None:
        return int(value)
    raise RealCliError(
        f"AWSGUARD_CLI_MAJOR={_show(value)} is not valid: accepted values are 1 and 2"
    )


def _crt_disabled(environ: Mapping[str, str]) -> bool:
    # botocore/compat.py reads it at import; only pip botocore (v1) has the switch.
    return environ.get("BOTO_DISABLE_CRT", "false").lower() == "true"


def _env_key(environ: Mapping[str, str], names: tuple[str, ...] = _PYTHON_ENV) -> str:
    return "\0".join(f"{name}={environ.get(name, '')}" for name in names)


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return None


def cli_info(
    path: str, environ: Mapping[str, str], *, cache_dir: str | None, probe: bool = True
) -> CliInfo:
    """Version, major and CRT support of the CLI at ``path``.

    ``AWSGUARD_CLI_MAJOR=1|2`` sets the major and means "do not run it": a cached probe still
    supplies the version, but a missing one is not made (anything else: ``RealCliError``).
    Otherwise a cache miss runs ``path --version`` once (and, for a v1 Python script, its
    interpreter once) and stores the answer in ``cache_dir/cli.marshal``; ``cache_dir=None``
    disables caching.  A failed probe gives None fields; so does a miss with ``probe=False``
    (the prompt never starts the CLI).
    """
    forced = major_override(environ)
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except (OSError, ValueError):
        return _info(path, None, forced, environ)
    ident = [st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev]
    note_path(real)
    cache = _read_cache(cache_dir) if cache_dir else None
    entry = _cached_entry(cache, real, ident, environ)
    if entry is None and forced is None and probe:
        entry = _probe(path, real, ident, environ)
        if cache_dir:
            _write_cache(cache_dir, cache, real, entry)
    return _info(path, entry, forced, environ)


def _info(
    path: str, entry: dict[str, object] | None, forced: int | None, environ: Mapping[str, str]
) -> CliInfo:
    # Entries are validated by _cached_entry or built by _probe; the isinstance checks narrow.
    fields: dict[str, object] = entry if entry is not None else {}
    version, botocore = fields.get("version"), fields.get("botocore")
    probed_major, probed_crt = fields.get("major"), fields.get("crt")
    varies = fields.get("varies")
    if not isinstance(version, str):
        version = None
    if not isinstance(botocore, str):
        botocore = None
    if not isinstance(probed_crt, bool):
        probed_crt = None
    major = forced
    if major is None and type(probed_major) is int and probed_major in (1, 2):
        major = probed_major
    crt: bool | None = None
    if major == 2:
        crt = True
    elif major == 1 and _crt_disabled(environ):
        crt = False
    elif major == 1 and probed_major == 1:
        crt = probed_crt
    return CliInfo(path, version, major, crt, botocore, varies if isinstance(varies, str) else None)


# --- The cache --------------------------------------------------------------------------------
#
# cli.marshal (awsguard's private marshal format, as the memo): {"schema": 1, "entries": {REALPATH: ENTRY}}, ENTRY = {
#   "id": [st_mtime_ns, st_size, st_ino, st_dev] of REALPATH,
#   "deps": [[path, st_mtime_ns or null], ...]  interpreter and sys.path of a v1 script: installing
#           or removing awscrt changes site-packages' mtime,
#   "env": _env_key() for entries whose answer depends on it, else null,
#   "at": probe time, "retry": seconds after which a failed probe is made again (else null),
#   "version", "major", "crt", "botocore",
#   "varies": why the aws may run either CLI (awsguard.host.wrapper), else null}
# "deps" also holds the files read to learn "varies" (a wrapper's targets, its interpreter).


def _read_cache(cache_dir: str) -> dict[str, object] | None:
    # Only a file this user owns and others cannot write (read_marshal): it steers which rules
    # apply.  Its content is an input of the decision: recorded for the memo.
    cache = read_marshal(os.path.join(cache_dir, CACHE_FILE), _CACHE_MAX_BYTES, derived=False)
    if not isinstance(cache, dict) or cache.get("schema") != _CACHE_SCHEMA:
        return None
    return cache


def _cached_entry(
    cache: dict[str, object] | None, real: str, ident: list[int], environ: Mapping[str, str]
) -> dict[str, object] | None:
    if cache is None:
        return None
    entries = cache.get("entries")
    entry = entries.get(real) if isinstance(entries, dict) else None
    if not isinstance(entry, dict) or entry.get("id") != ident:
        return None
    version, major, crt, botocore = (entry.get(k) for k in ("version", "major", "crt", "botocore"))
    at, env, deps, retry = entry.get("at"), entry.get("env"), entry.get("deps"), entry.get("retry")
    if (
        not (version is None or isinstance(version, str))
        or not (major is None or (type(major) is int and major in (1, 2)))
        or not (crt is None or isinstance(crt, bool))
        or not (botocore is None or isinstance(botocore, str))
        or not (entry.get("varies") is None or isinstance(entry.get("varies"), str))
        or not isinstance(at, int)
        or not (retry is None or type(retry) is int)
        or not isinstance(deps, list)
    ):
        return None
    if retry is not None and not 0 <= time.time() - at < retry:
        return None
    if env is not None and env != _env_key(
        environ, _FAILED_ENV if version is None else _PYTHON_ENV
    ):
        return None
    for dep in deps:
        if not (isinstance(dep, list) and len(dep) == 2 and isinstance(dep[0], str)):
            return None
        note_path(dep[0])
        if _mtime(dep[0]) != dep[1]:
            return None
    return entry


def _write_cache(
    cache_dir: str, old: dict[str, object] | None, real: str, entry: dict[str, object]
) -> None:
    """Atomically store ``entry``; any failure leaves the cache as it was, silently."""

    entries = old.get("entries") if old is not None else None
    kept = dict(entries) if isinstance(entries, dict) else {}
    kept.pop(real, None)
    kept[real] = entry
    while len(kept) > _CACHE_MAX_ENTRIES:
        del kept[next(iter(kept))]
    write_marshal(os.path.join(cache_dir, CACHE_FILE), {"schema": _CACHE_SCHEMA, "entries": kept})


# --- Probing (cache misses only) --------------------------------------------------------------


# What _run returns for a child that did not finish in time (compared by identity).
_TIMED_OUT = ("", "")


def _run(argv: list[str], env: dict[str, str]) -> tuple[str, str] | None:
    """(stdout, stderr) of ``argv``, never through a shell; None if it could not be started,
    :data:`_TIMED_OUT` if it did not finish in time.

    The child gets its own session: it cannot read the terminal (a wrapper asking for an MFA code
    fails instead of hanging), and on timeout its whole process group is killed, so a grandchild
    holding the pipes open cannot hang us either.
    """
    import subprocess

    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    try:
        out, err = proc.communicate(timeout=PROBE_TIMEOUT)
    except BaseException as exc:
        _kill_group(proc)
        if isinstance(exc, subprocess.TimeoutExpired):
            return _TIMED_OUT
        raise
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    import contextlib
    import signal
    import subprocess

    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.communicate(timeout=1)
    except (subprocess.TimeoutExpired, OSError, ValueError):
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=1)


def _version_tuple(version: str) -> tuple[int, ...] | None:
    # botocore/compat.py has_minimum_crt_version: tuple(map(int, v.split("."))).
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return None


_VERSION_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-")


def parse_version_output(text: str) -> tuple[str | None, int | None, str | None, bool | None]:
    """(version, major, botocore, crt) from ``aws --version`` output.

    v1: ``aws-cli/1.46.3 Python/3.11.7 Linux/6.8 awscrt/0.38.1 botocore/1.43.62`` (awscrt only
    when botocore can import it: botocore/session.py ``user_agent``); v2: ``aws-cli/2.32.0
    Python/3.13.7 Linux/6.8 exe/x86_64.ubuntu.24``.  ``crt`` is None unless the line names
    botocore (so the absence of awscrt means something).
    """
    for line in text.splitlines():
        tokens = line.split()
        if not tokens or not tokens[0].startswith("aws-cli/"):
            continue
        version = tokens[0][len("aws-cli/") :]
        if not version[:1].isdigit() or len(version) > 40 or not _VERSION_CHARS.issuperset(version):
            continue
        head = version.split(".", 1)[0]
        major = int(head) if head in ("1", "2") else None
        found = dict(token.partition("/")[::2] for token in tokens[1:] if "/" in token)
        botocore = found.get("botocore")
        if botocore is not None and not (
            botocore[:1].isdigit() and _VERSION_CHARS.issuperset(botocore)
        ):
            botocore = None
        crt: bool | None = None
        if botocore is not None:
            crt_version = _version_tuple(found["awscrt"]) if "awscrt" in found else None
            crt = crt_version is not None and crt_version >= _MIN_CRT_FOR_EC
        return version, major, botocore, crt
    return None, None, None, None


def _probe_python(
    interp: list[str], script_dir: str, env: dict[str, str]
) -> tuple[bool, list[str]] | None:
    import json

    result = _run([*interp, "-c", _PYTHON_PROBE, script_dir], env)
    if result is None or result is _TIMED_OUT:
        return None
    for line in reversed(result[0].splitlines()):
        if line.startswith(_PROBE_LINE):
            try:
                data = json.loads(line[len(_PROBE_LINE) :])
            except ValueError:
                return None
            crt, sys_path = data.get("crt"), data.get("path")
            if isinstance(crt, bool) and isinstance(sys_path, list):
                return crt, [p for p in sys_path if isinstance(p, str) and p.startswith("/")][:64]
            return None
    return None


def _probe(path: str, real: str, ident: list[int], environ: Mapping[str, str]) -> dict[str, object]:
    env = dict(environ)
    # The cached answer must not depend on these; BOTO_DISABLE_CRT is applied per call instead.
    env.pop("BOTO_DISABLE_CRT", None)
    env.pop("AWS_CLI_AUTO_PROMPT", None)
    # Both CLIs parse the user's files even for --version (v1: plugins), and a broken one makes
    # the probe fail: it sees none of them.
    env["AWS_CONFIG_FILE"] = os.devnull
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull  # nothing of the user's is parsed for it
    # `path` may be a wrapper that leads back to the shim: the probe then must not start a loop
    # of its own, so any shim it reaches stops at once (a version probe needs no shim).
    env[DEPTH_VAR] = str(MAX_DEPTH)
    out = _run([path, "--version"], env)
    # stdout first: v1 printed the version on stderr before Python 3.4's argparse change.
    version, major, botocore, crt = parse_version_output(out[0] + "\n" + out[1] if out else "")
    # What the aws found runs, read (not run): a wrapper may choose v1 or v2 at each call.
    from awsguard.host import wrapper

    varies, read = wrapper.examine(path, environ)
    deps: list[list[object]] = [[p, _mtime(p)] for p in read if p != real]
    entry: dict[str, object] = {
        "id": ident,
        "deps": deps,
        "env": None,
        "at": int(time.time()),
        "retry": None,
        "version": version,
        "major": major,
        "crt": crt,
        "botocore": botocore,
        "varies": varies,
    }
    if version is None:
        # Learnt nothing: made again when what it ran or what steered it changes, or in time.
        entry["env"] = _env_key(environ, _FAILED_ENV)
        entry["retry"] = _RETRY_TIMED_OUT_AFTER if out is _TIMED_OUT else _RETRY_FAILED_AFTER
    if major == 1:
        interp = python_interpreter(real, environ)
        probed = _probe_python(interp, os.path.dirname(real), env) if interp else None
        if interp is not None and probed is not None:
            if crt is None:
                crt = probed[0]
            entry["crt"] = crt
            script_dir = os.path.dirname(real)
            # The script's own directory is left out: its mtime changes whenever any tool is
            # installed next to `aws`, which says nothing about awscrt.
            found = [interp[0], *(p for p in probed[1] if p != script_dir)]
            deps.extend([p, _mtime(p)] for p in found)
            entry["env"] = _env_key(environ)
    return entry
