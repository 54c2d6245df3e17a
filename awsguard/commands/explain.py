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

    from awsguard.host.realcli import CliInfo


def discover_cli(environ: Mapping[str, str]) -> tuple[CliInfo | None, int | None, bool | None]:
    """The real aws (or None), the major version whose rules apply, and whether it has awscrt."""
    from awsguard.host import dirs, realcli

    try:
        path = realcli.find_real_aws(environ, skip_dirs=[dirs.shim_bin_dir(environ)])
        info = (
            realcli.cli_info(path, environ, cache_dir=dirs.default_cache_dir(environ))
            if path
            else None
        )
        override = realcli.major_override(environ)
    except realcli.RealCliError as exc:
        raise errors.AwsGuardError(str(exc), code=errors.USAGE) from None
    major = override or (info.major if info else None)
    return info, major, info.crt if info else None


def run(
    aws_args: list[str],
    *,
    as_json: bool,
    environ: Mapping[str, str],
    out: TextIO | None = None,
    color: bool | None = None,
) -> int:
    out = out or sys.stdout
    info, major, crt = discover_cli(environ)
    from awsguard.host.dirs import default_cache_dir

    res = resolve(aws_args, environ, major=major, crt=crt, cache_dir=default_cache_dir(environ))
    from awsguard.judge import settings

    # The same policy the shim applies (a bad setting is a SettingsError: exit 2, one message).
    config = settings.load(environ, cache_dir=default_cache_dir(environ))
    findings, verdict = policy.judge(res, environ, settings=None if config.off else config)
    if as_json:
        out.write(report.dumps(report.to_json(res, findings, verdict, info), indent=2) + "\n")
        return errors.OK
    if color is None:
        color = "NO_COLOR" not in environ and out.isatty() and environ.get("TERM") != "dumb"
    out.write(report.to_text(res, findings, verdict, info, environ, aws_args, report.Style(color)))
    return errors.OK
