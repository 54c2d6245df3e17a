"""The plumbum application behind ``awsguard``: options, help and subcommands.

Each subcommand class only parses its options and calls ``run()`` in ``awsguard.commands.<name>``,
where the work - and any heavy import - lives.
"""

from __future__ import annotations

import os
import sys

from plumbum import cli

from awsguard import __version__, errors


class AwsGuard(cli.Application):
    """Make sure `aws` runs as the identity you think it runs as."""

    PROGNAME = "awsguard"
    VERSION = __version__
    DESCRIPTION = (
        "awsguard predicts, offline and exactly as the AWS CLI will, which credentials an aws "
        "command uses, and catches the ones that shadow your `aws login` session."
    )

    def main(self, *args: str) -> int:
        if args:
            print(f"awsguard: unknown command {args[0]!r}", file=sys.stderr)
            print("  see: awsguard --help", file=sys.stderr)
            return errors.USAGE
        if not self.nested_command:
            self.help()
            return errors.USAGE
        return errors.OK


@AwsGuard.subcommand("explain")
class Explain(cli.Application):
    """Show which credentials `aws AWS-ARGS` will use, what they shadow, and the verdict.

    Reads the same environment and files the real aws would, offline.  The aws arguments
    follow `--` (or simply start with the first word that is not an option), e.g.:
        awsguard explain -- s3 ls --profile prod
        awsguard explain --json s3 ls --profile prod
    """

    as_json = cli.Flag("--json", help="print the machine-readable report (schema 1)")

    def main(self, *aws_args: str) -> int:
        from awsguard.commands import explain

        return explain.run(list(aws_args), as_json=self.as_json, environ=os.environ)
