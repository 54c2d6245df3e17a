"""Entry point of the ``awsguard`` command.

The command line is a plumbum application (``awsguard.app``).  Importing plumbum costs ~80 ms
(it pulls in urllib, email, ssl …), so :func:`main` first tries a tiny standard-library dispatcher
for the exact, common forms of the fast commands (``awsguard explain [--json] [-- AWS-ARGS…]``);
every other form - ``--help``, typos, other subcommands - goes through plumbum.  Both paths call
the same ``run()`` of the command's module in ``awsguard.commands``.
"""

from __future__ import annotations

import os
import sys

from awsguard import errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def _fast_explain(args: list[str]) -> Callable[[], int] | None:
    """``explain [--json] [--] AWS-ARGS…`` without plumbum.

    The aws words start at ``--`` or at the first word that is not an option, so
    ``awsguard explain s3 ls --profile x`` works too.  Any other option before them (``--help``,
    a typo) is left to plumbum, which explains or rejects it.
    """
    as_json = False
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "--":
            i += 1
            break
        if args[i] == "--json" and not as_json:
            as_json = True
            i += 1
            continue
        return None
    aws_args = args[i:]

    def run() -> int:
        from awsguard.commands import explain

        return explain.run(aws_args, as_json=as_json, environ=os.environ)

    return run


_FAST = {"explain": _fast_explain}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        fast = _FAST.get(args[0]) if args else None
        runner = fast(args[1:]) if fast else None
        if runner is not None:
            return runner()
        return _plumbum_main(args)
    except errors.AwsGuardError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return errors.INTERRUPTED
    except BrokenPipeError:
        # `awsguard explain | head`: the reader left; that is not an error.
        _silence_stdout()
        return errors.OK
    except Exception as exc:  # the one place a bug is turned into a clean message
        from awsguard.settings import debug

        if debug(os.environ):
            raise
        print(
            f"awsguard: internal error ({type(exc).__name__}); set AWSGUARD_DEBUG=1 to see the traceback",
            file=sys.stderr,
        )
        return errors.FAILURE


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def _plumbum_main(args: list[str]) -> int:
    from awsguard.app import AwsGuard

    _, code = AwsGuard.run(["awsguard", *args], exit=False)
    return int(code or 0)
