"""awsguard's own settings: the ``AWSGUARD_*`` variables, the policy file, and where awsguard
keeps its files.

Settings, strongest first (docs/ARCHITECTURE.md §5.3): ``AWSGUARD=off`` · ``AWSGUARD_MODE=warn|strict`` · the
TOML policy file (global ``mode``, ``[rules]``, ``[profiles.NAME]``) · the rule defaults in
:mod:`awsguard.judge.policy`.  The shim reads the policy file on every call, and ``tomllib`` alone costs
~9 ms to import, so a parsed, validated file is kept in a small ``marshal`` cache keyed by the
file's identity (device, inode, size, mtime, ctime).
"""

from __future__ import annotations

import os

from awsguard import __version__, errors
from awsguard.host import dirs
from awsguard.predict import paths
from awsguard.words import RULES, SEVERITIES, VARIABLES, clean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


MODES = ("warn", "strict")
PROFILE_KEYS = ("expect_account", "read_only", "confirm")


class SettingsError(errors.AwsGuardError):
    """A bad setting: names the setting, where it is, and the accepted values."""

    def __init__(self, message: str, hint: str | None = None, variable: str | None = None) -> None:
        super().__init__(message, hint, errors.USAGE)
        self.variable = variable  # the AWSGUARD_* variable at fault, if it is one


class ProfileRules:
    """The ``[profiles.NAME]`` table of the policy file."""

    __slots__ = ("confirm", "expect_account", "read_only")

    def __init__(
        self, expect_account: str | None = None, read_only: bool = False, confirm: bool = False
    ) -> None:
        self.expect_account = expect_account
        self.read_only = read_only
        self.confirm = confirm


class Settings:
    """The policy in force for one call."""

    __slots__ = ("file", "mode", "off", "profiles", "rules")

    def __init__(
        self,
        *,
        off: bool = False,
        mode: str | None = None,
        rules: dict[str, str] | None = None,
        profiles: dict[str, ProfileRules] | None = None,
        file: str | None = None,
    ) -> None:
        self.off = off
        self.mode = mode  # None, "warn" or "strict"
        self.rules = rules or {}
        self.profiles = profiles or {}
        self.file = file  # the policy file that was read, if any

    def profile(self, name: str) -> ProfileRules:
        return self.profiles.get(name) or _NO_RULES


_NO_RULES = ProfileRules()


def check_environment(environ: Mapping[str, str]) -> None:
    """Raise :class:`SettingsError` for the first ``AWSGUARD_*`` variable with a bad value:
    every one is reported the same way, from the :data:`VARIABLES` table."""
    for name, var in VARIABLES.items():
        value = environ.get(name)
        if value is not None and var.problem(value) is not None:
            raise SettingsError(
                f"{name}={_show(value)} is not valid", f"accepted values: {var.accepts}", name
            )


def value(environ: Mapping[str, str], name: str) -> str:
    """The value of ``AWSGUARD_*`` variable ``name``, or its default when it is unset, empty or
    not valid (:func:`check_environment` is where a bad value is reported)."""
    var = VARIABLES[name]
    got = environ.get(name)
    if not got or var.problem(got) is not None:
        return var.default
    return got


def timeout(environ: Mapping[str, str]) -> float:
    """``AWSGUARD_TIMEOUT``: the CPU seconds a shim decision may take."""
    return float(value(environ, "AWSGUARD_TIMEOUT"))


def policy_file(environ: Mapping[str, str]) -> str:
    """``${AWSGUARD_CONFIG:-${XDG_CONFIG_HOME:-~/.config}/awsguard/config.toml}``."""
    if environ.get("AWSGUARD_CONFIG"):
        return paths.expand(environ["AWSGUARD_CONFIG"], environ)
    return (
        dirs.xdg_dir(environ, "XDG_CONFIG_HOME", "~/.config").rstrip("/") + "/awsguard/config.toml"
    )


def load(environ: Mapping[str, str], *, cache_dir: str | None = None) -> Settings:
    """The settings for a call under ``environ``; raises :class:`SettingsError`.

    ``AWSGUARD=off`` short-cuts everything (the file is not even read).
    """
    if environ.get("AWSGUARD") == "off":
        return Settings(off=True)
    check_environment(environ)
    env_mode = environ.get("AWSGUARD_MODE", "")
    path = policy_file(environ)
    data = _read_policy(path, cache_dir, explicit=bool(environ.get("AWSGUARD_CONFIG")))
    settings = Settings(file=path if data is not None else None)
    if data is not None:
        mode, rules, profiles = data
        settings.mode, settings.rules = mode, rules
        settings.profiles = {
            name: ProfileRules(expect, read_only, confirm)
            for name, (expect, read_only, confirm) in profiles.items()
        }
    if env_mode:
        settings.mode = env_mode
    return settings


# The parsed form kept in the cache: only builtin types, so marshal can store it.
_Parsed = tuple[str | None, dict[str, str], dict[str, tuple[str | None, bool, bool]]]
_CACHE_TAG = f"policy-v1-{__version__}"  # a new version may validate differently


def _read_policy(path: str, cache_dir: str | None, *, explicit: bool = False) -> _Parsed | None:
    """The validated policy file, or None when there is none.

    The default path may simply not exist.  A path named by ``AWSGUARD_CONFIG`` must be a
    regular file (or ``/dev/null``, "no policy"): a typo there must not silently drop the
    protection the user asked for.
    """
    from awsguard.host.record import note_path

    note_path(path)  # the stat below decides as much as the read
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        if explicit:
            raise SettingsError(
                f"AWSGUARD_CONFIG={_show(path)} does not exist",
                "point it at your policy file, or unset it to use the default place",
            ) from None
        return None
    kind = st.st_mode & 0o170000
    if kind != 0o100000:
        if explicit and path == "/dev/null":
            return None
        if kind == 0o040000 or explicit:
            what = "a directory" if kind == 0o040000 else "not a regular file"
            raise SettingsError(
                f"the policy file {_where(path)} is {what}",
                "the policy file is a TOML file; set AWSGUARD_CONFIG to its path, or move "
                "what is there away",
            )
        return None
    from awsguard.host.memo import by_file

    identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return by_file(cache_dir, _CACHE_TAG, path, identity, lambda: _parse_policy(path))


_POLICY_MAX_BYTES = 1 << 20


def _parse_policy(path: str) -> _Parsed:
    import tomllib

    from awsguard.host.fileio import read_regular

    try:
        # A FIFO swapped in after the stat must not hang aws; a policy file is a few lines.
        got = read_regular(path, _POLICY_MAX_BYTES + 1)
        if got is None:
            raise SettingsError(f"the policy file {_where(path)} is not a regular file")
        if len(got[0]) > _POLICY_MAX_BYTES:
            raise SettingsError(f"the policy file {_where(path)} is larger than 1 MiB")
        data = tomllib.loads(got[0].decode("utf-8"))
    except OSError as exc:
        raise SettingsError(
            f"cannot read the policy file {_where(path)} ({exc.strerror or type(exc).__name__})"
        ) from None
    except UnicodeDecodeError:
        raise SettingsError(f"the policy file {_where(path)} is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages name a position, never the file's text.
        raise SettingsError(f"the policy file {_where(path)} is not valid TOML: {exc}") from None
    except RecursionError:
        # tomllib recurses into nested arrays and inline tables; the interpreter's limit bounds
        # it, and no setting nests: say so instead of failing inside awsguard.
        raise SettingsError(
            f"the policy file {_where(path)} nests arrays or tables too deeply"
        ) from None
    where = _where(path)
    mode: str | None = None
    rules: dict[str, str] = {}
    profiles: dict[str, tuple[str | None, bool, bool]] = {}
    for key, value in data.items():
        if key == "mode":
            if value not in MODES:
                raise SettingsError(
                    f"mode = {_show_toml(value)} in {where} is not valid",
                    'accepted values: "warn" (never block), "strict" (warnings and errors block)',
                )
            mode = value
        elif key == "rules":
            if not isinstance(value, dict):
                raise SettingsError(f"rules in {where} must be a table: [rules]")
            for rule, severity in value.items():
                if rule not in RULES:
                    raise SettingsError(
                        f"unknown rule rules.{_show(rule)} in {where}",
                        "accepted rules: " + ", ".join(RULES),
                    )
                if severity not in SEVERITIES:
                    raise SettingsError(
                        f"rules.{rule} = {_show_toml(severity)} in {where} is not valid",
                        "accepted values: " + ", ".join(f'"{s}"' for s in SEVERITIES),
                    )
                rules[rule] = severity
        elif key == "profiles":
            if not isinstance(value, dict):
                raise SettingsError(f"profiles in {where} must be tables: [profiles.NAME]")
            for name, table in value.items():
                profiles[name] = _profile_rules(name, table, where)
        else:
            raise SettingsError(
                f"unknown setting {_show(key)} in {where}",
                "accepted settings: mode, [rules], [profiles.NAME]",
            )
    return mode, rules, profiles


def _profile_rules(name: str, table: object, where: str) -> tuple[str | None, bool, bool]:
    label = f"profiles.{_show_key(name)}"
    if not isinstance(table, dict):
        raise SettingsError(f"{label} in {where} must be a table: [{label}]")
    expect: str | None = None
    read_only = confirm = False
    for key, value in table.items():
        if key == "expect_account":
            if not (
                isinstance(value, str) and len(value) == 12 and value.isdigit() and value.isascii()
            ):
                raise SettingsError(
                    f"{label}.expect_account = {_show_toml(value)} in {where} is not valid",
                    'accepted values: a 12-digit account id as a string, e.g. "123456789012"',
                )
            expect = value
        elif key in ("read_only", "confirm"):
            if not isinstance(value, bool):
                raise SettingsError(
                    f"{label}.{key} = {_show_toml(value)} in {where} is not valid",
                    "accepted values: true, false",
                )
            if key == "read_only":
                read_only = value
            else:
                confirm = value
        else:
            raise SettingsError(
                f"unknown setting {label}.{_show(key)} in {where}",
                "accepted settings: " + ", ".join(PROFILE_KEYS),
            )
    return expect, read_only, confirm


def _where(path: str) -> str:
    return clean(path)


def _show(value: str) -> str:
    return clean(value, 24)


def _show_key(name: str) -> str:
    bare = name and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
    return clean(name, 60) if bare else '"' + clean(name, 60).replace('"', '\\"') + '"'


def _show_toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + clean(value, 60) + '"'
    if isinstance(value, int | float):
        return str(value)
    return f"a {type(value).__name__}"


def debug(environ: Mapping[str, str]) -> bool:
    return value(environ, "AWSGUARD_DEBUG") == "1"
