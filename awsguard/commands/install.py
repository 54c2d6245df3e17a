"""``awsguard install``: write the ``aws`` shim launcher and print its directory."""

from __future__ import annotations

import sys

from awsguard import errors
from awsguard.host import launcher

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO


def ensure(environ: Mapping[str, str]) -> str:
    """Install the launcher if it is missing or stale; return the shim directory."""
    return launcher.ensure(environ)


def run(environ: Mapping[str, str], *, force: bool = False, out: TextIO | None = None) -> int:
    directory = launcher.ensure(environ, force=force)
    (out or sys.stdout).write(directory + "\n")
    return errors.OK
