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


@AwsGuard.subcommand("install")
class Install(cli.Application):
    """Write the `aws` shim and print its directory.

    The shim goes to ${AWSGUARD_HOME:-${XDG_DATA_HOME:-~/.local/share}/awsguard}/bin/aws and is
    bound to this Python and this awsguard.  Running it again is a no-op; after an upgrade it
    rewrites the shim.  Put the printed directory first on PATH (`awsguard init zsh|bash` does).
    """

    force = cli.Flag("--force", help="replace an `aws` in that directory that is not awsguard's")

    def main(self) -> int:
        from awsguard.commands import install

        return install.run(os.environ, force=self.force)


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


@AwsGuard.subcommand("init")
class Init(cli.Application):
    """Print the shell integration: `eval "$(awsguard init zsh)"` (or bash) in your rc file.

    It installs the aws shim if needed, puts its directory first on PATH, and shows which
    profile, credential source and account aws would use in the prompt (zsh: RPROMPT, bash: the
    start of PS1; AWSGUARD_PROMPT_AUTO=0 leaves the prompt alone and only sets $AWSGUARD_PROMPT).
    """

    def main(self, shell: str) -> int:
        from awsguard.commands import init

        return init.run(shell, os.environ)


@AwsGuard.subcommand("prompt")
class Prompt(cli.Application):
    """Print the prompt segment: profile, source, account, region, time left, and a marker
    when aws would warn or block.  For starship, powerlevel10k and other prompt engines;
    `awsguard init` does the same without starting a process at each prompt.

    The layout is AWSGUARD_PROMPT_FORMAT, e.g. "aws:{profile} {source} {account} {region}
    {expires} {marker}"; NO_COLOR turns colours off.
    """

    from awsguard.commands.prompt import FORMATS, HOOKS

    fmt = cli.SwitchAttr(
        "--format",
        cli.Set(*FORMATS),
        default="plain",
        help="plain text; escaped and coloured for zsh or bash prompts; or JSON",
    )
    # What the shell integration runs: not for people, so not in --help.
    hook = cli.SwitchAttr(
        "--hook", cli.Set(*HOOKS), group="Hidden-switches", help="the report the hook reads"
    )
    session = cli.SwitchAttr(
        "--session", str, default="", group="Hidden-switches", help="the shell's $$"
    )

    def main(self) -> int:
        from awsguard.commands import prompt

        return prompt.run(
            fmt=str(self.fmt), hook=str(self.hook) if self.hook else None, session=self.session
        )


@AwsGuard.subcommand("status")
class Status(cli.Application):
    """List every profile of your config and credentials files, one row each, offline.

    A row is what `awsguard explain -- --profile NAME sts get-caller-identity` predicts: the
    winning credential source, the account (when it can be told offline), the region, the
    profile's logged-in session and its time left, and the verdict (!! blocked, ! warned,
    ? the CLI fails for it).  `*` marks the profile `aws` uses without --profile.  Examples:
        awsguard status
        awsguard status --problems        # only the profiles with a problem, worst first;
                                          # exits 1 when there is one (for CI and scripts)
        awsguard status --json | jq '.[] | select(.verdict == "block") | .profile'
    """

    as_json = cli.Flag("--json", help="print a JSON array: the explain summary of each profile")
    problems = cli.Flag(
        "--problems",
        help="only profiles that would be blocked, warned about, or fail in the CLI; exit 1 if any",
    )

    def main(self) -> int:
        from awsguard.commands import status

        return status.run(as_json=self.as_json, problems_only=self.problems, environ=os.environ)


@AwsGuard.subcommand("verify")
class Verify(cli.Application):
    """Ask STS who `aws` really runs as, and compare with awsguard's prediction.

    Makes one `sts get-caller-identity` call, signed with exactly the credentials the real aws
    would use for the same arguments (same profile selection, same files and environment), and
    shows side by side: awsguard's offline prediction, the session the profile is logged in
    as, and STS's answer.  Uses the network - only this command does.  Exit codes:
        0 as-predicted     STS agrees with the prediction and the logged-in session
        1 wrong-identity   aws runs as someone other than the session (or expect_account)
        2 cannot-verify    no answer: the CLI fails, STS refused, no network, timeout
        3 prediction-wrong STS disagrees with awsguard's prediction (an awsguard bug)
    Examples:
        awsguard verify                        # the profile aws uses now
        awsguard verify --profile prod
        awsguard verify -- s3 ls --profile prod --region eu-west-1
        awsguard verify --all                  # every profile with keys or an aws login
        awsguard verify --profile prod --json
    """

    as_json = cli.Flag("--json", help="print the machine-readable result")
    all_profiles = cli.Flag(
        "--all",
        help="verify every profile that has static keys or an aws login session (in parallel)",
    )
    profile = cli.SwitchAttr("--profile", str, help="the profile to verify (as aws --profile)")
    endpoint = cli.SwitchAttr(
        "--endpoint-url", str, help="the STS endpoint to ask (else AWS_ENDPOINT_URL(_STS), config)"
    )
    region = cli.SwitchAttr("--region", str, help="the region for STS (as aws --region)")

    def main(self, *aws_args: str) -> int:
        from awsguard.commands import verify

        return verify.run(
            list(aws_args),
            profile=self.profile,
            all_profiles=self.all_profiles,
            as_json=self.as_json,
            endpoint=self.endpoint,
            region=self.region,
            environ=os.environ,
        )


@AwsGuard.subcommand("doctor")
class Doctor(cli.Application):
    """Check that awsguard is actually guarding you: a checklist, each line ✓ / ! / ✗ with its fix.

    Checks the aws shim (installed, current, executable, first on PATH here and in `sh -c`,
    `bash -c`, `zsh -c`, login shells, `env -i` and cron-like environments - which file to put
    the init line in where it is not), the rc files that run `awsguard init` and whether the
    prompt hook is active, the real aws (version, a second CLI, a v2 older than 2.32.32, a v1
    without awscrt), the AWS files (they parse as the CLI parses them, permissions of the
    credentials file and the caches), every profile with a problem, the policy file, and
    awsguard's own caches.  Offline; each shell it starts has a time limit.
    Exit code 1 when any line is ✗.  Examples:
        awsguard doctor
        awsguard doctor --json | jq '.checks[] | select(.status != "ok")'
    """

    as_json = cli.Flag("--json", help="print the checklist as JSON")

    def main(self) -> int:
        from awsguard.commands import doctor

        return doctor.run(as_json=self.as_json, environ=os.environ)


@AwsGuard.subcommand("fix")
class Fix(cli.Application):
    """Repair what makes `aws AWS-ARGS` run as the wrong identity: safely, and undoably.

    Judges the same invocation `explain` would (default: sts get-caller-identity) and proposes
    one remedy per finding it can repair: the access keys in ~/.aws/credentials that shadow a
    profile's `aws login` session (directly or through a role's source_profile) are removed -
    or moved to a new section with --keep-keys-as - and environment keys get an `unset` line.
    It shows the plan first (a diff, secrets masked), asks on a terminal, keeps a backup
    (<file>.awsguard-<UTC time>, mode 0600), replaces the file atomically, and proves the
    profile now uses its login session (or puts the old file back).  Examples:
        awsguard fix --profile work              # show the plan, ask, apply
        awsguard fix --dry-run -- s3 ls --profile work
        awsguard fix --yes --profile work --keep-keys-as work-iam-user
        eval "$(awsguard fix --shell)"           # unset keys exported in this shell
        awsguard fix --undo                      # put back the file the last fix changed
    Exit status: 0 applied or nothing to do, 1 declined or refused (with why), 2 usage.
    """

    profile = cli.SwitchAttr("--profile", str, help="the profile to fix (as `aws --profile`)")
    yes = cli.Flag(["-y", "--yes"], help="apply without asking")
    dry_run = cli.Flag(["-n", "--dry-run"], help="only show the plan; change nothing")
    as_json = cli.Flag("--json", help="print the plan, files, backups and the result as JSON")
    shell = cli.Flag(
        "--shell", help='print only shell code (`unset ...`), for eval "$(awsguard fix --shell)"'
    )
    undo = cli.Flag(
        "--undo",
        help="restore the backup of the last fix, if the file is still what fix wrote",
    )
    keep_as = cli.SwitchAttr(
        "--keep-keys-as",
        str,
        argname="NAME",
        help="move the keys to a new section [NAME] instead of deleting them",
    )

    def main(self, *aws_args: str) -> int:
        from awsguard.commands import fix

        opts = fix.Options(
            profile=self.profile,
            yes=self.yes,
            dry_run=self.dry_run,
            as_json=self.as_json,
            shell=self.shell,
            undo=self.undo,
            keep_as=self.keep_as,
        )
        # awsguard.cli holds plumbum's stdout back until the command returns (to turn usage
        # errors into one line); the plan must be on screen before the question, so fix writes
        # to the process's own stdout.
        out = sys.__stdout__ if sys.__stdout__ is not None else sys.stdout
        return fix.run(list(aws_args), opts, environ=os.environ, out=out)
