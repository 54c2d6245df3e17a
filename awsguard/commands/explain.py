"""``awsguard explain``: which credentials ``aws ARGS`` will use, why, and what they shadow."""

from __future__ import annotations

import sys

from awsguard import errors
from awsguard.judge import policy
from awsguard.predict.resolver import resolve
from awsguard.present import report

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import TextIO

    from awsguard.host.realcli import CliInfo, Semantics


def discover_cli(environ: Mapping[str, str]) -> tuple[CliInfo | None, int | None, bool | None]:
    """The real aws (or None), the major version whose rules apply, and whether it has awscrt
    (:func:`awsguard.host.realcli.semantics`, for commands that follow one major)."""
    sem = cli_semantics(environ)
    return sem.info, sem.major, sem.crt(sem.major)


def cli_semantics(environ: Mapping[str, str]) -> Semantics:
    """:func:`awsguard.host.realcli.semantics` with the cache the shim keeps; a bad
    ``AWSGUARD_AWS`` or ``AWSGUARD_CLI_MAJOR`` is a usage error."""
    from awsguard.host import dirs, findaws, realcli

    try:
        return realcli.semantics(environ, probe=True, cache_dir=dirs.default_cache_dir(environ))
    except findaws.RealCliError as exc:
        raise errors.AwsGuardError(str(exc), code=errors.USAGE) from None


def run(
    aws_args: list[str],
    *,
    as_json: bool,
    environ: Mapping[str, str],
    out: TextIO | None = None,
    color: bool | None = None,
) -> int:
    out = out or sys.stdout
    sem = cli_semantics(environ)
    from awsguard.host.dirs import default_cache_dir
    from awsguard.judge import settings

    # The same policy the shim applies (a bad setting is a SettingsError: exit 2, one message).
    config = settings.load(environ, cache_dir=default_cache_dir(environ))
    # Under each major whose rules may apply; with both (a wrapper that may run either CLI), the
    # stricter verdict is the one shown, as the shim takes it (the first major on a tie).
    judged = []
    for major in sem.majors:
        res = resolve(
            aws_args,
            environ,
            major=major,
            crt=sem.crt(major),
            cache_dir=default_cache_dir(environ),
        )
        findings, verdict = policy.judge(res, environ, settings=None if config.off else config)
        judged.append((("allow", "warn", "block").index(verdict), res, findings, verdict))
    _, res, findings, verdict = max(judged, key=lambda j: j[0])
    if as_json:
        doc = report.to_json(res, findings, verdict, sem.info, rules=sem.rules)
        out.write(report.dumps(doc, indent=2) + "\n")
        return errors.OK
    if color is None:
        color = report.colour_wanted(environ, out)
    style = report.Style(color)
    out.write(
        report.to_text(res, findings, verdict, sem.info, environ, aws_args, style, rules=sem.rules)
    )
    return errors.OK
