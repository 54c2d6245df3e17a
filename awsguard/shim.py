"""The ``aws`` shim: judge the call, warn or block, then exec the real CLI untouched.

The hot path (docs/ARCHITECTURE.md §3) runs on every ``aws`` a user, a script or a cron job starts, so it
imports only the standard library it needs (never plumbum, boto3 or botocore; a test proves it)
and does no work that a cache can do for it::

    argv, environ → real aws (PATH walk, cached version probe) → never-judged commands pass
      → resolution (offline chain) → policy (rules and settings) → stderr message
      → os.execve(real aws, argv byte for byte)  or  exit 77

Contracts: the exit status is the real CLI's own (it *is* the real CLI after exec), 77 when
awsguard blocks, 127 when there is no real aws; nothing is ever written to stdout (pipes and
``credential_process`` consumers read it).  If awsguard itself fails, it says so in one line and
runs aws anyway; ``AWSGUARD_MODE=strict`` blocks instead (docs/ARCHITECTURE.md §8).
"""

from __future__ import annotations

import os
import sys

from awsguard import errors
from awsguard.host.findaws import DEPTH_VAR, MAX_DEPTH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import NoReturn

    from awsguard.host.realcli import Semantics
    from awsguard.judge.policy import Finding
    from awsguard.judge.settings import Settings
    from awsguard.predict.argv import CliArgs
    from awsguard.predict.resolver import Resolution
    from awsguard.present.report import Style

# Commands that never use credentials, or that exist to fix them: always passed through.
_BOOTSTRAP = frozenset({"login", "logout", "configure", "help"})
_SSO_BOOTSTRAP = frozenset({"login", "logout"})


# The mode of the settings once they are loaded (the policy file's `mode`, or AWSGUARD_MODE):
# an internal error after that point follows it.  Before, only AWSGUARD_MODE can say "strict".
_mode_in_force: str | None = None


class _TimedOut(BaseException):
    """The decision took longer than its budget.  A BaseException, so that no ``except
    Exception`` on the way (a prediction of an error class, a fail-safe) can swallow it."""


class _Block(Exception):
    """Stop: print ``text`` and exit ``code``."""

    def __init__(self, text: str, code: int = errors.BLOCKED) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


def main(self_path: str | None = None) -> NoReturn:
    """Entry point of the launcher; ``self_path`` is where the launcher lives."""
    environ = os.environ
    argv = sys.argv[1:]
    try:
        real = _real_aws(environ, self_path)
    except _Block as stop:
        _say(stop.text)
        os._exit(stop.code)
    except Exception as exc:  # without a real aws there is nothing to fail open to
        _say(f"awsguard: cannot look for the real aws ({type(exc).__name__})")
        os._exit(errors.NO_REAL_AWS)
    text, code = "", None
    try:
        text, code = decide(argv, environ, real)
    except _Block as stop:
        text, code = stop.text, stop.code
    except KeyboardInterrupt:
        # Only under a launcher written by an older awsguard: the current one sets SIGINT to its
        # default action before anything is imported, so Ctrl-C never raises here.
        _say("")
        os._exit(errors.INTERRUPTED)
    except _TimedOut:  # a huge or slow file: never make aws wait for the guard
        strict = environ.get("AWSGUARD_MODE") == "strict" or _mode_in_force == "strict"
        why = (
            f"awsguard: could not decide within {_timeout(environ):g} s of CPU time "
            "(AWSGUARD_TIMEOUT)"
        )
        if strict:
            text = f"{why}; blocked because of strict mode (AWSGUARD=off aws … runs it unchecked)"
            code = errors.BLOCKED
        else:
            text = f"{why}; running aws unchecked"
    except Exception as exc:  # fail open: a bug in awsguard must not break aws
        from awsguard.judge.settings import debug

        if debug(environ):
            import traceback

            traceback.print_exc()
        if environ.get("AWSGUARD_MODE") == "strict" or _mode_in_force == "strict":
            text = (
                f"awsguard: internal error ({type(exc).__name__}); blocked because "
                f"AWSGUARD_MODE=strict (AWSGUARD=off aws … runs it unchecked)"
            )
            code = errors.BLOCKED
        else:
            text = (
                f"awsguard: internal error ({type(exc).__name__}); running aws unchecked "
                "(AWSGUARD_DEBUG=1 shows the details)"
            )
    if text:
        _say(text)
    if code is not None:
        os._exit(code)
    _exec(real, argv, environ)


def decide(argv: list[str], environ: Mapping[str, str], real: str) -> tuple[str, int | None]:
    """What to say on stderr, and the exit code if aws must not run (None: run it)."""
    if environ.get("AWSGUARD") == "off":
        return "", None
    import time

    from awsguard.host import dirs, memo, record
    from awsguard.predict import argv as argv_mod

    parsed = (argv_mod.parse(argv, 1), argv_mod.parse(argv, 2))
    key = decision_key(argv, real, parsed)
    cache_dir = dirs.default_cache_dir(environ)
    now = time.time()
    if memo.lookup(key, environ, cache_dir, now):
        return "", None
    renv = record.RecordingEnv(environ)
    record.start()
    _arm(_timeout(environ))
    try:
        text, code, quiet = _decide(argv, parsed, renv, real, cache_dir)
    finally:
        _arm(0)
        rec = record.stop()
    if quiet and rec is not None:
        memo.store(key, renv, rec, cache_dir, now)
    return text, code


def decision_key(
    argv: list[str], real: str, parsed: tuple[CliArgs, CliArgs] | None = None
) -> tuple[object, ...]:
    """The decision's inputs known before deciding: the command line as either major version
    parses it (``parsed``, computed when not given), and the real aws.  The rest is recorded
    while deciding (awsguard.host.memo)."""
    from awsguard.host import record

    if parsed is None:
        from awsguard.predict import argv as argv_mod

        parsed = (argv_mod.parse(argv, 1), argv_mod.parse(argv, 2))
    return (
        parsed[0].key(),
        parsed[1].key(),
        bool(argv) and argv[-1] == "help",
        real,
        record.stat_key(real),
    )


def _decide(
    argv: list[str],
    parsed: tuple[CliArgs, CliArgs],
    environ: Mapping[str, str],
    real: str,
    cache_dir: str | None,
) -> tuple[str, int | None, bool]:
    """The full decision: (stderr text, exit code or None, whether it may be remembered)."""
    from awsguard.host import findaws, realcli
    from awsguard.judge import settings

    # Commands that are never judged need no version probe: `aws --version` is what the probe
    # itself runs, so a wrapper that leads back here must not start another probe.
    if all(a.usage_error or _never_judged(a, argv) for a in parsed) and not any(
        a.command == "login" and not a.usage_error for a in parsed
    ):
        return "", None, True
    try:
        # The version probe (on its first call only) has a timeout of its own.
        left = _arm(0)
        sem = realcli.semantics(environ, probe=True, path=real, cache_dir=cache_dir)
        _arm(left)
    except findaws.RealCliError as exc:  # a bad AWSGUARD_CLI_MAJOR: a bad setting like any other
        text, code = _bad_setting(errors.AwsGuardError(str(exc)), environ)
        return text, code, False
    # The majors whose rules judge this command line (a wrapper that may run either CLI: both).
    runs = [m for m in sem.majors if not parsed[m - 1].usage_error]
    majors = [m for m in runs if not _never_judged(parsed[m - 1], argv)]
    if not majors:
        logins = [m for m in runs if parsed[m - 1].command == "login"]
        if logins:
            return _login_preflight(argv, environ, sem, logins), None, False
        return "", None, True
    try:
        config = settings.load(environ, cache_dir=cache_dir)
    except settings.SettingsError as exc:
        text, code = _bad_setting(exc, environ)
        return text, code, False
    global _mode_in_force
    _mode_in_force = config.mode
    if config.off:
        return "", None, True
    if "AWSGUARD_TEST_FAULT" in environ:  # the tests' fault injection (awsguard.host.faults)
        from awsguard.host.faults import faults

        hook = faults(environ, ("decide",))
        if hook is not None:
            hook("decide")
    from awsguard.judge import policy
    from awsguard.predict.resolver import resolve

    judged = []
    for major in majors:
        res = resolve(argv, environ, major=major, crt=sem.crt(major), cache_dir=cache_dir)
        if res.error is not None and res.error.code in _LEFT_TO_THE_CLI:
            continue  # the CLI reports these itself, better than we could
        findings, verdict = policy.judge(res, environ, settings=config)
        judged.append((_VERDICTS.index(verdict), res, findings, verdict))
    if not judged:
        return "", None, True
    # Under both CLIs' rules the stricter verdict wins (the first major on a tie).
    _, res, findings, verdict = max(judged, key=lambda j: j[0])
    shown = [f for f in findings if f.severity in ("warn", "block")]
    style = _style(environ)
    if verdict == "block":
        return _message(res, shown, "block", argv, environ, config, style), errors.BLOCKED, False
    text = _message(res, shown, "warn", argv, environ, config, style) if shown else ""
    if policy.needs_confirmation(res, config):
        _arm(0)  # a person is answering: no deadline
        _confirm(res, text, argv, environ, style)
        return "", None, False  # the warning, if any, was shown with the question
    return text, None, not text


_VERDICTS = ("allow", "warn", "block")

# Errors the real CLI reports itself before it makes a call: leave the words to it.
_LEFT_TO_THE_CLI = frozenset({"ProfileNotFound", "ConfigParseError", "UsageError"})


def _never_judged(args: CliArgs, argv: list[str]) -> bool:
    if args.version or args.no_sign_request:
        return True
    if args.command in _BOOTSTRAP or args.command is None:
        return True  # `aws` alone prints usage
    if args.command == "sso" and args.operation in _SSO_BOOTSTRAP:
        return True
    return args.help or args.operation == "help" or (bool(argv) and argv[-1] == "help")


def _real_aws(environ: Mapping[str, str], self_path: str | None) -> str:
    from awsguard.host import dirs, findaws

    depth = _depth(environ)
    if depth >= MAX_DEPTH:
        raise _Block(
            f"awsguard: aws → … → aws loop: the shim was entered {depth} times in a row, so the "
            f"aws it finds on PATH leads back to it; set AWSGUARD_AWS=/path/to/the/real/aws",
            errors.NO_REAL_AWS,
        )
    own = [self_path] if self_path else []
    skip = [dirs.shim_bin_dir(environ)]
    if self_path:
        skip.append(os.path.dirname(self_path) or "/")
    try:
        found = findaws.find_real_aws(environ, skip_dirs=skip, self_paths=own)
    except findaws.RealCliError as exc:
        raise _Block(f"awsguard: {exc}", errors.NO_REAL_AWS) from None
    if found is None:
        raise _Block(
            "awsguard: no real aws found on PATH (besides the awsguard shim); install the AWS "
            "CLI or set AWSGUARD_AWS=/path/to/aws",
            errors.NO_REAL_AWS,
        )
    return found


def _timeout(environ: Mapping[str, str]) -> float:
    """``AWSGUARD_TIMEOUT``: CPU seconds (a bad value is reported with the other settings)."""
    from awsguard.judge.settings import timeout

    return timeout(environ)


def _arm(seconds: float) -> float:
    """Raise _TimedOut once the decision has used ``seconds`` of CPU time (0: never); returns
    what was left of the previous deadline.

    The clock is the process's own CPU time (``ITIMER_PROF``: user + system), never the wall
    clock: a process that is starved on a busy machine, or stopped (SIGSTOP, a suspended
    terminal), uses none, so the guard never stands down because the machine was busy.

    The exception is only raised where it can travel.  Not inside the import machinery, whose
    weakref callbacks cannot pass an exception on (Python prints "Exception ignored" and the
    decision carries on), nor in a finaliser or weakref callback, nor in the file writer and the
    input tape, whose clean-up must run whole: a signal that arrives there re-arms a 1 ms timer
    and tries again.  Uses ``_signal`` (``signal`` imports enum).
    """
    import _signal  # type: ignore[import-not-found]

    if seconds > 0:

        def expired(signum: int, frame: object) -> None:
            code = getattr(frame, "f_code", None)
            where = getattr(code, "co_filename", "")
            if not (
                where.startswith("<frozen")  # the import machinery and its lock callbacks
                or where.endswith(_NEVER_INTERRUPTED)
                or getattr(code, "co_name", "") == "__del__"
            ):
                raise _TimedOut
            _signal.setitimer(_signal.ITIMER_PROF, 0.001)  # try again a moment later

        _signal.signal(_signal.SIGPROF, expired)
    left, _ = _signal.setitimer(_signal.ITIMER_PROF, seconds)
    if seconds <= 0:
        _signal.signal(_signal.SIGPROF, _signal.SIG_DFL)  # nothing pending is carried into aws
    return float(left)


# Code the deadline never interrupts (an exception there is swallowed, or would cut a clean-up
# short): weakref callbacks of the standard library, awsguard's file writer and input tape.
_NEVER_INTERRUPTED = (
    os.sep + "weakref.py",
    os.sep + "_weakrefset.py",
    os.sep + "awsguard" + os.sep + "host" + os.sep + "fileio.py",
    os.sep + "awsguard" + os.sep + "host" + os.sep + "record.py",
)


def _depth(environ: Mapping[str, str]) -> int:
    """Hops through the shim so far in this chain (a nonsense value counts as none)."""
    text = environ.get(DEPTH_VAR, "0")
    return int(text) if text.isdigit() and len(text) < 4 else 0


def _exec(real: str, argv: list[str], environ: Mapping[str, str]) -> NoReturn:
    import _signal  # `signal` imports enum: ~3 ms

    # Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across exec:
    # `aws … | head` would then see EPIPE errors instead of dying quietly.
    for name in ("SIGPIPE", "SIGXFSZ"):
        signum = getattr(_signal, name, None)
        if signum is not None:
            _signal.signal(signum, _signal.SIG_DFL)
    _flush()
    env = dict(environ)
    env[DEPTH_VAR] = str(_depth(environ) + 1)
    try:
        os.execve(real, [real, *argv], env)
    except OSError as exc:
        # The only codes the shim has of its own are 77 and 127 (docs/ARCHITECTURE.md §5.2).
        _say(f"awsguard: cannot run {real}: {exc.strerror or type(exc).__name__}")
        os._exit(errors.NO_REAL_AWS)


def _say(text: str) -> None:
    # With fd 2 closed (`aws … 2>&-`) Python starts with sys.stderr None: say nothing, but still
    # block or run aws exactly as with a stderr.
    if sys.stderr is None:
        return
    try:
        sys.stderr.write(text + "\n" if text else "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _flush() -> None:
    if sys.stderr is None:
        return
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _style(environ: Mapping[str, str]) -> Style:
    from awsguard.present.report import Style

    try:
        tty = os.isatty(2)
    except OSError:
        tty = False
    return Style(tty and "NO_COLOR" not in environ and environ.get("TERM") != "dumb")


def _message(
    res: Resolution,
    findings: list[Finding],
    verdict: str,
    argv: list[str],
    environ: Mapping[str, str],
    config: Settings,
    style: Style,
) -> str:
    from awsguard.judge import settings
    from awsguard.present import report

    return report.shim_message(
        res,
        findings,
        verdict,
        argv,
        environ,
        style,
        policy_file=config.file or settings.policy_file(environ),
    )


def _bad_setting(exc: errors.AwsGuardError, environ: Mapping[str, str]) -> tuple[str, int | None]:
    """A bad awsguard setting: the user meant some protection, so block unless told to warn."""
    text = exc.render()
    if environ.get("AWSGUARD_MODE") == "warn":
        return text + "\n  (AWSGUARD_MODE=warn: running aws without the policy file)", None
    return (
        text + "\n  blocked until it is fixed; AWSGUARD=off aws … runs one command unchecked",
        errors.BLOCKED,
    )


def _login_preflight(
    argv: list[str], environ: Mapping[str, str], sem: Semantics, majors: list[int]
) -> str:
    """``aws login``: warn when the profile's other credentials will shadow the new session."""
    from awsguard.predict.resolver import resolve
    from awsguard.present import report

    for major in majors:
        try:
            res = resolve(argv, environ, major=major, crt=sem.crt(major))
        except Exception:
            continue
        if res.error is None:
            text = report.login_preflight(res, environ, _style(environ))
            if text:
                return text
    return ""


def _confirm(
    res: Resolution, warning: str, argv: list[str], environ: Mapping[str, str], style: Style
) -> None:
    """``confirm = true``: ask on the terminal; without one, block."""
    from awsguard.present import report

    question, answers = report.confirm_question(res, argv, style)
    interactive = False
    try:
        interactive = sys.stderr is not None and os.isatty(0) and os.isatty(2)
    except OSError:
        pass
    if not interactive:
        raise _Block(
            (warning + "\n" if warning else "")
            + report.confirm_refused(res, argv, "there is no terminal to ask on")
        )
    _say((warning + "\n" if warning else "") + question)
    try:
        sys.stderr.write(style.bold("  type it to run, anything else cancels: "))
        sys.stderr.flush()
        answer = _read_line()
    except (OSError, EOFError):
        answer = None
    if answer is None or answer.strip() not in answers:
        raise _Block(report.confirm_refused(res, argv, "not confirmed"))


def _read_line() -> str | None:
    """One line from the terminal (fd 0 is a TTY here), without Python's buffered stdin."""
    data = b""
    while not data.endswith(b"\n") and len(data) < 1024:
        chunk = os.read(0, 1024)
        if not chunk:
            return None if not data else data.decode("utf-8", "replace")
        data += chunk
    return data.decode("utf-8", "replace")
