"""awsguard's own places: its cache directory and the directory of the ``aws`` launcher
(``${AWSGUARD_HOME:-${XDG_DATA_HOME:-~/.local/share}/awsguard}/bin``).  Computed from an explicit
environment, with the AWS path rules' ``~`` expansion."""

from __future__ import annotations

from awsguard.predict.paths import expand, expanduser

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def default_cache_dir(environ: Mapping[str, str]) -> str | None:
    """``$XDG_CACHE_HOME/awsguard``, else ``~/.cache/awsguard``; None without a usable home."""
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg.startswith("/"):  # the XDG spec: relative values are ignored
        return xdg.rstrip("/") + "/awsguard"
    if environ.get("HOME") == "":
        return None
    path = expanduser("~/.cache/awsguard", environ)
    return path if path.startswith("/") and not path.startswith("//") else None


def xdg_dir(environ: Mapping[str, str], name: str, default: str) -> str:
    """An XDG base directory; relative values are ignored, as the XDG spec says."""
    value = environ.get(name, "")
    if not value.startswith("/"):
        value = expanduser(default, environ)
    return value.rstrip("/") or "/"


def data_dir(environ: Mapping[str, str]) -> str:
    """``${AWSGUARD_HOME:-${XDG_DATA_HOME:-~/.local/share}/awsguard}`` (docs/ARCHITECTURE.md §5.4)."""
    if environ.get("AWSGUARD_HOME"):
        return expand(environ["AWSGUARD_HOME"], environ)
    return xdg_dir(environ, "XDG_DATA_HOME", "~/.local/share").rstrip("/") + "/awsguard"


def shim_bin_dir(environ: Mapping[str, str]) -> str:
    return data_dir(environ) + "/bin"
