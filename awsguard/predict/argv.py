"""The AWS CLI's global-option rules: which profile, region and flags an `aws` argv selects.

The CLI parses its whole argv with argparse's ``parse_known_args`` (awscli/clidriver.py,
``CLIDriver.main``; the option table is awscli/data/cli.json), so global options are recognised
anywhere before a bare ``--``, in ``--opt=value`` form, and by any unique prefix (``--prof x``).
This module reproduces that behaviour (CPython 3.11 ``argparse._parse_optional`` /
``_get_option_tuples``) for the global options only, without importing argparse or re: the shim
calls it on every invocation.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

# Global options of each major version: name -> takes a value?  (awscli/data/cli.json)
_COMMON = {
    "--debug": False,
    "--endpoint-url": True,
    "--no-verify-ssl": False,
    "--no-paginate": False,
    "--output": True,
    "--query": True,
    "--profile": True,
    "--region": True,
    "--version": False,
    "--color": True,
    "--no-sign-request": False,
    "--ca-bundle": True,
    "--cli-read-timeout": True,
    "--cli-connect-timeout": True,
}
GLOBAL_OPTIONS: dict[int, dict[str, bool]] = {
    1: {**_COMMON, "--v2-debug": False},
    2: {
        **_COMMON,
        "--cli-binary-format": True,
        "--no-cli-pager": False,
        "--cli-auto-prompt": False,
        "--no-cli-auto-prompt": False,
        "--cli-error-format": True,
    },
}
# Options whose value argparse checks against a fixed list (an unknown value is a usage error).
_CHOICES: dict[int, dict[str, tuple[str, ...]]] = {
    1: {"--output": ("json", "text", "table"), "--color": ("on", "off", "auto")},
    2: {
        "--output": ("json", "text", "table", "yaml", "yaml-stream", "off"),
        "--color": ("on", "off", "auto"),
        "--cli-binary-format": ("base64", "raw-in-base64-out"),
        "--cli-error-format": ("legacy", "json", "yaml", "text", "table", "enhanced"),
    },
}


class CliArgs:
    """What the real CLI's top-level parser makes of an argv.

    ``profile`` is the last ``--profile`` value, or None when absent or empty (the CLI only sets a
    truthy value: ``CLIDriver._handle_top_level_args``).  ``usage_error`` is set when argparse
    would reject the command line before any credential is looked at.
    """

    __slots__ = (
        "binary_format",
        "command",
        "debug",
        "endpoint_url",
        "help",
        "no_sign_request",
        "operation",
        "profile",
        "region",
        "usage_error",
        "version",
    )

    def __init__(self) -> None:
        self.profile: str | None = None
        self.region: str | None = None
        self.endpoint_url: str | None = None
        self.binary_format: str | None = None  # v2's --cli-binary-format
        self.debug = False
        self.no_sign_request = False
        self.version = False
        self.command: str | None = None
        self.operation: str | None = None
        # `aws SERVICE OPERATION help …`: the operation's parser takes a first positional `help`
        # and shows the page instead of calling (awscli clidriver ServiceOperation.__call__).
        self.help = False
        self.usage_error: str | None = None

    def key(self) -> tuple[object, ...]:
        """Every field, for comparing two parses (the shim's decision cache)."""
        return tuple(getattr(self, name) for name in self.__slots__)


def _is_negative_number(token: str) -> bool:
    # argparse treats '-1' or '-.5' as an argument, not an option, when the parser defines no
    # option that looks like a negative number (true for the CLI's main parser).
    # The pattern is r'^-\d+$|^-\d*\.\d+$': \d is any Unicode decimal digit (str.isdecimal) and
    # '$' also matches before one trailing newline.
    body = token[1:]
    if body.endswith("\n"):
        body = body[:-1]
    if body.isdecimal():
        return True
    whole, dot, frac = body.partition(".")
    return bool(dot) and frac.isdecimal() and (whole == "" or whole.isdecimal())


def _classify(token: str, options: dict[str, bool]) -> tuple[str, str | None, str | None]:
    """Classify one argv token like argparse does.

    Returns (kind, option, explicit_value): kind "A" (an argument), "O" (a known global option),
    "U" (an unknown option, left for the sub-command), or "E" (ambiguous prefix: usage error).
    """
    if not token or token[0] != "-":
        return "A", None, None
    if token in options:
        return "O", token, None
    if len(token) == 1:
        return "A", None, None
    if "=" in token:
        name, _, value = token.partition("=")
        if name in options:
            return "O", name, value
    if token.startswith("--"):
        prefix, eq, value = token.partition("=")
        matches = [name for name in options if name.startswith(prefix)]
        if len(matches) > 1:
            return "E", None, None
        if len(matches) == 1:
            return "O", matches[0], value if eq else None
    if _is_negative_number(token) or " " in token:
        # argparse: "it looks like a negative number / it contains a space, so it was meant to be
        # positional".
        return "A", None, None
    # Anything else that starts with '-' is an option for a sub-command, left to it.
    return "U", None, None


def parse(argv: Sequence[str], major: int = 2) -> CliArgs:
    """Parse the global options out of ``argv`` (the words after ``aws``)."""
    options = GLOBAL_OPTIONS[1 if major == 1 else 2]
    choices = _CHOICES[1 if major == 1 else 2]
    args = CliArgs()
    positionals: list[str] = []
    i = 0
    n = len(argv)
    while i < n:
        token = argv[i]
        if token == "--":
            # argparse stops option parsing here; everything after is an argument.
            positionals.extend(argv[i + 1 :])
            break
        kind, name, explicit = _classify(token, options)
        i += 1
        if kind == "A":
            positionals.append(token)
            continue
        if kind == "U":
            continue
        if kind == "E":
            args.usage_error = f"ambiguous option: {token.partition('=')[0]}"
            return args
        assert name is not None
        takes_value = options[name]
        if not takes_value:
            if explicit is not None:
                args.usage_error = f"argument {name}: ignored explicit argument"
                return args
            _set_flag(args, name)
            continue
        if explicit is None:
            if i >= n or argv[i] == "--" or _classify(argv[i], options)[0] != "A":
                args.usage_error = f"argument {name}: expected one argument"
                return args
            value = argv[i]
            i += 1
        else:
            value = explicit
        allowed = choices.get(name)
        if allowed is not None and value not in allowed:
            args.usage_error = f"argument {name}: invalid choice"
            return args
        _set_value(args, name, value)
    if positionals:
        args.command = positionals[0]
        rest = [w for w in positionals[1:] if not w.startswith("-")]
        if rest:
            args.operation = rest[0]
            after = positionals.index(rest[0], 1) + 1
            args.help = after < len(positionals) and positionals[after] == "help"
    return args


def _set_flag(args: CliArgs, name: str) -> None:
    if name == "--debug":
        args.debug = True
    elif name == "--no-sign-request":
        args.no_sign_request = True
    elif name == "--version":
        args.version = True


def _set_value(args: CliArgs, name: str, value: str) -> None:
    # Last occurrence wins, as with argparse's default 'store' action.  An empty --profile is
    # stored by argparse but ignored by the CLI, which only applies truthy values.
    if name == "--profile":
        args.profile = value or None
    elif name == "--region":
        args.region = value or None
    elif name == "--endpoint-url":
        args.endpoint_url = value or None
    elif name == "--cli-binary-format":
        args.binary_format = value
