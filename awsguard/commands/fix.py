"""``awsguard fix``: repair what makes ``aws`` run as the wrong identity, safely.

It judges the invocation ``explain`` would judge (default: ``aws sts get-caller-identity``),
sorts the findings into remedies (:mod:`awsguard.judge.remedy`), shows the plan - a unified diff
with every secret masked - asks on a terminal, edits the credentials file through the safe
editor (:mod:`awsguard.host.safewrite`: backup, lock, re-check, atomic replace), then proves the
result by resolving again; a failed proof puts the old file back.  ``--undo`` restores the
backup of the last fix while the file is still exactly what fix wrote.

Exit codes: 0 applied (or nothing to do, or a dry run), 1 declined, refused or not repairable
here (always with the reason), 2 usage.
"""

from __future__ import annotations

import os
import sys
import time

from awsguard import errors, words
from awsguard.errors import AwsGuardError
from awsguard.host import safewrite
from awsguard.host.fileio import decode_newlines
from awsguard.judge import remedy
from awsguard.predict import paths
from awsguard.present import diff, report
from awsguard.words import account_words, clean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TextIO

    from awsguard.host.realcli import CliInfo
    from awsguard.judge.policy import Finding
    from awsguard.predict.inifile import Layout
    from awsguard.predict.providers import CliError
    from awsguard.predict.resolver import Resolution

DEFAULT_COMMAND = ["sts", "get-caller-identity"]


class Options:
    __slots__ = ("as_json", "dry_run", "keep_as", "profile", "shell", "undo", "yes")

    def __init__(
        self,
        *,
        profile: str | None = None,
        yes: bool = False,
        dry_run: bool = False,
        as_json: bool = False,
        shell: bool = False,
        undo: bool = False,
        keep_as: str | None = None,
    ) -> None:
        self.profile = profile
        self.yes = yes
        self.dry_run = dry_run
        self.as_json = as_json
        self.shell = shell
        self.undo = undo
        self.keep_as = keep_as


def usage_problem(opts: Options, aws_args: list[str]) -> str | None:
    """Why this combination of options makes no sense, or None."""
    if opts.yes and opts.dry_run:
        return "--yes and --dry-run contradict each other"
    if opts.shell and (opts.as_json or opts.dry_run or opts.undo or opts.keep_as is not None):
        return "--shell prints shell code only; it takes no --json, --dry-run, --undo or --keep-keys-as"
    if opts.undo and (opts.keep_as is not None or opts.profile is not None or aws_args):
        return "--undo restores the credentials file; it takes no profile, aws arguments or --keep-keys-as"
    if opts.profile is not None and (
        not opts.profile or any(c in opts.profile for c in "\r\n\0[]")
    ):
        return "the profile name holds a line break, NUL or a square bracket"
    if opts.keep_as is not None:
        why = remedy.valid_section_name(opts.keep_as)
        if why:
            return f"--keep-keys-as {clean(opts.keep_as, 60)!r} cannot be a section name: {why}"
    return None


class Output:
    """Where things go: people's text to ``out`` (to ``err`` with ``--shell``), JSON to ``out``."""

    def __init__(self, opts: Options, out: TextIO, err: TextIO) -> None:
        self.opts = opts
        self.out = out
        self.err = err
        self.doc: dict[str, Any] = {
            "schema": 1,
            "profile": None,
            "dry_run": opts.dry_run,
            "undo": opts.undo,
            "applied": False,
            "plan": [],
            "files": [],
            "backups": [],
            "shell": None,
            "after": None,
            "cli_error": None,
            "error": None,
        }

    @property
    def text(self) -> TextIO | None:
        if self.opts.as_json:
            return None
        return self.err if self.opts.shell else self.out

    def say(self, line: str = "") -> None:
        stream = self.text
        if stream is not None:
            stream.write(line + "\n")
            stream.flush()

    def fail(self, exc: AwsGuardError) -> int:
        """Report ``exc`` (stderr, and in the JSON) and return its exit code."""
        self.doc["error"] = {"message": exc.message, "fix": exc.hint}
        self.finish()
        self.err.write(exc.render() + "\n")
        self.err.flush()
        return exc.code

    def finish(self) -> None:
        if self.opts.as_json:
            self.out.write(report.dumps(self.doc, indent=2) + "\n")
            self.out.flush()


def run(
    aws_args: list[str],
    opts: Options,
    *,
    environ: Mapping[str, str],
    out: TextIO | None = None,
    err: TextIO | None = None,
    ask: bool | None = None,
) -> int:
    """``ask``: whether a y/N question may be asked (default: stdin and stderr are terminals)."""
    out = out or sys.stdout
    err = err or sys.stderr
    problem = usage_problem(opts, aws_args)
    if problem:
        err.write(f"awsguard: {problem}\n  see: awsguard fix --help\n")
        return errors.USAGE
    if ask is None:
        ask = _terminal()
    o = Output(opts, out, err)
    try:
        if opts.undo:
            return _undo(o, environ, ask)
        return _fix(o, aws_args, environ, ask)
    except AwsGuardError as exc:
        return o.fail(exc)


def _terminal() -> bool:
    try:
        return os.isatty(0) and os.isatty(2)
    except (OSError, ValueError):
        return False


# -- judging ---------------------------------------------------------------------------------------


class Judged:
    """The resolution and verdict ``fix`` works on; ``stopped``: a setting that has nothing to do
    with credentials and stops the CLI first (the region, ``defaults_mode`` …), in which case
    ``res`` is what the chain picks once it is corrected."""

    __slots__ = ("cli", "findings", "res", "stopped", "verdict")

    def __init__(
        self,
        res: Resolution,
        findings: list[Finding],
        verdict: str,
        cli: CliInfo | None,
        stopped: CliError | None = None,
    ) -> None:
        self.res = res
        self.findings = findings
        self.verdict = verdict
        self.cli = cli
        self.stopped = stopped


def _judge(aws_args: list[str], environ: Mapping[str, str]) -> Judged:
    from awsguard.commands.explain import discover_cli
    from awsguard.host.dirs import default_cache_dir
    from awsguard.judge import policy, settings
    from awsguard.predict.providers import CLIENT
    from awsguard.predict.resolver import resolve

    info, major, crt = discover_cli(environ)
    cache = default_cache_dir(environ)
    res = resolve(aws_args, environ, major=major, crt=crt, cache_dir=cache)
    stopped = None
    if res.error is not None and res.error.provider == CLIENT:
        # A bad region (or defaults_mode …) makes every command fail, so nothing runs as the
        # wrong identity today; but the keys that shadow the login are there all the same and
        # win the day the setting is corrected.  Fix those, and name the setting.
        stopped = res.error
        res = resolve(aws_args, environ, major=major, crt=crt, cache_dir=cache, configuration=False)
    config = settings.load(environ, cache_dir=cache)
    findings, verdict = policy.judge(res, environ, settings=None if config.off else config)
    return Judged(res, findings, verdict, info, stopped)


def _invocation(aws_args: list[str], profile: str | None, major: int = 2) -> list[str]:
    from awsguard.predict import argv as argv_mod

    args = list(aws_args)
    if profile is not None:
        args = ["--profile", profile, *args]
    parsed = argv_mod.parse(args, major)
    if not parsed.command:
        if "--" in args:
            args.remove("--")
        args += DEFAULT_COMMAND
    return args


def _parse_refusal(res: Resolution, environ: Mapping[str, str]) -> AwsGuardError:
    """The CLI cannot parse one of its files: say which, the line and why - never the line."""
    from awsguard.predict import inifile

    origin = res.error.origin if res.error is not None else None
    path = None
    for candidate in (res.credentials_path, res.config_path):
        if candidate and origin and (origin == candidate or origin.startswith(candidate + ":")):
            path = candidate
    where = "the AWS CLI's files"
    reason = "the AWS CLI cannot parse it"
    if path is not None:
        where = paths.display(path, environ)
        data = safewrite.read_current(path) or b""
        if data.startswith(b"\xef\xbb\xbf"):
            reason = "line 1: it starts with a UTF-8 byte order mark (BOM), which the CLI rejects"
        else:
            try:
                inifile.layout(data, path)
            except inifile.ParseError as exc:
                reason = f"line {exc.line}: {exc.reason}" if exc.line else exc.reason
    return AwsGuardError(
        f"{clean(where)} cannot be parsed by the AWS CLI ({reason}); nothing was changed",
        "every aws command fails until that line is corrected by hand; "
        "awsguard fix edits only files the CLI can read",
    )


# -- the fix ------------------------------------------------------------------------------------------


class Planned:
    """Everything decided before asking."""

    def __init__(self) -> None:
        self.env: remedy.EnvFix | None = None
        self.files: list[remedy.FileFix] = []
        self.manual: list[remedy.Manual] = []
        self.notes: list[Finding] = []
        self.messages: list[Finding] = []
        self.then: list[Finding] = []  # what shows once the environment keys are unset
        self.target: safewrite.Target | None = None
        self.layout: Layout | None = None
        self.edit = safewrite.LineEdit()
        self.new: bytes = b""
        self.environ_after: Mapping[str, str] = {}


def _fix(o: Output, aws_args: list[str], environ: Mapping[str, str], ask: bool) -> int:
    opts = o.opts
    args = _invocation(aws_args, opts.profile)
    first = _judge(args, environ)
    res = first.res
    o.doc["profile"] = res.profile
    if res.error is not None and res.error.code == "ConfigParseError":
        raise _parse_refusal(res, environ)
    plan = Planned()
    plan.environ_after = environ
    tri = remedy.triage(res, first.findings, environ)
    plan.messages = [f for f in first.findings if f.severity != "info"] + tri.broken
    judged = first
    if tri.env is not None:
        plan.env = tri.env
        # What remains once the environment keys are gone: judge that too, so the keys in the
        # file that the environment hid are found in the same run.
        plan.environ_after = {k: v for k, v in environ.items() if k not in tri.env.names}
        judged = _judge(args, plan.environ_after)
        if judged.res.error is not None and judged.res.error.code == "ConfigParseError":
            raise _parse_refusal(judged.res, environ)
        tri2 = remedy.triage(judged.res, judged.findings, plan.environ_after)
        seen = {f.message for f in plan.messages}
        plan.then = [f for f in judged.findings if f.severity != "info" and f.message not in seen]
        tri.targets, tri.manual, tri.notes = tri2.targets, tri2.manual, tri2.notes
        plan.then += tri2.broken
    plan.manual = tri.manual
    plan.notes = tri.notes
    if opts.shell:
        return _shell(o, plan, environ)
    if tri.targets:
        _plan_file(o, plan, tri.targets, judged.res, environ)
    _show_plan(o, plan, args, judged, environ)
    if not plan.files:
        return _nothing_to_apply(o, plan)
    if opts.dry_run:
        o.say("dry run: nothing was changed")
        o.finish()
        return errors.OK
    if not opts.yes:
        if not ask:
            raise AwsGuardError(
                "not applied: no terminal to ask on",
                "pass --yes to apply the plan above (or --dry-run to only show it)",
            )
        shown = paths.display(plan.files[0].path, environ)
        if not _confirm(o, f"Apply this change to {clean(shown)}? [y/N] "):
            raise AwsGuardError("not applied: declined", "nothing was changed")
    return _apply(o, plan, args, environ)


def _plan_file(
    o: Output,
    plan: Planned,
    targets: list[remedy.Target],
    res: Resolution,
    environ: Mapping[str, str],
) -> None:
    from awsguard.predict import inifile

    path = res.credentials_path or ""
    shown = paths.display(path, environ)
    target = safewrite.inspect(path, private=True, shown=clean(shown))
    try:
        layout = inifile.layout(target.data, path)
    except inifile.ParseError as exc:  # pragma: no cover - resolve() failed on it first
        os.close(target.fd)
        raise AwsGuardError(
            f"{clean(shown)} cannot be parsed (line {exc.line}: {exc.reason}); nothing was changed",
            "correct that line by hand first",
        ) from None
    plan.target = target
    plan.layout = layout
    for tgt in targets:
        got = remedy.file_fix(tgt, layout, shown)
        if isinstance(got, remedy.Manual):
            plan.manual.append(got)
        else:
            plan.files.append(got)
    if not plan.files:
        return
    removed = sorted({n for fix in plan.files for n in fix.removed_lines()})
    append: list[bytes | int] = []
    keep = o.opts.keep_as
    if keep is not None:
        if len(plan.files) > 1:
            raise AwsGuardError(
                "--keep-keys-as moves the keys of one section, and this fix edits "
                f"{len(plan.files)}: " + ", ".join(f"[{clean(f.section)}]" for f in plan.files),
                "run it once per profile, with --profile",
            )
        if keep in layout.options or (res.files is not None and res.files.exists(keep)):
            raise AwsGuardError(
                f"--keep-keys-as {clean(keep)}: a profile of that name exists already",
                "choose a name that no section of the config or credentials file uses",
            )
        append.append(b"[" + keep.encode("utf-8") + b"]")
        for first, last in plan.files[0].lines:
            append.extend(range(first, last + 1))
    plan.edit = safewrite.LineEdit(removed, append)
    plan.new = safewrite.apply_edit(target.data, plan.edit)
    # The new text must still be a file the CLI reads, without the keys in those sections
    # (true by construction; checked with the CLI's own rules before anything is written).
    try:
        check = inifile.IniFile(path, decode_newlines(plan.new.decode("utf-8")))
        check.validate()
        still = [
            f.section for f in plan.files if "aws_access_key_id" in (check.section(f.section) or {})
        ]
    except (UnicodeDecodeError, inifile.ParseError):
        still = ["(the file would not parse)"]
    if still:  # pragma: no cover - a bug in the planner; never write what fails the check
        raise AwsGuardError(
            "awsguard planned an edit that does not do what it should; nothing was changed",
            "please report this; remove the keys by hand meanwhile",
        )


def _nothing_to_apply(o: Output, plan: Planned) -> int:
    if plan.env is not None or plan.manual:
        o.finish()
        return errors.FAILURE  # something remains that only the user can do: said above
    o.finish()
    return errors.OK


def _confirm(o: Output, question: str) -> bool:
    o.err.write(question)
    o.err.flush()
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    return answer.strip().lower() in ("y", "yes")


def _shell(o: Output, plan: Planned, environ: Mapping[str, str]) -> int:
    """``eval "$(awsguard fix --shell)"``: stdout holds only the unset line (zsh, bash)."""
    if plan.env is None:
        o.err.write("awsguard: nothing to unset: no environment keys override the profile\n")
        o.err.flush()
        return errors.OK
    # The names are constants of remedy.ENV_KEYS: nothing from the environment is printed.
    o.out.write(plan.env.shell() + "\n")
    o.out.flush()
    o.err.write(f"awsguard: {plan.env.shell()}\n")
    o.err.flush()
    return errors.OK


# -- showing the plan ----------------------------------------------------------------------------------


def _lines_words(spans: list[tuple[int, int]]) -> str:
    """``lines 3-4, 9`` (adjacent spans joined)."""
    merged: list[list[int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    parts = [str(a) if a == b else f"{a}-{b}" for a, b in merged]
    single = len(parts) == 1 and "-" not in parts[0]
    return ("line " if single else "lines ") + ", ".join(parts)


def _show_plan(
    o: Output, plan: Planned, args: list[str], judged: Judged, environ: Mapping[str, str]
) -> None:
    shown_args = " ".join(clean(a, 60) for a in args)
    o.say(f"awsguard fix: aws {shown_args}")
    for finding in plan.messages:
        o.say(f"  {finding.severity.upper()} {finding.rule}: {clean(finding.message, 400)}")
    for finding in plan.then:
        o.say(
            f"  and once the environment keys are unset: {finding.severity.upper()} "
            f"{finding.rule}: {clean(finding.message, 400)}"
        )
    stopped = judged.stopped
    if stopped is not None:
        where = f" [{clean(paths.display(stopped.origin, environ))}]" if stopped.origin else ""
        o.say(
            f"  and whatever its credentials, the CLI fails until this is corrected by hand: "
            f"{stopped.code}: {clean(stopped.message, 300)}{where}"
        )
        o.doc["cli_error"] = {
            "code": stopped.code,
            "message": clean(stopped.message, 300),
            "origin": stopped.origin,
        }
    steps: list[dict[str, Any]] = []
    number = 0
    if plan.files or plan.env is not None:
        o.say("")
        o.say("plan:")
    for fix in plan.files:
        number += 1
        where = f"{clean(fix.path)}: " if fix.path else ""
        what = f"remove {', '.join(fix.options)} from [{clean(fix.section)}] ({_lines_words(fix.lines)})"
        if o.opts.keep_as is not None:
            what = (
                f"move {', '.join(fix.options)} from [{clean(fix.section)}] "
                f"({_lines_words(fix.lines)}) to a new section [{clean(o.opts.keep_as)}] at the end"
            )
        o.say(f"  {number}. {where}{what}")
        if fix.header is not None:
            o.say(f"     and its header (line {fix.header}): nothing else is left in the section")
        if fix.role is not None:
            o.say(f"     (the source profile of role profile '{clean(fix.role)}')")
        steps.append(
            {
                "kind": "edit-file",
                "rules": fix.rules,
                "file": plan.target.path if plan.target else None,
                "section": fix.section,
                "options": fix.options,
                "lines": [list(span) for span in fix.lines],
                "header_line": fix.header,
                "role_profile": fix.role,
                "keep_keys_as": o.opts.keep_as,
            }
        )
    if plan.env is not None:
        number += 1
        o.say(f"  {number}. your shell: {plan.env.shell()}")
        o.say(
            '     (a program cannot change the shell that started it: eval "$(awsguard fix --shell)")'
        )
        steps.append({"kind": "unset-env", "rules": plan.env.rules, "names": plan.env.names})
        o.doc["shell"] = plan.env.shell()
    if plan.manual:
        o.say("")
        o.say("not repaired by awsguard fix (change these yourself):")
    for manual in plan.manual:
        o.say(f"  - {manual.rule}: {clean(manual.message, 400)}")
        o.say(f"      change: {clean(manual.fix, 300)}")
        steps.append(
            {
                "kind": "manual",
                "rules": manual.rule.split(","),
                "message": manual.message,
                "fix": manual.fix,
                "where": manual.where,
            }
        )
    for note in plan.notes:
        o.say(f"  note: {clean(note.message, 300)} ({clean(note.fix, 100)})")
    o.doc["plan"] = steps
    res = judged.res
    if not steps:
        o.say(f"nothing to fix: {_uses(res)}")
        if res.error is not None:
            o.say(f"  note: the CLI will fail: {res.error.code}: {clean(res.error.message, 300)}")
    if plan.files and plan.target is not None:
        text = _diff_text(plan, environ)
        o.say("")
        stream = o.text
        if stream is not None:
            stream.write(text)
            stream.flush()
        o.doc["files"].append(
            {
                "path": plan.target.path,
                "real_path": plan.target.real,
                "diff": text,
                "mode_before": f"{plan.target.st.st_mode & 0o7777:04o}",
                "mode_after": f"{plan.target.mode:04o}",
                "backup": None,
            }
        )


def _diff_text(plan: Planned, environ: Mapping[str, str]) -> str:
    assert plan.target is not None
    old = safewrite.split_lines(plan.target.data)
    new = safewrite.split_lines(plan.new)
    masker = diff.Masker(plan.layout)
    kept = len(old) - len(plan.edit.remove)
    copies = [item for item in plan.edit.append]

    def origin(j: int) -> int | None:
        # new line j (1-based): kept lines first, then the appended ones in order
        k = j - kept - 1
        if 0 <= k < len(copies) and isinstance(copies[k], int):
            return int(copies[k])
        return None

    label = clean(paths.display(plan.target.path, environ))
    text = diff.unified(
        old,
        new,
        diff.removal_opcodes(old, new, set(plan.edit.remove)),
        old_label=label,
        new_label=f"{label} (after awsguard fix)",
        old_show=masker.line,
        new_show=diff.Masker(None).line,
        new_origin=origin,
    )
    assert isinstance(text, str)
    return text


def _uses(res: Resolution) -> str:
    if res.source is None:
        return f"profile '{clean(res.profile)}' gets no credentials from a source awsguard judges"
    return (
        f"profile '{clean(res.profile)}' uses {words.source_long(res.source)} "
        f"({account_words(res.identity.account, res.identity.account_from)})"
    )


# -- applying ----------------------------------------------------------------------------------------


def _apply(o: Output, plan: Planned, args: list[str], environ: Mapping[str, str]) -> int:
    from awsguard.host.dirs import data_dir

    planned = plan.target
    assert planned is not None
    shown = clean(paths.display(planned.path, environ))
    os.close(planned.fd)
    with safewrite.Session(planned.path, private=True, environ=environ, shown=shown) as s:
        target = s.read()
        if target.data != planned.data or target.real != planned.real:
            raise safewrite.Changed(
                f"{shown} changed after the plan was made (another program wrote it)",
                "nothing was changed; run the command again to see the new plan",
            )
        backup = s.backup(target)
        try:
            durable = s.replace(target, plan.new)
        except BaseException:
            s.discard(backup)
            raise
        entry = {
            "backup": os.path.abspath(backup),
            "before": safewrite.digest(target.data),
            "after": safewrite.digest(plan.new),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "profile": plan.files[0].section,
        }
        record_dir = data_dir(environ)
        recorded = True
        try:
            s.step("record")
            safewrite.record_write(record_dir, target.real, entry)
        except OSError:
            recorded = False
        o.doc["applied"] = True
        o.doc["backups"].append(backup)
        o.doc["files"][0]["backup"] = backup
        try:
            s.step("proof")
            after = _judge(args, plan.environ_after)
            proofs = [remedy.proven(after.res, fix) for fix in plan.files]
        except OSError:
            # What cannot be proven is not kept: the old file goes back below.
            after = None
            proofs = [False]
        orphan = s.orphaned(target)
        current = safewrite.read_current(target.real)
        if orphan is not None:
            put = current == plan.new and s.put_back(plan.new, orphan)
            if recorded:
                _forget(record_dir, target.real, entry)
            o.doc["applied"] = False
            where = (
                ""
                if put
                else f"; its version is in the backup-like file {_save_orphan(s, target, orphan)}"
            )
            raise AwsGuardError(
                f"another program wrote {shown} while awsguard replaced it"
                + ("; its version was put back" if put else where),
                f"nothing of it was lost; run the command again (backup of the old file: "
                f"{clean(paths.display(backup, environ))})",
            )
        if not all(proofs):
            if current == plan.new and s.put_back(plan.new, target.data):
                if recorded:
                    _forget(record_dir, target.real, entry)
                s.discard(backup)
                o.doc["applied"] = False
                o.doc["backups"] = []
                why = _uses(after.res) if after is not None else "the check could not run"
                raise AwsGuardError(
                    f"after the edit profile '{clean(plan.files[0].section)}' still does not use its "
                    f"aws login session ({why}); the old file was put back",
                    "see `awsguard explain` for the whole chain",
                )
            raise AwsGuardError(
                f"after the edit profile '{clean(plan.files[0].section)}' still does not use its aws "
                f"login session, and {shown} was changed again since (not by awsguard)",
                "see `awsguard explain`; the file before the fix is in "
                + clean(paths.display(backup, environ)),
            )
        assert after is not None  # every proof held
        if current != plan.new:
            # Another program wrote the file after the rename.  The AWS CLI rewrites it in
            # place from what it read: if it read before the rename, the keys are back.
            again = _judge(args, plan.environ_after)
            if not all(remedy.proven(again.res, fix) for fix in plan.files):
                if recorded:
                    _forget(record_dir, target.real, entry)
                o.doc["applied"] = False
                raise AwsGuardError(
                    f"another program rewrote {shown} right after the edit, and the keys are back",
                    "its version was left as it is; run the command again (backup of the old "
                    f"file: {clean(paths.display(backup, environ))})",
                )
            after = again
            o.say(f"note: {shown} was changed again right after the edit (by another program)")
        s.step("done")
    o.doc["after"] = report.to_json(after.res, after.findings, after.verdict, after.cli)
    o.say("")
    o.say(f"backup: {clean(paths.display(backup, environ))}")
    if target.tightened:
        o.say(
            f"mode:   tightened from {target.st.st_mode & 0o7777:04o} to {target.mode:04o} "
            "(a credentials file is for its owner only)"
        )
    if not durable:
        o.say("note:   the directory could not be synced to disk; the change is made")
    for fix in plan.files:
        o.say(f"proof:  {_proof_words(after.res, fix)}")
    if plan.env is not None:
        o.say(f'then:   in your shell, {plan.env.shell()}   (eval "$(awsguard fix --shell)")')
    if not recorded:
        o.say(
            "note:   no undo record could be written; to undo, restore "
            f"{clean(paths.display(backup, environ))} by hand"
        )
    else:
        o.say("undo:   awsguard fix --undo")
    o.finish()
    return errors.OK


def _forget(record_dir: str, real: str, entry: dict[str, str]) -> None:
    try:
        safewrite.forget_write(record_dir, real, entry)
    except OSError:
        pass  # undo then refuses by itself: the file is no longer what the record says


def _proof_words(res: Resolution, fix: remedy.FileFix) -> str:
    who = f"profile '{clean(fix.section)}'"
    if fix.role is not None:
        return f"{who} (source of role profile '{clean(fix.role)}') now uses its aws login session"
    if res.source == words.LOGIN:
        ident = res.identity
        account = account_words(ident.account, ident.account_from)
        principal = f"{clean(ident.principal)}, " if ident.principal else ""
        return f"{who} now uses its aws login session ({principal}{account})"
    return f"{who} now reaches its aws login session, which needs `aws login` first"


def _save_orphan(s: safewrite.Session, target: safewrite.Target, data: bytes) -> str:
    saved = safewrite.Target(target.path, target.real, data, target.st, -1, True)
    return s.backup(saved)


# -- undo ------------------------------------------------------------------------------------------------


def _undo(o: Output, environ: Mapping[str, str], ask: bool) -> int:
    from awsguard.host.dirs import data_dir
    from awsguard.predict import inifile

    path = paths.credentials_file(environ)
    shown = clean(paths.display(path, environ))
    record_dir = data_dir(environ)
    planned = safewrite.inspect(path, private=True, shown=shown)
    os.close(planned.fd)
    entry = safewrite.last_write(record_dir, planned.real)
    if entry is None:
        raise AwsGuardError(
            f"nothing to undo: awsguard fix has no record of changing {shown}",
            "backups of earlier fixes, if any, are the files named " + f"{shown}.awsguard-*",
        )
    backup = entry["backup"]
    if safewrite.digest(planned.data) != entry["after"]:
        raise AwsGuardError(
            f"{shown} was changed since awsguard fix wrote it; undo would lose those changes",
            f"nothing was changed; the file before the fix is in {clean(paths.display(backup, environ))}",
        )
    old = _read_backup(backup, shown, environ)
    if safewrite.digest(old) != entry["before"]:
        raise AwsGuardError(
            f"the backup {clean(paths.display(backup, environ))} is not what awsguard fix saved",
            "nothing was changed",
        )
    o.doc["files"].append({"path": path, "real_path": planned.real, "restore_from": backup})
    cur_lines = safewrite.split_lines(planned.data)
    old_lines = safewrite.split_lines(old)
    try:
        new_masker = diff.Masker(inifile.layout(old, backup))
    except inifile.ParseError:
        new_masker = diff.Masker(None)
    try:
        cur_masker = diff.Masker(inifile.layout(planned.data, path))
    except inifile.ParseError:
        cur_masker = diff.Masker(None)
    label = shown
    text = diff.unified(
        cur_lines,
        old_lines,
        diff.opcodes_for(cur_lines, old_lines),
        old_label=label,
        new_label=f"{label} (as before awsguard fix, from {clean(paths.display(backup, environ))})",
        old_show=cur_masker.line,
        new_show=new_masker.line,
    )
    assert isinstance(text, str)
    o.doc["files"][0]["diff"] = text
    o.say(f"awsguard fix --undo: restore {shown} as it was before the fix of {entry['time']}")
    o.say("")
    stream = o.text
    if stream is not None:
        stream.write(text)
        stream.flush()
    if o.opts.dry_run:
        o.say("dry run: nothing was changed")
        o.finish()
        return errors.OK
    if not o.opts.yes:
        if not ask:
            raise AwsGuardError(
                "not undone: no terminal to ask on",
                "pass --yes to restore (or --dry-run to only show it)",
            )
        if not _confirm(o, f"Restore {shown}? [y/N] "):
            raise AwsGuardError("not undone: declined", "nothing was changed")
    with safewrite.Session(path, private=True, environ=environ, shown=shown) as s:
        target = s.read()
        if safewrite.digest(target.data) != entry["after"]:
            raise safewrite.Changed(
                f"{shown} changed after the undo was planned (another program wrote it)",
                "nothing was changed; run the command again",
            )
        saved = s.backup(target)
        try:
            s.replace(target, old)
        except BaseException:
            s.discard(saved)
            raise
        s.step("record")
        try:
            safewrite.forget_write(record_dir, target.real, entry)
        except OSError:
            pass
        s.step("done")
    o.doc["applied"] = True
    o.doc["backups"].append(saved)
    o.doc["files"][0]["backup"] = saved
    after = _judge(DEFAULT_COMMAND, environ)
    o.doc["after"] = report.to_json(after.res, after.findings, after.verdict, after.cli)
    o.say("")
    o.say(f"restored: {shown} from {clean(paths.display(backup, environ))}")
    o.say(f"backup:   the version awsguard fix wrote is in {clean(paths.display(saved, environ))}")
    o.finish()
    return errors.OK


def _read_backup(backup: str, shown: str, environ: Mapping[str, str]) -> bytes:
    from awsguard.host.fileio import read_regular

    name = clean(paths.display(backup, environ))
    try:
        got = read_regular(backup, safewrite.MAX_SIZE + 1, nofollow=True)
    except OSError as exc:
        raise AwsGuardError(
            f"the backup {name} cannot be read ({exc.strerror})", "nothing was changed"
        ) from None
    if got is None or got[1].st_uid != os.geteuid():
        raise AwsGuardError(
            f"the backup {name} is not a regular file of yours", "nothing was changed"
        )
    return got[0]
