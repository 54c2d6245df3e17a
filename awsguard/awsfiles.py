"""The CLI's config and credentials files, seen the way botocore's ``Session`` sees them.

Three views matter (botocore/session.py ``Session.full_config``, configloader.py
``build_profile_map``):

* the **config file's profile map**: ``[default]`` and ``[profile NAME]`` sections (the later of two
  sections naming the same profile replaces the earlier one whole), ``[sso-session NAME]``;
* the **credentials file's raw sections**: every section is a profile, named literally;
* the **merged view**: config profile, then the credentials section of the same name laid over it
  key by key.  Every provider that reads "the profile" uses it, except the two static-key readers.

Every value remembers the file and line it came from, so ``explain`` can point at it.
"""

from __future__ import annotations

from awsguard import inifile, paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


class Setting:
    """One value from a file, with its origin."""

    __slots__ = ("line", "path", "value")

    def __init__(self, value: str | dict[str, str], path: str, line: int) -> None:
        self.value = value
        self.path = path
        self.line = line

    @property
    def origin(self) -> str:
        return f"{self.path}:{self.line}"

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Setting({self.value!r}, {self.origin})"


Profile = dict[str, Setting]

# shlex.split (POSIX mode, whitespace_split) treats only these as separators.
_SHLEX_SPACE = " \t\r\n"
_SHLEX_SPECIAL = frozenset("'\"\\")


def split_words(name: str) -> list[str] | None:
    """``shlex.split`` of a section header, or None where shlex raises (unbalanced quote).

    Headers without quotes or backslashes - nearly all of them - are split without importing
    shlex (which imports ``re``): for them POSIX shlex just splits on its four whitespace bytes.
    """
    if _SHLEX_SPECIAL.isdisjoint(name):
        for ch in "\t\r\n":
            if ch in name:
                name = name.replace(ch, " ")
        return [part for part in name.split(" ") if part]
    import shlex

    try:
        return shlex.split(name)
    except ValueError:
        return None


class AwsFiles:
    """Lazy, read-only access to the config and credentials files for one environment."""

    def __init__(self, environ: Mapping[str, str], *, validate: bool = True) -> None:
        self.environ = environ
        self.validate = validate
        self.config_path = paths.config_file(environ)
        self.credentials_path = paths.credentials_file(environ)
        self.config: inifile.IniFile | None = None
        self.credentials: inifile.IniFile | None = None
        self._profiles: dict[str, str] = {}
        self._sso_sessions: dict[str, str] = {}
        self._credential_sections: set[str] = set()
        self._loaded = False
        # The providers ask for the same few profiles again and again during one resolution;
        # the files do not change under it, so each view is built once.  Callers never mutate.
        self._views: dict[tuple[str, str], Profile | None] = {}

    def load(self) -> None:
        """Read both files, config first as botocore does; raises ``inifile.ParseError``."""
        if self._loaded:
            return
        self.config = inifile.load(self.config_path, validate=self.validate)
        if self.config is not None:
            self._build_profile_map(self.config.section_names())
        self.credentials = inifile.load(self.credentials_path, validate=self.validate)
        if self.credentials is not None:
            self._credential_sections = set(self.credentials.section_names())
        self._loaded = True

    def _build_profile_map(self, names: list[str]) -> None:
        # configloader.build_profile_map: a name starting with "profile"/"sso-session" that
        # shlex-splits into exactly two words names a profile/session; "default" is a profile;
        # for a repeated name the later section wins whole.
        for name in names:
            if name.startswith("profile"):
                target = self._profiles
            elif name.startswith("sso-session"):
                target = self._sso_sessions
            elif name == "default":
                self._profiles["default"] = name
                continue
            else:
                continue
            parts = split_words(name)
            if parts is not None and len(parts) == 2:
                target[parts[1]] = name

    # -- views -------------------------------------------------------------------------------

    def exists(self, profile: str) -> bool:
        self.load()
        return profile in self._profiles or profile in self._credential_sections

    def config_profile(self, profile: str) -> Profile | None:
        """The profile as the config file alone defines it (botocore ``ConfigProvider``)."""
        key = ("config", profile)
        if key not in self._views:
            self.load()
            section = self._profiles.get(profile)
            view = None
            if section is not None and self.config is not None:
                view = _settings(self.config, section)
            self._views[key] = view
        return self._views[key]

    def credentials_profile(self, profile: str) -> Profile | None:
        """The credentials-file section named exactly ``profile`` (``SharedCredentialProvider``)."""
        key = ("credentials", profile)
        if key not in self._views:
            self.load()
            view = None
            if profile in self._credential_sections and self.credentials is not None:
                view = _settings(self.credentials, profile)
            self._views[key] = view
        return self._views[key]

    def merged(self, profile: str) -> Profile:
        """``Session.full_config['profiles'][profile]``: credentials keys override config keys.

        An unknown profile gives ``{}``, as ``profiles.get(name, {})`` does in the providers.
        """
        key = ("merged", profile)
        view = self._views.get(key)
        if view is None:
            view = dict(self.config_profile(profile) or {})
            view.update(self.credentials_profile(profile) or {})
            self._views[key] = view
        return view

    def sso_session(self, name: str) -> Profile | None:
        self.load()
        section = self._sso_sessions.get(name)
        if section is None or self.config is None:
            return None
        return _settings(self.config, section)

    def header_origin(self, profile: str) -> str | None:
        """Where the profile is defined (for messages): the config header, else the credentials one."""
        self.load()
        section = self._profiles.get(profile)
        if section is not None and self.config is not None:
            line = self.config.header_line(section)
            if line is not None:
                return f"{self.config.path}:{line}"
        if profile in self._credential_sections and self.credentials is not None:
            line = self.credentials.header_line(profile)
            if line is not None:
                return f"{self.credentials.path}:{line}"
        return None


def _settings(ini: inifile.IniFile, section: str) -> Profile:
    entries = ini.section(section) or {}
    return {key: Setting(entry.value, ini.path, entry.line) for key, entry in entries.items()}
