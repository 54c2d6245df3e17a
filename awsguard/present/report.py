"""Renderings of a resolution: the ``explain`` JSON contract (docs/ARCHITECTURE.md §5.1) and text for people.

Everything shown comes from files and the environment, so every string passes through
:func:`clean` (control and bidi characters made visible) before it reaches a terminal, and key ids
are masked.  Secrets are never part of a resolution in the first place.
"""

from __future__ import annotations

from awsguard.predict import identity, paths
from awsguard.words import (
    ASKS_THE_NETWORK,
    BEFORE_LOGIN,
    SESSION_METHOD,
    SESSION_WORDS,
    account_words,
    clean,
    profile_from_words,
    source_long,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsguard.host.realcli import CliInfo
    from awsguard.judge.policy import Finding
    from awsguard.predict.resolver import Resolution, Session

SCHEMA = 1


def _iso(ts: float | None) -> str | None:
    return identity.format_utc(ts) if ts is not None else None


def to_json(
    res: Resolution,
    findings: list[Finding],
    verdict: str,
    cli: CliInfo | None,
    *,
    rules: str | None = None,
) -> dict[str, object]:
    """The public ``explain --json`` object.  Field names are a contract: add, never rename.

    ``rules``: whose rules were applied, ``"v1"``, ``"v2"`` or ``"both"`` (a wrapper that may
    run either CLI: the stricter verdict is shown); by default the resolution's own major."""
    ident = res.identity
    return {
        "schema": SCHEMA,
        "cli": None
        if cli is None
        else {
            "path": cli.path,
            "version": cli.version,
            "major": cli.major,
            "rules": rules or f"v{res.major}",
            "rules_reason": both_reason(cli) if rules == "both" else None,
        },
        "semantics": res.major,
        "profile": res.profile,
        "profile_from": res.profile_from,
        "source": res.source,
        "error": None
        if res.error is None
        else {"code": res.error.code, "message": res.error.message},
        "chain": [
            {
                "provider": s.provider,
                "status": s.status,
                "why": s.why,
                "origin": s.origin,
                # False: the CLI would ask a network endpoint; offline nobody knows the answer.
                "checked": not (s.status == "matched" and s.provider in ASKS_THE_NETWORK),
            }
            for s in res.chain
        ],
        "identity": {
            "account": ident.account,
            "account_from": ident.account_from,
            "principal": ident.principal,
            "expires": _iso(ident.expires),
            "key_id": identity.mask_key_id(ident.key_id) if ident.key_id else None,
        },
        "session": _session_json(res.session),
        "shadowed": res.shadowed,
        "role_chain": [
            {"profile": h.profile, "role_arn": h.role_arn, "source": h.source} for h in res.hops
        ],
        "source_profile": None
        if res.source_profile is None
        else {
            "profile": res.source_profile,
            "source": res.source_method,
            "session": _session_json(res.source_session),
            "chain": [
                {"provider": s.provider, "status": s.status, "why": s.why} for s in res.source_steps
            ],
        },
        "files": {"config": res.config_path, "credentials": res.credentials_path},
        "findings": [
            {"rule": f.rule, "severity": f.severity, "message": f.message, "fix": f.fix}
            for f in findings
        ],
        "verdict": verdict,
    }


def dumps(doc: object, *, indent: int | None = None) -> str:
    """JSON text that is always valid UTF-8: a string holding bytes that were not UTF-8 (a path
    or value read with ``surrogateescape``) has each such byte written as ``\\xNN``, as Python's
    ``backslashreplace`` does, instead of a lone surrogate that no UTF-8 decoder accepts."""
    import json

    return json.dumps(_valid_text(doc), indent=indent)


def _valid_text(value: object, depth: int = 0) -> object:
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            try:  # bytes read with surrogateescape: back to those bytes, each bad one as \xNN
                return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            except UnicodeEncodeError:  # any other lone surrogate: as \uNNNN
                return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if depth > 64:  # the documents are shallow; a deeper one is a bug, never recursed into
        raise ValueError("document too deep")
    if isinstance(value, dict):
        return {_valid_text(k, depth + 1): _valid_text(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_valid_text(v, depth + 1) for v in value]
    return value


def _session_json(session: Session | None) -> dict[str, object] | None:
    if session is None:
        return None
    return {
        "kind": session.kind,
        "principal": session.principal,
        "account": session.account,
        "expires": _iso(session.expires),
        "state": session.state,
        "profile": session.profile,
        "origin": session.origin,
    }


# -- text --------------------------------------------------------------------------------------


def colour_wanted(environ: Mapping[str, str], stream: object) -> bool:
    """Colour for people only: ``stream`` is a terminal, ``NO_COLOR`` is unset and ``TERM`` is
    not ``dumb``.  plumbum holds ``sys.stdout`` while a command runs, so for that stream the real
    one is asked."""
    import sys

    if stream is sys.stdout:
        stream = sys.__stdout__
    try:
        tty = stream is not None and bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        tty = False
    return tty and "NO_COLOR" not in environ and environ.get("TERM") != "dumb"


class Style:
    """ANSI styling, or none at all."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def red(self, text: str) -> str:
        return self._wrap("1;31", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)


_MARK = {
    "matched": ">",
    "skipped": " ",
    "shadowed": "!",
    "error": "x",
    "unreachable": "-",
}


def both_reason(cli: CliInfo) -> str:
    """Why a call to ``cli`` is judged under both CLIs' rules (a fixed phrase, no file text)."""
    if cli.varies:
        return cli.varies
    if cli.version is not None:
        return "an aws whose version is neither 1.x nor 2.x"
    return "an aws whose version could not be learnt (aws --version failed)"


def to_text(
    res: Resolution,
    findings: list[Finding],
    verdict: str,
    cli: CliInfo | None,
    environ: Mapping[str, str],
    aws_args: list[str],
    style: Style,
    *,
    rules: str | None = None,
) -> str:
    d = _Displayer(environ)
    lines: list[str] = []
    shown_args = " ".join(clean(a, 60) for a in aws_args) or "<service command>"
    lines.append(style.bold(f"awsguard explain: aws {shown_args}"))
    if cli is None:
        lines.append(f"  real aws     not found (predicting CLI v{res.major} behaviour)")
    else:
        version = f"aws-cli {cli.version}" if cli.version else "version unknown"
        if rules == "both":
            lines.append(f"  real aws     {d.path(cli.path)} ({version}; v1 and v2 rules)")
            lines.append(
                f"  cli rules    both: it is {both_reason(cli)}, so it may run CLI v1 or v2; the "
                f"call is judged under each and the stricter verdict is shown (v{res.major} "
                "rules); if it always runs one, set AWSGUARD_CLI_MAJOR=1 or 2"
            )
        else:
            lines.append(f"  real aws     {d.path(cli.path)} ({version}; v{res.major} rules)")
    lines.append(f"  profile      {clean(res.profile)}  ({profile_from_words(res.profile_from)})")
    lines.append(
        f"  files        config {d.path(res.config_path)}, credentials {d.path(res.credentials_path)}"
    )
    lines.append("")
    lines.append(style.bold("  credential chain, in the CLI's order (the first match wins):"))
    width = max(len(s.provider) for s in res.chain) if res.chain else 10
    for step in res.chain:
        mark = _MARK.get(step.status, "?")
        status = step.status.upper() if step.status in ("matched", "error") else step.status
        if step.status == "matched" and step.provider in ASKS_THE_NETWORK:
            mark, status = "?", "WOULD ASK"  # not checked offline: never claim a match
        row = f"  {mark} {step.provider:<{width}}  {status:<11} {clean(step.why, 160)}"
        if step.origin:
            row += style.dim(f"  [{d.origin(step.origin)}]")
        if step.status == "matched":
            row = style.green(row)
        elif step.status == "error":
            row = style.red(row)
        elif step.status == "shadowed":
            row = style.yellow(row)
        lines.append(row)
    if res.source_profile is not None and res.source_steps:
        lines.append(
            f"    source profile '{clean(res.source_profile)}' (environment variables off):"
        )
        for step in res.source_steps:
            mark = _MARK.get(step.status, "?")
            lines.append(
                f"      {mark} {step.provider:<{width}}  {step.status:<11} {clean(step.why, 140)}"
            )
    lines.append("")
    if res.error is not None:
        lines.append(
            style.red(f"  the CLI will fail: {res.error.code}: {clean(res.error.message, 300)}")
        )
    elif res.source in ASKS_THE_NETWORK:
        lines.append(
            f"  would ask    {source_long(res.source)} (not checked offline): its answer decides"
        )
    elif res.source is not None:
        lines.append(f"  will run as  {_identity_words(res)}  via {res.source}")
    else:
        lines.append("  no credentials are looked up (unsigned requests)")
    if res.session is not None:
        lines.append(f"  logged in    {_session_words(res.session, res.now)}")
    if res.source_session is not None:
        lines.append(f"  source login {_session_words(res.source_session, res.now)}")
    if res.shadowed:
        lines.append(f"  shadowed     {', '.join(res.shadowed)}")
    lines.append("")
    if findings:
        lines.append(style.bold("  findings:"))
        for f in findings:
            tag = f.severity.upper()
            tag = (
                style.red(tag)
                if f.severity == "block"
                else style.yellow(tag)
                if f.severity == "warn"
                else tag
            )
            lines.append(f"    {tag} {f.rule}: {clean(f.message, 400)}")
            lines.append(f"        fix: {clean(f.fix, 300)}")
        lines.append("")
    shown = verdict.upper()
    shown = (
        style.red(shown)
        if verdict == "block"
        else style.yellow(shown)
        if verdict == "warn"
        else style.green(shown)
    )
    lines.append(f"  verdict: {shown}")
    return "\n".join(lines) + "\n"


class _Displayer:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def path(self, path: str | None) -> str:
        if path is None:
            return "-"
        if path == "":
            return '"" (none)'
        return clean(paths.display(path, self.environ))

    def origin(self, origin: str) -> str:
        return clean(paths.display(origin, self.environ))


def _identity_words(res: Resolution) -> str:
    ident = res.identity
    parts = []
    if ident.principal:
        parts.append(clean(ident.principal))
    parts.append(account_words(ident.account, ident.account_from))
    if ident.key_id:
        parts.append(f"key {identity.mask_key_id(ident.key_id)}")
    if ident.expires is not None:
        parts.append(f"expires {identity.format_utc(ident.expires)}")
    return "  ".join(parts)


def _session_words(session: Session, now: float) -> str:
    kind = SESSION_WORDS[session.kind]
    who = clean(session.principal or "?")
    account = f"account {session.account}" if session.account else "account unknown"
    state = session.state
    if session.expires is not None:
        state += f", {identity.format_remaining(session.expires - now)}"
    return f"{who}  {account}  ({kind} of profile '{clean(session.profile)}', {state})"


# -- the shim's messages -----------------------------------------------------------------------


def _command_words(res: Resolution, argv: list[str]) -> str:
    """``aws s3 cp …``: the command and operation only.  Arguments are never repeated: they can
    hold secrets (``--secret-string``, ``--password``), and a block message must not echo one."""
    words = [clean(w, 40) for w in (res.args.command, res.args.operation) if w]
    if len(argv) > len(words):
        words.append("…")
    return " ".join(["aws", *words])


def _uses_line(res: Resolution, environ: Mapping[str, str]) -> str:
    d = _Displayer(environ)
    where = res.found_origin()
    at = f" ({d.origin(where)})" if where else ""
    return f"{source_long(res.source)}{at} → {_identity_words(res)}"


def shim_message(
    res: Resolution,
    findings: list[Finding],
    verdict: str,
    argv: list[str],
    environ: Mapping[str, str],
    style: Style,
    *,
    policy_file: str,
    width: int = 100,
) -> str:
    """The compact stderr block of a warning or a block: what will be used, what it shadows,
    why it matters, the fix, and how to get past it.  Lines are wrapped at ``width``."""
    d = _Displayer(environ)
    command = _command_words(res, argv)
    rows: list[tuple[str, str, str]] = []  # (style name, first-line prefix, text)
    if verdict == "block":
        rows.append(("red", "", f"awsguard: blocked `{command}` (exit 77)"))
    else:
        rows.append(("yellow", "", f"awsguard: warning for `{command}`"))
    if res.source is not None:
        rows.append(("", "  will use  ", _uses_line(res, environ)))
    for session in (res.session, res.source_session):
        if session is not None:
            if res.source != SESSION_METHOD[session.kind]:
                rows.append(("", "  shadows   ", _session_words(session, res.now)))
            break
    fixes: list[str] = []
    for f in findings:
        mark = "✗" if f.severity == "block" else "!"
        rows.append(("", f"  {mark} ", f"{f.rule}: {clean(f.message, 400)}"))
        fixes.append(clean(f.fix, 300))
    # One fix per line, and none that another one already says (a longer variant wins).
    distinct = [
        fix
        for n, fix in enumerate(fixes)
        if fix not in fixes[:n] and not any(o != fix and o.startswith(fix) for o in fixes)
    ]
    rows.extend(("bold", "  fix: ", fix) for fix in distinct)
    policy = d.path(policy_file)
    rules = sorted({f.rule for f in findings if f.severity == verdict})
    if verdict == "block":
        rows.append(("dim", "  run it anyway: ", f"AWSGUARD=off {command}"))
        rows.append(
            (
                "dim",
                "  only warn: ",
                "AWSGUARD_MODE=warn, or "
                + ", ".join(f'rules.{r} = "warn"' for r in rules)
                + f" in {policy}",
            )
        )
    else:
        rows.append(
            (
                "dim",
                "  silence: ",
                ", ".join(f'rules.{r} = "off"' for r in rules) + f" in {policy}",
            )
        )
    lines = []
    for kind, prefix, text in rows:
        for line in _wrap(prefix, text, width):
            lines.append(getattr(style, kind)(line) if kind else line)
    return "\n".join(lines)


def _wrap(prefix: str, text: str, width: int) -> list[str]:
    """``prefix + text`` folded at spaces to ``width`` columns, continuation lines indented
    under the text (never splitting a word; a long word simply overflows)."""
    indent = " " * len(prefix)
    lines: list[str] = []
    line = prefix
    for word in text.split(" "):
        if line.strip() and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = indent + word
        else:
            line = line + word if line in (prefix, indent) else f"{line} {word}"
    lines.append(line)
    return lines


def login_preflight(res: Resolution, environ: Mapping[str, str], style: Style) -> str:
    """Before ``aws login``: the profile's current credentials that will still win afterwards."""
    from awsguard.judge.policy import shadow_fix

    if res.source not in BEFORE_LOGIN:
        return ""
    profile = clean(res.chain_profile)
    return "\n".join(
        [
            style.yellow(
                f"awsguard: after this login, profile '{profile}' will still run as the "
                "credentials below: they come before the login session in the CLI's chain"
            ),
            f"  will use  {_uses_line(res, environ)}",
            f"    fix: {clean(shadow_fix(res.source, res.chain_profile, res.found_origin(), environ), 300)}",
            style.dim("  (AWS CLI 2.32.32 and later refuse to log in such a profile)"),
        ]
    )


def confirm_question(res: Resolution, argv: list[str], style: Style) -> tuple[str, set[str]]:
    """The question ``confirm = true`` asks, and the answers that mean yes."""
    account = res.identity.account
    answers = {res.chain_profile}
    if account:
        answers.add(account)
    wanted = f"the account id ({account}) or the profile name" if account else "the profile name"
    text = "\n".join(
        [
            style.bold(
                f"awsguard: `{_command_words(res, argv)}` may change things in "
                f"{account_words(account, res.identity.account_from)} "
                f"(profile '{clean(res.chain_profile)}' asks to confirm)"
            ),
            f"  to run it, type {wanted}",
        ]
    )
    return text, answers


def confirm_refused(res: Resolution, argv: list[str], why: str) -> str:
    return (
        f"awsguard: blocked `{_command_words(res, argv)}` (exit 77): profile "
        f"'{clean(res.chain_profile)}' asks to confirm changes, and {why}\n"
        "  run it from a terminal, or AWSGUARD=off aws … to skip the question once"
    )
