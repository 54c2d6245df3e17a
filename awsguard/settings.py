"""awsguard's own settings: the ``AWSGUARD_*`` variables and where awsguard keeps its files."""

from __future__ import annotations

from awsguard import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

# name -> (default, accepted values or None for free text, one line of help)
VARIABLES: dict[str, tuple[str, tuple[str, ...] | None, str]] = {
    "AWSGUARD_AWS": ("", None, "absolute path of the real aws (skips the PATH search)"),
    "AWSGUARD_CLI_MAJOR": ("", ("1", "2"), "follow CLI v1 or v2 rules whatever aws is found"),
    "AWSGUARD_HOME": (
        "",
        None,
        "where `awsguard install` puts the aws shim (default ~/.local/share/awsguard)",
    ),
    "AWSGUARD_DEBUG": ("", ("", "0", "1"), "1 shows tracebacks of internal errors"),
}


def data_dir(environ: Mapping[str, str]) -> str:
    """``${AWSGUARD_HOME:-${XDG_DATA_HOME:-~/.local/share}/awsguard}`` (DESIGN.md §5.4)."""
    if environ.get("AWSGUARD_HOME"):
        return paths.expanduser(environ["AWSGUARD_HOME"], environ)
    base = environ.get("XDG_DATA_HOME") or paths.expanduser("~/.local/share", environ)
    return base.rstrip("/") + "/awsguard"


def shim_bin_dir(environ: Mapping[str, str]) -> str:
    return data_dir(environ) + "/bin"


def debug(environ: Mapping[str, str]) -> bool:
    return environ.get("AWSGUARD_DEBUG", "") not in ("", "0")
