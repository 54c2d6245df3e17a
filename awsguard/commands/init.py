"""``awsguard init zsh|bash``: the shell integration, for ``eval "$(awsguard init zsh)"``.

The integration is a real file per shell (``shell/awsguard.zsh``, ``shell/awsguard.bash``) that
linters and tests read as it is; the only thing rendered into it is one placeholder, replaced by
the shell-quoted shim directory, Python interpreter and package directory (direnv's
``{{.SelfPath}}``, starship's ``::STARSHIP::``).  Printing it also makes sure the ``aws`` shim is
installed, so one line in an rc file sets everything up.
"""

from __future__ import annotations

import os
import sys

from awsguard import errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import BinaryIO, TextIO

SHELLS = ("zsh", "bash")
PLACEHOLDER = "@AWSGUARD_PATHS@"


def shell_dir() -> str:
    """Where ``awsguard.zsh``/``awsguard.bash`` are: ``awsguard/shell`` in a wheel (hatch
    force-includes it there), ``<checkout>/shell`` in an editable install."""
    from awsguard.host.launcher import package_root

    package = os.path.join(package_root(), "awsguard")
    for candidate in (
        os.path.join(package, "shell"),
        os.path.join(os.path.dirname(package), "shell"),
    ):
        if os.path.isfile(os.path.join(candidate, "awsguard.bash")):
            return candidate
    raise errors.AwsGuardError(
        f"the shell integration files are missing (looked in {package}/shell and beside it)",
        "reinstall awsguard: pip install --force-reinstall awsguard",
    )


def render(shell: str, *, bin_dir: str, python: str, root: str) -> str:
    """The text of ``shell/awsguard.<shell>`` with the placeholder filled in."""
    if shell not in SHELLS:
        raise errors.AwsGuardError(
            f"unknown shell {shell!r}", "supported: " + ", ".join(SHELLS), code=errors.USAGE
        )
    with open(os.path.join(shell_dir(), f"awsguard.{shell}"), encoding="utf-8") as fh:
        template = fh.read()
    if template.count(PLACEHOLDER) != 1:
        raise errors.AwsGuardError(f"shell/awsguard.{shell} must hold {PLACEHOLDER} exactly once")
    from awsguard.host.launcher import posix_quote

    values = " ".join(posix_quote(v) for v in (bin_dir, python, root))
    return template.replace(PLACEHOLDER, values)


def run(
    shell: str,
    environ: Mapping[str, str],
    *,
    out: TextIO | BinaryIO | None = None,
    err: TextIO | None = None,
) -> int:
    from awsguard.commands import install
    from awsguard.host import launcher

    err = err or sys.stderr
    try:
        bin_dir = install.ensure(environ)
    except errors.AwsGuardError as exc:
        # The prompt still works; PATH is left alone rather than fronted by someone else's aws.
        print(exc.render(), file=err)
        bin_dir = ""
    python = launcher.interpreter("init " + shell)
    script = render(shell, bin_dir=bin_dir, python=python, root=launcher.package_root())
    data = script.encode("utf-8", "surrogateescape")
    stream = out if out is not None else sys.stdout.buffer
    if hasattr(stream, "buffer"):
        stream = stream.buffer
    stream.write(data)
    stream.flush()
    return errors.OK
