"""The ``aws`` launcher that ``awsguard install`` writes (docs/ARCHITECTURE.md §5.4).

The launcher is the shim's front door, run on every ``aws`` call, so it starts Python the
cheapest way there is: a ``#!<this interpreter> -IS`` script (isolated mode, no ``site``), with
the directory that holds the ``awsguard`` package appended to ``sys.path`` by hand.  ``-S`` skips
site-packages and every ``.pth`` file, which is most of an interpreter's start-up cost.  When the
interpreter's path cannot sit on a ``#!`` line (whitespace, or longer than a kernel reliably
accepts) a ``/bin/sh`` launcher does the same with one more ``exec``.

The file carries :data:`awsguard.host.findaws.SHIM_MARKER`, so a copy of it elsewhere on PATH is still
recognised as the shim and never exec'd as "the real aws".  Its whole text is a function of the
interpreter, the package location and the version, so "stale" simply means "different from what
we would write now"; :func:`ensure` rewrites it then, atomically.
"""

from __future__ import annotations

import os
import sys

from awsguard import __version__, errors
from awsguard.host import dirs
from awsguard.host.fileio import read_regular
from awsguard.host.findaws import SHIM_MARKER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# Linux accepts 255 bytes of #! line since 5.1 (127 before); macOS 512.  Stay below the oldest.
_SHEBANG_MAX = 127


def package_root() -> str:
    """The directory that holds the ``awsguard`` package (site-packages, or the repo checkout
    of an editable install)."""
    import awsguard

    return os.path.dirname(os.path.dirname(os.path.abspath(awsguard.__file__)))


def import_dirs() -> list[str]:
    """What the launcher appends to ``sys.path``: the package's directory, then this
    environment's site-packages (for the optional ``dateutil`` that odd expiry formats need;
    appended, so the standard library always comes first)."""
    import sysconfig

    dirs = [package_root()]
    purelib = sysconfig.get_paths().get("purelib")
    if (
        purelib
        and os.path.isdir(purelib)
        and os.path.realpath(purelib) != os.path.realpath(dirs[0])
    ):
        dirs.append(purelib)
    return dirs


def _py_literal(text: str) -> str:
    # repr() of a str is a valid Python literal for any content, surrogates included.
    return repr(text)


def _py_literal_list(items: list[str]) -> str:
    return "[" + ", ".join(_py_literal(i) for i in items) + "]"


def posix_quote(value: str) -> str:
    """POSIX single quotes, which sh, zsh and bash read alike: nothing inside is special."""
    return "'" + value.replace("'", "'\\''") + "'"


def interpreter(command: str, python: str | None = None) -> str:
    """The absolute path of the Python that runs awsguard (or ``python``); ``command`` names
    the awsguard command to run again with the right interpreter if it cannot be told."""
    python = python or sys.executable
    if not python or not os.path.isabs(python):
        raise errors.AwsGuardError(
            "cannot tell which Python runs awsguard (sys.executable is empty)",
            f"run `python3 -m awsguard {command}` with the interpreter awsguard is installed in",
        )
    return python


def render(python: str, dirs: list[str], target: str) -> bytes:
    """The launcher's bytes for interpreter ``python``, import dirs ``dirs``, written at ``target``."""
    marker = SHIM_MARKER.decode("ascii")
    # Ctrl-C before the exec ends the shim as it ends a C program: at once, by the signal, with
    # no KeyboardInterrupt unwinding through imports or finalisers to print a traceback.  Only
    # when Python installed its own handler: an ignored SIGINT (a background job) stays ignored.
    body = (
        "import _signal; _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler "
        "and _signal.signal(_signal.SIGINT, _signal.SIG_DFL); "
        f"import sys; sys.path.extend({_py_literal_list(dirs)}); "
        f"from awsguard.shim import main; main({_py_literal(target)})"
    )
    header = (
        f"# {marker}: the aws shim of awsguard {__version__}, written by `awsguard install`.\n"
        "# It checks which credentials aws will use, then execs the real aws. Do not edit:\n"
        "# `awsguard install` rewrites this file; `awsguard explain` shows what it decides.\n"
    )
    shebang = f"#!{python} -IS\n"
    simple = not any(c.isspace() for c in python) and len(shebang.encode()) <= _SHEBANG_MAX
    if simple:
        text = shebang + header + body.replace("; ", "\n") + "\n"
    else:
        text = (
            "#!/bin/sh\n" + header + f'exec {posix_quote(python)} -IS -c {posix_quote(body)} "$@"\n'
        )
    return text.encode("utf-8", "surrogateescape")


def launcher_path(environ: Mapping[str, str]) -> str:
    return dirs.shim_bin_dir(environ) + "/aws"


def status(environ: Mapping[str, str], python: str | None = None) -> str:
    """``"current"``, ``"stale"`` (ours, but different), ``"missing"`` or ``"foreign"`` (an
    ``aws`` that is not ours is in the way)."""
    target = launcher_path(environ)
    want = render(python or sys.executable, import_dirs(), target)
    try:
        # Only a regular file is opened (a FIFO there would hang us: its open is not even
        # attempted), and a symlink is never followed.
        if (os.lstat(target).st_mode & 0o170000) != 0o100000:
            return "foreign"
        got = read_regular(target, len(want) + 1, nofollow=True)
    except FileNotFoundError:
        return "missing"
    except OSError:
        return "foreign"
    if got is None:
        return "foreign"
    have = got[0]
    if have == want and os.access(target, os.X_OK):
        return "current"
    return "stale" if SHIM_MARKER in have[:4096] else "foreign"


def ensure(environ: Mapping[str, str], *, force: bool = False, python: str | None = None) -> str:
    """Write the launcher unless it is current; return its directory.

    Refuses (``AwsGuardError``) to replace an ``aws`` there that is not ours unless ``force``.
    """
    python = interpreter("install", python)
    target = launcher_path(environ)
    directory = os.path.dirname(target)
    state = status(environ, python)
    if state == "current":
        return directory
    if state == "foreign" and not force:
        raise errors.AwsGuardError(
            f"{target} exists and is not an awsguard launcher; not replacing it",
            "move it away, or run `awsguard install --force`",
        )
    data = render(python, import_dirs(), target)
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o755)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, 0o755)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise errors.AwsGuardError(
            f"cannot write {target}: {exc.strerror or type(exc).__name__}",
            "set AWSGUARD_HOME to a writable directory",
        ) from None
    return directory
