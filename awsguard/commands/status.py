"""``awsguard status``: every profile of the config and credentials files, one row each.

Each row is what ``awsguard explain -- --profile NAME sts get-caller-identity`` says about that
profile - the winning source, the account as far as it can be told offline, the region, the
profile's logged-in session and its time left, and the verdict - so a row is exactly the
prediction ``awsguard verify --profile NAME`` checks against STS.  The profile ``aws`` would use
right now without ``--profile`` is marked ``*``; when the environment changes what it does
(access keys in the environment win, ``AWS_PROFILE`` names a profile that does not exist) a line
under the table says so.

It scales: both files are read and parsed once, and every profile is resolved against that one
reading (:func:`awsguard.predict.resolver.resolve_profiles`), not once per profile.
"""

from __future__ import annotations

import sys

from awsguard import errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO

    from awsguard.host.realcli import CliInfo
    from awsguard.judge.policy import Finding
    from awsguard.judge.settings import Settings
    from awsguard.predict.resolver import Resolution

# What status asks about each profile: a read-only call, so per-operation rules (read-only,
# confirm) stay quiet, and the very call `awsguard verify` makes.
PROBE_ARGS = ("sts", "get-caller-identity")

# How bad a row is: a block, a warning, the CLI failing for this profile, nothing.
BLOCK, WARN, ERROR = "block", "warn", "error"
RANK = {BLOCK: 3, WARN: 2, ERROR: 1}


class Row:
    """One profile: its resolution, the policy's findings and verdict, and where it stands."""

    __slots__ = ("current", "findings", "region", "res", "verdict")

    def __init__(
        self, res: Resolution, findings: list[Finding], verdict: str, region: str, current: bool
    ) -> None:
        self.res = res
        self.findings = findings
        self.verdict = verdict  # allow | warn | block (the policy's)
        self.region = region
        self.current = current

    @property
    def name(self) -> str:
        return self.res.profile

    @property
    def problem(self) -> str | None:
        """``block``, ``warn``, ``error`` (the CLI fails for this profile) or None."""
        if self.verdict in (BLOCK, WARN):
            return self.verdict
        return ERROR if self.res.error is not None else None


class Table:
    """Everything ``status`` shows: the rows, and what ``aws`` does right now."""

    def __init__(
        self,
        rows: list[Row],
        current: Resolution,
        current_findings: list[Finding],
        current_verdict: str,
        cli: CliInfo | None,
        now: float,
    ) -> None:
        self.rows = rows
        self.current = current
        self.current_findings = current_findings
        self.current_verdict = current_verdict
        self.cli = cli
        self.now = now

    def problems(self) -> list[Row]:
        """Rows with a problem, worst first (file order within a kind)."""
        bad = [row for row in self.rows if row.problem is not None]
        bad.sort(key=lambda row: -RANK[row.problem or ERROR])
        return bad


def gather(
    environ: Mapping[str, str],
    *,
    cli: CliInfo | None,
    major: int | None,
    crt: bool | None,
    settings: Settings | None,
    now: float | None = None,
    cache_dir: str | None = None,
) -> Table:
    """Resolve and judge every profile; raises :class:`errors.AwsGuardError` when the files
    cannot be read as the CLI reads them (the CLI fails for every profile then)."""
    import gc
    import time

    from awsguard.judge import policy
    from awsguard.predict import argv as argv_mod
    from awsguard.predict import inifile
    from awsguard.predict.awsfiles import AwsFiles
    from awsguard.predict.resolver import (
        profile_names,
        resolve,
        resolve_profiles,
        select_profile,
    )
    from awsguard.present.segment import _region

    now = time.time() if now is None else now
    files = AwsFiles(environ, cache_dir=cache_dir)
    # Hundreds of thousands of small objects that all stay alive until the table is printed: the
    # cyclic collector would walk them again and again (half the time at 10,000 profiles) and
    # free nothing.  So it is paused, and what was built is then frozen (left out of later
    # collections; reference counting still frees it all once the table is dropped).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            names = profile_names(files)
        except inifile.ParseError as exc:
            where = f"{exc.path}:{exc.line}" if exc.line is not None else exc.path
            raise errors.AwsGuardError(
                f"cannot list the profiles: {_origin_words(where, environ)}: {exc.reason} "
                "(the CLI fails the same way for every profile)",
                "fix that line (`awsguard doctor` checks both files)",
            ) from None
        current = resolve([], environ, major=major, crt=crt, now=now, cache_dir=cache_dir)
        resolutions = resolve_profiles(
            names, environ, files=files, major=major, crt=crt, now=now, tail=PROBE_ARGS
        )
        chosen, _ = select_profile(argv_mod.parse([], current.major), environ, current.major)
        current_name = "default" if chosen is None else chosen
        rows = []
        for res in resolutions:
            findings, verdict = policy.judge(res, environ, settings=settings)
            rows.append(
                Row(res, findings, verdict, _region(res, environ), res.profile == current_name)
            )
        current_findings, current_verdict = policy.judge(current, environ, settings=settings)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
    return Table(rows, current, current_findings, current_verdict, cli, now)


def _origin_words(origin: str | None, environ: Mapping[str, str]) -> str:
    from awsguard.predict import paths
    from awsguard.words import clean

    return clean(paths.display(origin, environ)) if origin else "a file"


def load_settings(environ: Mapping[str, str], cache_dir: str | None) -> Settings | None:
    """The policy in force (None when ``AWSGUARD=off``); a bad setting raises SettingsError."""
    from awsguard.judge import settings

    config = settings.load(environ, cache_dir=cache_dir)
    return None if config.off else config


def run(
    *,
    as_json: bool,
    problems_only: bool,
    environ: Mapping[str, str],
    out: TextIO | None = None,
    color: bool | None = None,
    now: float | None = None,
) -> int:
    from awsguard.commands.explain import discover_cli
    from awsguard.host.dirs import default_cache_dir
    from awsguard.present import statustable

    out = out or sys.stdout
    cli, major, crt = discover_cli(environ)
    cache_dir = default_cache_dir(environ)
    settings = load_settings(environ, cache_dir)
    table = gather(
        environ, cli=cli, major=major, crt=crt, settings=settings, now=now, cache_dir=cache_dir
    )
    rows = table.problems() if problems_only else table.rows
    if as_json:
        from awsguard.present import report

        out.write(report.dumps([statustable.row_json(row, cli) for row in rows], indent=2) + "\n")
    else:
        if color is None:
            from awsguard.present.report import colour_wanted

            color = colour_wanted(environ, out)
        out.write(
            statustable.to_text(table, rows, environ, color=color, problems_only=problems_only)
        )
    if problems_only and rows:
        return errors.FAILURE
    return errors.OK
