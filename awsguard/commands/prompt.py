"""``awsguard prompt``: the identity segment for a prompt (docs/ARCHITECTURE.md §5.5).

``--format=plain|zsh|bash|json`` is for prompt engines (a starship custom module, a
powerlevel10k segment); ``--hook=zsh|bash`` is what the integration of ``awsguard init`` runs
when its cache says something changed.  Both are on the fast path of ``awsguard.cli`` (standard
library only) and never print a traceback: a prompt shows ``?`` instead.
"""

from __future__ import annotations

import os
import sys

from awsguard import errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import BinaryIO

FORMATS = ("plain", "zsh", "bash", "json")
HOOKS = ("zsh", "bash")
# The command's grammar, once: option -> accepted values (None: any text).  The fast path of
# awsguard.cli parses with parse_args; the plumbum application declares the same switches.
OPTIONS: dict[str, tuple[str, ...] | None] = {
    "--format": FORMATS,
    "--hook": HOOKS,
    "--session": None,
}


def parse_args(args: list[str]) -> dict[str, str] | None:
    """``[--format F] [--hook SHELL --session ID]`` (``=`` or a separate word) as a dict; None
    for anything else (plumbum then parses it and explains what is wrong)."""
    options: dict[str, str] = {}
    i = 0
    while i < len(args):
        name, eq, value = args[i].partition("=")
        if name not in OPTIONS or name in options:
            return None
        if not eq:
            if i + 1 >= len(args):
                return None
            i += 1
            value = args[i]
        accepted = OPTIONS[name]
        if accepted is not None and value not in accepted:
            return None
        options[name] = value
        i += 1
    return options


def _time_limit(seconds: int) -> None:
    """A hung mount must not hold a prompt: SIGALRM's default action ends the process, and the
    shell shows ``?`` (docs/hostile-inputs.md §7 item 11).  ``_signal`` is the builtin under ``signal``,
    which would import ``enum`` (~6 ms) for nothing."""
    try:
        import _signal  # type: ignore[import-not-found]  # CPython builtin, no stub

        _signal.signal(_signal.SIGALRM, _signal.SIG_DFL)
        _signal.alarm(seconds)
    except (ImportError, AttributeError, ValueError, OSError):
        pass


def run(
    *,
    fmt: str = "plain",
    hook: str | None = None,
    session: str = "",
    environ: Mapping[str, str] | None = None,
    out: BinaryIO | None = None,
    now: float | None = None,
) -> int:
    import time

    from awsguard.present import segment

    environ = os.environ if environ is None else environ
    stream = out if out is not None else sys.stdout.buffer
    if (hook is not None and hook not in HOOKS) or fmt not in FORMATS:
        raise errors.AwsGuardError(
            f"unknown format {hook or fmt!r}",
            "accepted: --format=" + "|".join(FORMATS) + " (or --hook=" + "|".join(HOOKS) + ")",
            code=errors.USAGE,
        )
    if out is None:
        _time_limit(segment.HOOK_TIMEOUT)
    now = time.time() if now is None else now
    seg, inputs = segment.compute(environ, now)
    if hook is not None:
        stream.write(segment.hook_report(seg, inputs, environ, hook, session, now))
    elif fmt == "json":
        from awsguard.present import report

        stream.write((report.dumps(segment.as_json(seg, environ)) + "\n").encode())
    else:
        text = segment.rendered(seg, environ, fmt)
        stream.write((text + "\n").encode("utf-8", "surrogateescape") if text else b"")
    stream.flush()
    return errors.OK
