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

from awsguard import __version__
from awsguard.predict import inifile, paths

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


# Validity cache (``cache_dir``): whole-file validation of a 10,000-profile config costs tens of
# milliseconds and says the same thing until the file changes, so its outcome is kept per file,
# keyed by the identity of what was read (device, inode, size, mtime, ctime):
#   CANONICAL - valid, and every section naming a profile or sso-session is spelled exactly
#               ``[profile NAME]`` / ``[sso-session NAME]``: a profile's section can be found by
#               its header alone, without building the profile map from every section name;
#   VALID     - valid, but some header is spelled otherwise (``[profile  x]``, ``[profile "x"]``,
#               ``[profilex y]``, ...): the map is built as botocore builds it.
_CANONICAL, _VALID = "canonical", "valid"
_VALIDITY_TAG = f"ini-validity-1-{__version__}"


class AwsFiles:
    """Lazy, read-only access to the config and credentials files for one environment."""

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        validate: bool = True,
        cache_dir: str | None = None,
    ) -> None:
        self.environ = environ
        self.validate = validate
        self.cache_dir = cache_dir
        # Section lookups by header (no name list) where the validity cache allows it.
        self._direct_config = False
        self._direct_credentials = False
        self._maps_built = False
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
        use_cache = self.validate and self.cache_dir is not None
        self.config = inifile.load(self.config_path, validate=self.validate and not use_cache)
        if self.config is not None and use_cache:
            self._direct_config = self._check(self.config, canonical_for_profiles=True)
        self.credentials = inifile.load(
            self.credentials_path, validate=self.validate and not use_cache
        )
        if self.credentials is not None and use_cache:
            self._direct_credentials = self._check(self.credentials, canonical_for_profiles=False)
        self._loaded = True

    def _maps(self) -> None:
        """Build the profile map and credentials section set from every section name (what
        botocore does), unless done already."""
        if self._maps_built:
            return
        self._maps_built = True
        if self.config is not None:
            self._build_profile_map(self.config.section_names())
        if self.credentials is not None:
            self._credential_sections = set(self.credentials.section_names())

    def _check(self, ini: inifile.IniFile, *, canonical_for_profiles: bool) -> bool:
        """Validate ``ini`` (or learn from the cache that it is valid); True when its sections
        may be looked up by header alone."""
        from awsguard.host.memo import by_file

        if ini.identity is None or ini.unreadable:
            ini.validate()
            return False

        def verdict() -> str:
            ini.validate()  # raises ParseError: nothing is remembered for an invalid file
            canonical = not canonical_for_profiles or _is_canonical(ini.section_names())
            return _CANONICAL if canonical else _VALID

        return by_file(self.cache_dir, _VALIDITY_TAG, ini.path, ini.identity, verdict) == _CANONICAL

    # -- section lookup ---------------------------------------------------------------------

    def _config_section(self, profile: str) -> str | None:
        """The config section botocore's profile map gives for ``profile``."""
        if self.config is None:
            return None
        if self._direct_config and _is_plain_word(profile):
            if profile == "default":
                # Both may exist; the later one in the file wins whole.
                plain = self.config.header_line("default")
                spelled = self.config.header_line("profile default")
                if plain is None and spelled is None:
                    return None
                return "profile default" if (spelled or 0) > (plain or 0) else "default"
            name = "profile " + profile
            return name if self.config.header_line(name) is not None else None
        self._maps()
        return self._profiles.get(profile)

    def _sso_section(self, session: str) -> str | None:
        if self.config is None:
            return None
        if self._direct_config and _is_plain_word(session):
            name = "sso-session " + session
            return name if self.config.header_line(name) is not None else None
        self._maps()
        return self._sso_sessions.get(session)

    def _has_credentials(self, profile: str) -> bool:
        if self.credentials is None:
            return False
        if self._direct_credentials:
            return self.credentials.header_line(profile) is not None
        self._maps()
        return profile in self._credential_sections

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
        return self._config_section(profile) is not None or self._has_credentials(profile)

    def config_profile(self, profile: str) -> Profile | None:
        """The profile as the config file alone defines it (botocore ``ConfigProvider``)."""
        key = ("config", profile)
        if key not in self._views:
            self.load()
            section = self._config_section(profile)
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
            if self.credentials is not None and self._has_credentials(profile):
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
        section = self._sso_section(name)
        if section is None or self.config is None:
            return None
        return _settings(self.config, section)

    def header_origin(self, profile: str) -> str | None:
        """Where the profile is defined (for messages): the config header, else the credentials one."""
        self.load()
        section = self._config_section(profile)
        if section is not None and self.config is not None:
            line = self.config.header_line(section)
            if line is not None:
                return f"{self.config.path}:{line}"
        if self.credentials is not None and self._has_credentials(profile):
            line = self.credentials.header_line(profile)
            if line is not None:
                return f"{self.credentials.path}:{line}"
        return None


def _is_plain_word(name: str) -> bool:
    """Whether ``[profile NAME]`` is the one spelling of a header that names ``name``: a single
    shell word, nothing for shlex to interpret."""
    return bool(name) and split_words(name) == [name] and name.isprintable()


def _is_canonical(names: list[str]) -> bool:
    """Every section that botocore maps to a profile or sso-session is spelled exactly
    ``profile NAME`` / ``sso-session NAME`` with a plain-word NAME."""
    for name in names:
        if name.startswith("profile"):
            kind = "profile"
        elif name.startswith("sso-session"):
            kind = "sso-session"
        else:
            continue
        parts = split_words(name)
        if parts is None or len(parts) != 2:
            continue  # botocore ignores it: it maps to nothing
        if parts[0] != kind or name != f"{kind} {parts[1]}" or not _is_plain_word(parts[1]):
            return False
    return True


def _settings(ini: inifile.IniFile, section: str) -> Profile:
    entries = ini.section(section) or {}
    return {key: Setting(entry.value, ini.path, entry.line) for key, entry in entries.items()}
