"""Renderings of ``awsguard verify``: the prediction, the logged-in session and STS's answer
side by side, the verdict and its fix; the ``--all`` table; JSON; the progress line.

Nothing secret reaches these functions except the access key id, which is only ever shown masked;
every other value from a file, the environment or a service passes
:func:`awsguard.words.clean`.
"""

from __future__ import annotations

from awsguard import __version__
from awsguard.predict import identity
from awsguard.present.report import Style, _session_json
from awsguard.words import account_words, clean, profile_from_words

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO

    from awsguard.commands.verify import Outcome
    from awsguard.host.realcli import CliInfo

_TITLE = {
    "as-predicted": "AS PREDICTED",
    "wrong-identity": "WRONG IDENTITY",
    "prediction-wrong": "PREDICTION WRONG",
    "cannot-verify": "CANNOT VERIFY",
}
_MARK = {"as-predicted": "✓", "wrong-identity": "✗", "prediction-wrong": "✗", "cannot-verify": "?"}


def _masked(key_id: str | None) -> str | None:
    return identity.mask_key_id(key_id) if key_id else None


def to_json(outcome: Outcome, cli: CliInfo | None) -> dict[str, object]:
    res, answer = outcome.res, outcome.answer
    error = None
    if answer is not None and answer.error_class is not None:
        error = {
            "class": answer.error_class,
            "code": answer.error_code,
            "message": answer.message,
            "phase": answer.phase,
        }
    sts = None
    if answer is not None and answer.account is not None:
        sts = {"account": answer.account, "arn": answer.arn, "user_id": answer.user_id}
    return {
        "schema": 1,
        "verdict": outcome.verdict,
        "exit": outcome.exit_code,
        "profile": res.profile,
        "profile_from": res.profile_from,
        "cli": None
        if cli is None
        else {"path": cli.path, "version": cli.version, "major": cli.major},
        "semantics": res.major,
        "prediction": {
            "source": res.source,
            "account": outcome.predicted_account,
            "account_from": res.identity.account_from,
            "principal": res.identity.principal,
            "key_id": _masked(res.identity.key_id),
            "error": None
            if res.error is None
            else {"code": res.error.code, "message": res.error.message},
            "verdict": outcome.policy_verdict,
        },
        "session": _session_json(res.session),
        "used": None
        if answer is None or answer.method is None
        else {"source": answer.method, "key_id": _masked(answer.key_id)},
        "sts": sts,
        "error": error,
        "endpoint": outcome.endpoint,
        "region": outcome.region,
        "reasons": outcome.reasons,
        "findings": [
            {"rule": f.rule, "severity": f.severity, "message": f.message, "fix": f.fix}
            for f in outcome.findings
        ],
    }


# -- text ---------------------------------------------------------------------------------------


def _or(value: str | None, default: str = "-") -> str:
    return clean(value, 80) if value else default


def _table(outcome: Outcome) -> list[tuple[str, ...]]:
    """Rows of (label, predicted, logged in, STS) - the logged-in column only with a session."""
    res, answer = outcome.res, outcome.answer
    session = res.session
    predicted_source = res.source or (f"fails: {res.error.code}" if res.error else "-")
    sts_source = "-"
    if answer is not None and answer.method:
        sts_source = f"{answer.method} (botocore)"
    account = outcome.predicted_account
    if account and account == res.identity.account:
        predicted_account = account_words(account, res.identity.account_from).removeprefix(
            "account "
        )
    else:
        predicted_account = account or "unknown offline"
    rows: list[tuple[str, ...]] = [
        ("", "PREDICTED (offline)", "LOGGED IN", "STS SAYS"),
        ("source", clean(predicted_source, 60), "", sts_source),
        (
            "account",
            predicted_account,
            "",
            _or(answer.account if answer else None),
        ),
        (
            "principal",
            _or(res.identity.principal),
            "",
            _or(answer.arn if answer else None),
        ),
        (
            "key",
            _or(_masked(res.identity.key_id)),
            "",
            _or(_masked(answer.key_id) if answer else None),
        ),
        ("user id", "", "", _or(_user_id(answer.user_id if answer else None))),
    ]
    if session is None:
        return [(r[0], r[1], r[3]) for r in rows]
    kind = "aws login" if session.kind == "login" else "SSO"
    left = session.state
    if session.expires is not None and session.expires > res.now:
        left += f", {identity.format_remaining(session.expires - res.now)} left"
    elif session.expires is not None:
        left = identity.format_remaining(session.expires - res.now)
    filled = {
        "": f"LOGGED IN ({kind})",
        "source": f"{'login' if session.kind == 'login' else 'sso'} ({clean(left, 40)})",
        "account": _or(session.account, "unknown"),
        "principal": _or(session.principal),
    }
    return [(r[0], r[1], filled.get(r[0], r[2]), r[3]) for r in rows]


def _user_id(user_id: str | None) -> str | None:
    """STS's UserId: an IAM unique id (not a secret), or ``ROLEID:session``; shown as is but
    cut, like every value from a service."""
    return clean(user_id, 60) if user_id else None


def to_text(
    outcome: Outcome,
    cli: CliInfo | None,
    environ: Mapping[str, str],
    argv: list[str],
    *,
    color: bool,
) -> str:
    style = Style(color)
    res = outcome.res
    which = (
        f"aws-cli {clean(cli.version or '?', 40)}, v{res.major} rules"
        if cli is not None
        else f"no real aws found, v{res.major} rules"
    )
    name = clean(res.profile) if res.profile else '""'
    lines = [
        style.bold(f"awsguard verify: profile {name} ({profile_from_words(res.profile_from)})")
        + f"  [{which}]"
    ]
    given = [a for a in argv if not a.startswith("--profile=")]
    if given:
        lines.append("  for          aws " + " ".join(clean(a, 60) for a in given))
    if outcome.endpoint:
        lines.append(f"  endpoint     {clean(outcome.endpoint, 120)}")
    lines.append("")
    rows = _table(outcome)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        text = "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        lines.append(style.dim(text) if n == 0 else text)
    lines.append("")
    verdict = outcome.verdict
    title = f"{_MARK[verdict]} {_TITLE[verdict]}"
    paint = {
        "as-predicted": style.green,
        "wrong-identity": style.red,
        "prediction-wrong": style.red,
        "cannot-verify": style.yellow,
    }[verdict]
    lines.append("  " + paint(title) + _headline(outcome))
    for reason in outcome.reasons:
        lines.append(f"    {clean(reason, 400)}")
    answer = outcome.answer
    if answer is not None and answer.error_class is not None:
        what = answer.error_class + (f" ({answer.error_code})" if answer.error_code else "")
        message = f": {answer.message}" if answer.message else ""
        lines.append(f"    error: {clean(what, 80)}{message}")
    lines.extend(_advice(outcome, cli))
    return "\n".join(lines) + "\n"


def _headline(outcome: Outcome) -> str:
    answer = outcome.answer
    if outcome.verdict == "as-predicted" and answer is not None:
        return f": aws runs as {_or(answer.arn)} (account {_or(answer.account)}), as awsguard said"
    if outcome.verdict == "wrong-identity" and answer is not None:
        return f": aws runs as {_or(answer.arn)} (account {_or(answer.account)})"
    return ""


def _advice(outcome: Outcome, cli: CliInfo | None) -> list[str]:
    lines: list[str] = []
    if outcome.verdict == "wrong-identity":
        fixes = []
        for f in outcome.findings:
            if f.severity in ("warn", "block") and f.fix not in fixes:
                fixes.append(f.fix)
        if not fixes:
            fixes.append(
                "give this profile the credentials of the account it should use "
                "(`awsguard explain -- --profile NAME` shows where each source comes from)"
            )
        lines.extend(f"    fix: {clean(fix, 300)}" for fix in fixes)
    elif outcome.verdict == "prediction-wrong":
        lines.extend(_bug_report(outcome, cli))
    elif outcome.verdict == "cannot-verify":
        findings = [f for f in outcome.findings if f.severity != "off"]
        if findings:
            lines.append(f"    offline, awsguard says: {outcome.policy_verdict}")
            for f in findings:
                lines.append(f"      {f.rule}: {clean(f.message, 300)}")
                lines.append(f"      fix: {clean(f.fix, 300)}")
    return lines


def _bug_report(outcome: Outcome, cli: CliInfo | None) -> list[str]:
    import platform

    res, answer = outcome.res, outcome.answer
    botocore = answer.botocore if answer is not None and answer.botocore else "?"
    version = f"aws-cli {cli.version}" if cli is not None and cli.version else "aws-cli ?"
    return [
        "    This is an awsguard bug: its offline prediction disagrees with what the CLI's own",
        "    code (botocore) did.  Please report it with the lines below; they hold no secret",
        "    (key ids are masked):",
        f"      awsguard {__version__}; {clean(version, 60)} (v{res.major} rules); "
        f"botocore {clean(botocore, 30)}; Python {platform.python_version()}",
        f"      profile from {res.profile_from}; predicted source {res.source or '-'}, "
        f"account {outcome.predicted_account or '-'} ({res.identity.account_from or '-'})",
        f"      botocore used {answer.method if answer and answer.method else '-'}; "
        f"STS account {answer.account if answer and answer.account else '-'}; "
        f"error {answer.error_class if answer and answer.error_class else '-'}",
        "    and, if you can, `awsguard explain --json` for the same arguments (it shows file",
        "    paths and profile names, never keys).",
    ]


def all_to_text(
    outcomes: list[Outcome], total: int, environ: Mapping[str, str], *, color: bool
) -> str:
    style = Style(color)
    lines = [
        style.bold(
            f"awsguard verify --all: {len(outcomes)} of {total} profiles have static keys or an "
            "aws login session"
        )
    ]
    if not outcomes:
        lines.append("  nothing to verify")
        return "\n".join(lines) + "\n"
    head = ("", "PROFILE", "VERDICT", "PREDICTED", "STS ACCOUNT", "STS ARN / WHY")
    rows = []
    for o in outcomes:
        answer = o.answer
        if answer is not None and answer.arn and o.verdict in ("as-predicted", "wrong-identity"):
            detail = clean(answer.arn, 80)
        elif o.reasons:
            detail = clean(o.reasons[-1], 120)
        elif answer is not None and answer.error_class:
            detail = clean(answer.error_code or answer.error_class, 60)
        else:
            detail = "-"
        rows.append(
            (
                _MARK[o.verdict],
                clean(o.res.profile, 40) or '""',
                o.verdict,
                o.predicted_account or (o.res.source or "-") if not o.res.error else "fails",
                _or(answer.account if answer else None),
                detail,
            )
        )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines.append("")
    lines.append(
        style.dim("  ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)).rstrip())
    )
    for o, row in zip(outcomes, rows, strict=True):
        text = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        if o.verdict in ("wrong-identity", "prediction-wrong"):
            text = style.red(text)
        elif o.verdict == "cannot-verify":
            text = style.yellow(text)
        lines.append(text)
    counts = {v: sum(1 for o in outcomes if o.verdict == v) for v in _TITLE}
    lines.append("")
    lines.append(
        "  "
        + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        + ";  details: awsguard verify --profile NAME"
    )
    return "\n".join(lines) + "\n"


class Progress:
    """``verifying 3/12`` on a terminal's stderr, redrawn in place; nothing otherwise."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        try:
            self.on = total > 0 and stream.isatty()
        except (AttributeError, ValueError):
            self.on = False

    def show(self, done: int) -> None:
        if not self.on:
            return
        width = 30
        filled = width * done // self.total
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\rawsguard verify: [{bar}] {done}/{self.total} profiles")
        self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.stream.write("\r\033[K")
            self.stream.flush()
