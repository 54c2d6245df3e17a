"""Where the AWS CLI looks for its files, computed from an explicit environment.

botocore expands ``AWS_CONFIG_FILE`` and friends with ``os.path.expandvars`` then
``os.path.expanduser`` (botocore/configloader.py ``raw_config_parse``), both of which read the
process environment.  awsguard must compute the same paths for an environment it is *given*, so
this module re-implements the two POSIX expansions over a mapping, with the same quirks: unknown
variables are left as they are, ``${}`` is never expanded, and ``~`` uses ``HOME`` (or the password
database when ``HOME`` is unset).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def expandvars(path: str, environ: Mapping[str, str]) -> str:
    """``posixpath.expandvars`` over ``environ``: ``$NAME`` and ``${NAME}``, single pass."""
    if "$" not in path:
        return path
    out: list[str] = []
    i = 0
    n = len(path)
    while i < n:
        j = path.find("$", i)
        if j < 0:
            out.append(path[i:])
            break
        out.append(path[i:j])
        if j + 1 < n and path[j + 1] == "{":
            close = path.find("}", j + 2)
            if close < 0:
                # Unclosed '${': no match here; the search resumes at the next character.
                out.append("$")
                i = j + 1
                continue
            name = path[j + 2 : close]
            end = close + 1
        else:
            end = j + 1
            while end < n and path[end] in _NAME_CHARS:
                end += 1
            name = path[j + 1 : end]
            if not name:
                # A lone '$' is not a variable reference; keep it and carry on after it.
                out.append("$")
                i = j + 1
                continue
        value = environ.get(name) if name else None
        out.append(path[j:end] if value is None else value)
        i = end
    return "".join(out)


def expanduser(path: str, environ: Mapping[str, str]) -> str:
    """``posixpath.expanduser`` over ``environ``."""
    if not path.startswith("~"):
        return path
    slash = path.find("/", 1)
    if slash < 0:
        slash = len(path)
    if slash == 1:
        home = environ.get("HOME")
        if home is None:
            home = _passwd_home(None)
            if home is None:
                return path
    else:
        home = _passwd_home(path[1:slash])
        if home is None:
            return path
    home = home.rstrip("/")
    return (home + path[slash:]) or "/"


def _passwd_home(user: str | None) -> str | None:
    try:
        import pwd
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    try:
        entry = pwd.getpwuid(_getuid()) if user is None else pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_dir


def _getuid() -> int:

    return os.getuid()


def expand(path: str, environ: Mapping[str, str]) -> str:
    """Variables first, then ``~``: the order botocore applies them to file settings."""
    return expanduser(expandvars(path, environ), environ)


def config_file(environ: Mapping[str, str]) -> str:
    """The config file the CLI reads; ``AWS_CONFIG_FILE=""`` means no file at all."""
    return expand(environ.get("AWS_CONFIG_FILE", "~/.aws/config"), environ)


def credentials_file(environ: Mapping[str, str]) -> str:
    return expand(environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"), environ)


def login_cache_dir(environ: Mapping[str, str]) -> str:
    # botocore/utils.py get_login_token_cache_directory: the variable gets both expansions, the
    # default only '~'.
    if "AWS_LOGIN_CACHE_DIRECTORY" in environ:
        return expand(environ["AWS_LOGIN_CACHE_DIRECTORY"], environ)
    return expanduser("~/.aws/login/cache", environ)


def sso_cache_dir(environ: Mapping[str, str]) -> str:
    # botocore/utils.py SSOTokenLoader / credentials.py SSOProvider: fixed, no variable.
    return expanduser("~/.aws/sso/cache", environ)


def cli_cache_dir(environ: Mapping[str, str]) -> str:
    # awscli/customizations/assumerole.py: role and (v2) SSO credential cache.
    return expanduser("~/.aws/cli/cache", environ)


def display(path: str, environ: Mapping[str, str]) -> str:
    """Shorten a path under HOME to ``~/…`` for people; JSON keeps the full path."""
    home = environ.get("HOME", "").rstrip("/")
    if home and (path == home or path.startswith(home + "/")):
        return "~" + path[len(home) :]
    return path
