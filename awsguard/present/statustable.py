"""The ``awsguard status`` table and its JSON rows.

A JSON row is the summary of the ``explain --json`` object for ``--profile NAME sts
get-caller-identity`` - the same field names and shapes (docs/ARCHITECTURE.md §5.1), cut to what a list
needs - plus ``region`` and ``current``.  Text rows show the same facts in columns; every value
from a file or the environment passes :func:`awsguard.words.clean`.
"""

from __future__ import annotations

from awsguard.predict import identity, paths
from awsguard.present.report import Style, to_json
from awsguard.present.segment import _MARKS
from awsguard.words import clean, source_long, source_short

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsguard.commands.status import Row, Table
    from awsguard.host.realcli import CliInfo
    from awsguard.predict.resolver import Resolution, Session

# The fields of the explain object a status row carries (names and shapes unchanged).
SUMMARY_FIELDS = (
    "profile",
    "profile_from",
    "source",
    "error",
    "identity",
    "session",
    "shadowed",
    "findings",
    "verdict",
)


def row_json(row: Row, cli: CliInfo | None) -> dict[str, object]:
    full = to_json(row.res, row.findings, row.verdict, cli)
    summary = {name: full[name] for name in SUMMARY_FIELDS}
    summary["region"] = clean(row.region, 64) if row.region else None  # never a second line
    summary["current"] = row.current
    return summary


# -- text --------------------------------------------------------------------------------------

_PROFILE_MAX = 40
_PRINCIPAL_MAX = 40
_HEAD = ("", "PROFILE", "SOURCE", "ACCOUNT", "REGION", "LOGGED IN AS", "LEFT", "VERDICT")


def session_words(session: Session | None) -> str:
    """``login test_user_B 999999999999``, ``sso ReadOnly 123456789012``, or ``-``."""
    if session is None:
        return "-"
    who = "?"
    if session.principal:
        if session.kind == "login":
            principal = identity.principal_from_arn(session.principal)
            name = principal.name if principal is not None and principal.name else None
            if principal is not None and principal.kind == "root":
                name = "root"
            who = name or session.principal
        else:
            who = session.principal.removeprefix("sso role ")
    account = session.account or "?"
    return f"{session.kind} {clean(who, _PRINCIPAL_MAX)} {clean(account, 20)}"


def time_left(session: Session | None, now: float) -> str:
    if session is None:
        return ""
    if session.state == "missing":
        return "no token"
    if session.expires is None:
        return session.state
    left = session.expires - now
    return "expired" if left <= 0 else identity.format_remaining(left)


def source_word(res: Resolution) -> str:
    if res.source is None:
        return "-"
    return source_short(res.source, clean(res.source, 20))


def account_word(res: Resolution) -> str:
    if res.error is not None:
        return "-"
    return clean(res.identity.account, 20) if res.identity.account else "?"


def verdict_words(row: Row) -> str:
    """``ok``, ``block login-shadowed``, ``warn env-overrides-profile +1``,
    ``fails NoCredentialsError``."""
    problem = row.problem
    if problem is None:
        return "ok"
    if problem == "error":
        code = row.res.error.code if row.res.error is not None else "?"
        return f"fails {clean(code, 40)}"
    rules = [f.rule for f in row.findings if f.severity == problem]
    text = f"{problem} {rules[0]}" if rules else problem
    return text + (f" +{len(rules) - 1}" if len(rules) > 1 else "")


def _mark(row: Row) -> str:
    return _MARKS.get(row.problem or "", "")


def to_text(
    table: Table,
    rows: list[Row],
    environ: Mapping[str, str],
    *,
    color: bool,
    problems_only: bool,
) -> str:
    style = Style(color)
    lines = [style.bold(_title(table, environ))]
    if not table.rows:
        lines.append("  no profiles: the config and credentials files define none")
        lines.append("  add one: aws configure --profile NAME, or aws login --profile NAME")
        return "\n".join(lines) + "\n"
    if problems_only and not rows:
        lines.append(f"  no problems in {_count(len(table.rows))}")
        return "\n".join(lines) + "\n"
    cells = [
        (
            ("*" if row.current else " ") + _mark(row),
            clean(row.name, _PROFILE_MAX) if row.name else '""',
            source_word(row.res),
            account_word(row.res),
            clean(row.region, 20) if row.region else "-",
            session_words(row.res.session),
            time_left(row.res.session, table.now),
            verdict_words(row),
        )
        for row in rows
    ]
    widths = [max(len(c[i]) for c in [_HEAD, *cells]) for i in range(len(_HEAD))]
    lines.append("")
    lines.append(style.dim(_join(_HEAD, widths)))
    for row, cell in zip(rows, cells, strict=True):
        text = _join(cell, widths)
        problem = row.problem
        if problem == "block":
            text = style.red(text)
        elif problem == "warn":
            text = style.yellow(text)
        if row.current:
            text = style.bold(text)
        lines.append(text)
    lines.append("")
    lines.extend(_current_lines(table, environ))
    lines.append("  " + _summary(table, problems_only))
    lines.append(
        style.dim(
            "  details: awsguard explain -- --profile NAME;  check with STS: awsguard verify --profile NAME"
        )
    )
    return "\n".join(lines) + "\n"


def _join(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def _count(n: int) -> str:
    return f"{n:,} profile" + ("" if n == 1 else "s")


def _title(table: Table, environ: Mapping[str, str]) -> str:
    res = table.current
    config, credentials = (
        clean(paths.display(path, environ)) if path else '"" (no file)'
        for path in (res.config_path, res.credentials_path)
    )
    cli = table.cli
    if cli is None:
        which = f"no real aws found, v{res.major} rules"
    else:
        which = f"aws-cli {clean(cli.version or '?', 40)}, v{res.major} rules"
    return f"awsguard status: {_count(len(table.rows))} in {config} and {credentials} ({which})"


def _current_lines(table: Table, environ: Mapping[str, str]) -> list[str]:
    """What `aws` without --profile does now, when the table alone does not say it."""
    res = table.current
    name = clean(res.profile) if res.profile else '""'
    how = {
        "AWS_PROFILE": "from AWS_PROFILE",
        "AWS_DEFAULT_PROFILE": "from AWS_DEFAULT_PROFILE",
        "implicit": "no profile named",
    }.get(res.profile_from, res.profile_from)
    row = next((r for r in table.rows if r.current), None)
    lines = [f"  * `aws` without --profile uses profile {name} ({how})"]
    if res.error is not None and (
        row is None or row.res.error is None or row.res.error.code != res.error.code
    ):
        lines.append(f"    and fails: {clean(res.error.code, 40)}: {clean(res.error.message, 200)}")
    elif row is not None and res.source != row.res.source:
        account = (
            clean(res.identity.account, 20)
            if res.identity.account
            else "an account unknown offline"
        )
        lines.append(f"    but {source_long(res.source)} win there: it runs as {account}")
    rules = sorted({f.rule for f in table.current_findings if f.severity in ("warn", "block")})
    if rules and (
        row is None
        or rules != sorted({f.rule for f in row.findings if f.severity in ("warn", "block")})
    ):
        lines.append(
            f"    {table.current_verdict}: {', '.join(rules)}  (awsguard explain shows why)"
        )
    return lines


def _summary(table: Table, problems_only: bool) -> str:
    counts = {"block": 0, "warn": 0, "error": 0}
    for row in table.rows:
        if row.problem is not None:
            counts[row.problem] += 1
    ok = len(table.rows) - sum(counts.values())
    text = (
        f"{_count(len(table.rows))}: {counts['block']} blocked, {counts['warn']} warned, "
        f"{counts['error']} failing in the CLI, {ok} ok"
    )
    if problems_only and ok:
        text += "  (the ok ones: awsguard status)"
    return text
