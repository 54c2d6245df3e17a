"""One error type and one exit-code table for everything awsguard runs."""

from __future__ import annotations

# Exit codes.  The shim otherwise exits with the real CLI's own code (it execs it); the AWS CLI
# itself uses 0, 1, 2, 130 and 252-255 (awscli/topics/return-codes.rst), so ours avoid those.
OK = 0
FAILURE = 1  # awsguard itself could not do what was asked
USAGE = 2  # bad command line for the awsguard command
BLOCKED = 77  # sysexits EX_NOPERM: awsguard refused to run aws
INTERRUPTED = 130
NO_REAL_AWS = 127  # like a shell's "command not found"


class AwsGuardError(Exception):
    """An expected failure: printed as ``awsguard: <message>`` plus an indented hint, no traceback."""

    def __init__(self, message: str, hint: str | None = None, code: int = FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code

    def render(self) -> str:
        text = f"awsguard: {self.message}"
        if self.hint:
            text += "\n  " + self.hint.replace("\n", "\n  ")
        return text
