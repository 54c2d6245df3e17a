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
    as_json = explicit = False
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "--":
            i += 1
            explicit = True
            break
        if args[i] == "--json" and not as_json:
            as_json = True
            i += 1
            continue
        return None
    aws_args = args[i:]
    if not explicit and "--json" in aws_args:
        # `awsguard explain sts get-caller-identity --json`: aws has no --json option, so it
        # can only be meant for awsguard (after an explicit `--`, every word is aws's).
        as_json = True
        aws_args = [a for a in aws_args if a != "--json"]

    def run() -> int:
        from awsguard.commands import explain

        return explain.run(aws_args, as_json=as_json, environ=os.environ)

    return run


def _fast_prompt(args: list[str]) -> Callable[[], int] | None:
    """``prompt [--format=F] [--hook=SHELL --session=ID]``: run at prompts, so never plumbum."""
    from awsguard.commands import prompt

    options = prompt.parse_args(args)
    if options is None:
        return None

    def run() -> int:
        return prompt.run(
            fmt=options.get("--format", "plain"),
            hook=options.get("--hook"),
            session=options.get("--session", ""),
        )

    return run


def _fast_init(args: list[str]) -> Callable[[], int] | None:
    """``init zsh|bash``: evaluated by every new shell, so never plumbum."""
    if len(args) != 1 or args[0] not in ("zsh", "bash"):
        return None
    shell = args[0]

    def run() -> int:
        from awsguard.commands import init

        return init.run(shell, os.environ)

    return run


# The commands whose arguments end with the aws command line they judge.
_TAKES_AWS_ARGS = ("explain", "fix", "verify")

_FAST = {"explain": _fast_explain, "prompt": _fast_prompt, "init": _fast_init}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # A closed stream (`2>&-`, `>&-`) makes Python start with it None.  Without a stderr the
    # messages are dropped (the exit code still tells); without a stdout nothing is done, as a
    # command whose output cannot be written must not act (`fix --yes >&-`).
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    if sys.stdout is None:
        print("awsguard: standard output is closed; nothing done", file=sys.stderr)
        return errors.FAILURE
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
        from awsguard.judge.settings import debug

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
    """Run the plumbum application.

    plumbum prints a command-line error, and then the whole help, on stdout; output that
    scripts capture (``PATH=$(awsguard install):$PATH``) must never hold that.  So stdout is
    held back while it runs: on success it is passed on unchanged, on a usage error it becomes
    one ``awsguard: …`` line (and a pointer to ``--help``) on stderr.
    """
    import io

    from awsguard.app import AwsGuard

    real_stdout = sys.stdout
    held = io.StringIO()
    sys.stdout = held
    try:
        _, code = AwsGuard.run(["awsguard", *args], exit=False)
    finally:
        sys.stdout = real_stdout
    code = int(code or 0)
    text = held.getvalue()
    if code == errors.USAGE and text.startswith("Error: "):
        first = text.splitlines()[0][len("Error: ") :]
        sub = args[0] if args and hasattr(AwsGuard, f"_subcommand_{args[0]}") else None
        helper = f"awsguard {sub} --help" if sub else "awsguard --help"
        if sub in _TAKES_AWS_ARGS and first.startswith("Unknown switch"):
            # `awsguard explain --profile x sts …`: an aws option where awsguard's go.
            helper = f"aws options go after `--`: awsguard {sub} [OPTIONS] -- AWS-ARGS…"
        print(
            f"awsguard: {first}\n  {'' if sub in _TAKES_AWS_ARGS else 'see: '}{helper}",
            file=sys.stderr,
        )
        return code
    real_stdout.write(text)
    real_stdout.flush()
    return code
