"""Read an AWS CLI config or credentials file exactly as botocore does, without botocore.

botocore reads both files with ``botocore.configloader.raw_config_parse``: a default
``configparser.RawConfigParser`` (strict, no interpolation, ``=`` and ``:`` delimiters, ``#``/``;``
full-line comments only, blank lines kept inside values, option names lower-cased, ``[DEFAULT]``
inherited by every section), then ``_parse_nested`` on every value that starts with a newline.
This module reproduces that result and the cases where botocore raises ``ConfigParseError``.

Two ways to get there:

* the reference parser (``_parse``) runs configparser's per-line state machine over the whole file.
  It mirrors ``RawConfigParser._read`` and ``_join_multiline_values`` (CPython 3.11) line by line;
* the fast path never touches most of a large file. A line that starts with ``[`` in column 0
  and is shaped like a header can never be a continuation line, so it always opens a section and
  resets the parser state (current section, no current option, indent level 0). The text from
  such a line up to the next one (a "chunk") therefore parses exactly like the per-line algorithm
  started in the state "just read this header". To answer ``section(name)`` the fast path finds
  the chunks of ``name`` and of ``[DEFAULT]`` with ``str.find`` and parses only those. Whenever
  something could make that view wrong (an indented line shaped like one of those headers, the
  header twice, an error inside the chunk, a section switch inside the chunk) it falls back to
  the reference parser. The fast path uses the same str primitives as configparser (``str.strip``,
  ``str.isspace``, splitting on ``\\n`` only), so Unicode whitespace needs no special case.

Whole-file validation (``validate=True``) runs ``_validate``: the same state machine without
building values, which is about half the cost of the reference parser. Any error or doubt sends
the file through the reference parser, which produces the canonical error and line number.

This module imports nothing beyond ``os`` (already loaded at interpreter start): ``import re``
alone costs ~8 ms, and the shim has ~4 ms in total.
"""

from __future__ import annotations

import os

from awsguard.host.fileio import decode_newlines, is_regular, read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    # [line of the "key = value" line, first value part, continuation parts...]
    _Opt = list[Any]
    _Section = dict[str, _Opt]

__all__ = ["Entry", "IniFile", "ParseError", "load"]

# Fixed reasons. They never include file content: configparser's own exceptions quote whole
# lines, which may hold secrets (docs/hostile-inputs.md §7 item 41).
DUPLICATE_SECTION = "duplicate section"
DUPLICATE_OPTION = "duplicate option"
OUTSIDE_SECTION = "line outside any section"
NO_DELIMITER = "line without '=' or ':'"
EMPTY_NAME = "empty option name"
INVALID_UTF8 = "invalid UTF-8"
NESTED_NO_EQUALS = "nested value line without '='"

_DEFAULT = "DEFAULT"  # RawConfigParser.default_section; the match is case-sensitive


class ParseError(Exception):
    """The file is one the AWS CLI refuses to load (botocore ``ConfigParseError``)."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        super().__init__(path, line, reason)
        self.path = path
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: {self.reason}"


class Entry:
    """One option of a section: its value and the 1-based line of its ``key = ...`` line.

    ``value`` is a dict when botocore's nested rule applies (``s3 =`` followed by indented
    ``k = v`` lines). For a key inherited from ``[DEFAULT]``, ``line`` is the DEFAULT line.
    """

    __slots__ = ("line", "value")

    def __init__(self, value: str | dict[str, str], line: int) -> None:
        self.value = value
        self.line = line

    def __repr__(self) -> str:
        # Values are often secrets: never put them in a repr that may end up in a log.
        kind = "dict" if isinstance(self.value, dict) else "str"
        return f"Entry(line={self.line}, value=<{kind} of length {len(self.value)}>)"


class _Unsure(Exception):
    """The fast path cannot answer exactly; use the reference parser."""


class _Parsed:
    """Result of the reference parser over a run of lines."""

    __slots__ = ("defaults", "headers", "sections")

    def __init__(self) -> None:
        self.sections: dict[str, _Section] = {}
        self.defaults: _Section = {}
        self.headers: dict[str, int] = {}


def _parse(lines: list[str], first: int, path: str) -> _Parsed:
    """configparser's ``RawConfigParser._read`` over ``lines``; ``first`` is the 1-based number
    of ``lines[0]``. Raises ParseError at the first line configparser rejects (it raises
    Duplicate*/MissingSectionHeader at once and collects the others, but any of them makes
    botocore fail, so the first one is the one to report).

    Options are stored as ``[line, part, part, ...]``; ``_value`` joins them like
    ``_join_multiline_values``. Blank lines inside a value are counted in ``pending`` and added
    only when a continuation line follows: configparser appends them at once, but trailing ones
    are removed again by the ``rstrip()`` in ``_join_multiline_values``.
    """
    parsed = _Parsed()
    sections = parsed.sections
    defaults = parsed.defaults
    headers = parsed.headers
    cur: _Section | None = None
    optname = ""  # configparser: None after a header; "" after an empty name. Both falsy.
    indent_level = 0
    pending = 0
    lineno = first - 1
    for line in lines:
        lineno += 1
        s = line.strip()
        if not s:
            pending += 1
            continue
        c = s[0]
        if c in "#;":  # full-line comment, indented or not; dropped even inside a value
            continue
        # NONSPACECRE.search(line).start(): the indentation. `s is line` (nothing stripped)
        # and `line[0] == c` are cheap ways to see that it is 0.
        if s is line or line[0] == c:
            indent_level = 0
        else:
            indent = len(line) - len(line.lstrip())
            if optname and indent > indent_level:
                # Continuation line, checked before the header test: an indented "[x]" after
                # an option is part of its value, not a header.
                assert cur is not None
                opt = cur[optname]
                if pending:
                    opt.extend([""] * pending)
                opt.append(s)
                pending = 0
                continue
            indent_level = indent
        pending = 0
        if c == "[":
            # SECTCRE `\[(?P<header>.+)\]` with match(): up to the LAST "]", at least one
            # character in between, anything after it ignored.
            r = s.rfind("]")
            if r >= 2:
                name = s[1:r]
                if name in sections:
                    raise ParseError(path, lineno, DUPLICATE_SECTION)
                if name == _DEFAULT:
                    cur = defaults  # may repeat; its keys still may not
                else:
                    cur = sections[name] = {}
                    headers[name] = lineno
                optname = ""
                continue
        if cur is None:
            raise ParseError(path, lineno, OUTSIDE_SECTION)
        # OPTCRE: the option ends at the first "=" or ":" (lazy `.*?`), minus the whitespace
        # before it; the value is what follows, stripped.
        key, sep, val = s.partition("=")
        if not sep or ":" in key:
            key, sep, val = s.partition(":")
            if not sep:
                raise ParseError(path, lineno, NO_DELIMITER)
        key = key.rstrip()
        if not key:
            raise ParseError(path, lineno, EMPTY_NAME)
        key = key.lower()  # optionxform
        # strict=True: (section, option) seen before in this file. A section can only be
        # opened once (else DuplicateSectionError), so "in this section's dict" is the same
        # test; for DEFAULT the dict is shared by all its blocks, as is the check.
        if key in cur:
            raise ParseError(path, lineno, DUPLICATE_OPTION)
        cur[key] = [lineno, val.lstrip()]
        optname = key
    return parsed


def _value(opt: _Opt) -> str:
    """``_join_multiline_values``: join the parts with newlines and rstrip.

    With blank lines only stored before a continuation line (see ``_parse``) the rstrip has
    nothing left to remove; it is kept so the function stays a literal mirror.
    """
    if len(opt) == 2:
        return opt[1]  # type: ignore[no-any-return]
    return "\n".join(opt[1:]).rstrip()


def _nested(value: str) -> dict[str, str] | None:
    """botocore ``_parse_nested``; None where it raises ValueError (a line without "=")."""
    parsed: dict[str, str] = {}
    # str.splitlines also splits on \x0b \x0c \x1c-\x1e \x85 \u2028 \u2029, unlike configparser.
    for piece in value.splitlines():
        piece = piece.strip()
        if not piece:
            continue
        key, sep, val = piece.partition("=")
        if not sep:
            return None
        parsed[key.strip()] = val.strip()  # later duplicates win, keys keep their case
    return parsed


def _entry(opt: _Opt) -> Entry:
    """The raw_config_parse value of one option; raises _Unsure if botocore would fail on it."""
    value = _value(opt)
    if value.startswith("\n"):
        nested = _nested(value)
        if nested is None:
            raise _Unsure
        return Entry(nested, opt[0])
    return Entry(value, opt[0])


def _is_nested_candidate(opt: _Opt) -> bool:
    # The joined value starts with "\n" exactly when the first part is empty and a
    # continuation line (never blank) follows.
    return len(opt) > 2 and opt[1] == ""


def _nested_error_line(lines: list[str], first: int, opt: _Opt) -> int:
    """Line of the first piece of ``opt``'s nested value that has no "=".

    After a successful parse the lines following the key line are exactly: blank lines (parts
    ""), comments (skipped) and continuation lines (the other parts), in order.
    """
    lineno: int = opt[0]
    following = iter(lines[lineno - first + 1 :])
    for part in opt[2:]:
        for line in following:  # the next line that is not a comment is this part's line
            lineno += 1
            s = line.strip()
            if not s or s[0] not in "#;":
                break
        for piece in part.splitlines():
            if piece.strip() and "=" not in piece:
                return lineno
    return int(opt[0])  # pragma: no cover - only called for a value that has such a piece


def _check_nested(parsed: _Parsed, text: str, path: str) -> None:
    """Raise where botocore's ``raw_config_parse`` would raise from ``_parse_nested``.

    botocore walks ``cp.sections()`` and, per section, ``cp.options()`` (own keys, then inherited
    DEFAULT keys) and parses every value that starts with a newline. So a DEFAULT value is only
    parsed if some section inherits it, and the first failure in that order is the one raised.
    """
    default_candidates = [
        (key, opt) for key, opt in parsed.defaults.items() if _is_nested_candidate(opt)
    ]
    checked: dict[str, bool] = {}
    for section in parsed.sections.values():
        for opt in section.values():
            if _is_nested_candidate(opt) and _nested(_value(opt)) is None:
                raise ParseError(
                    path, _nested_error_line(text.split("\n"), 1, opt), NESTED_NO_EQUALS
                )
        for key, opt in default_candidates:
            if key in section:
                continue
            ok = checked.get(key)
            if ok is None:
                ok = checked[key] = _nested(_value(opt)) is not None
            if not ok:
                raise ParseError(
                    path, _nested_error_line(text.split("\n"), 1, opt), NESTED_NO_EQUALS
                )


def _validate(text: str) -> list[str] | None:
    """The state machine of ``_parse`` without building values, for whole-file validation.

    Returns the section names in file order when the file is certainly valid for botocore,
    None on any error or doubt (the caller then runs the reference parser, which reports the
    canonical error). Kept in lockstep with ``_parse``; the tests compare both on random input.
    Lines are split per block of about 1 MiB so that memory stays bounded on huge files.
    """
    names: list[str] = []
    seen_names: set[str] = set()
    keys: set[str] | None = None  # option names of the current section
    default_keys: set[str] | None = None
    has_opt = False  # configparser's `optname` is truthy
    nested = False  # current option's value is empty: continuations make it nested
    indent_level = 0
    n = len(text)
    start = 0
    while start <= n:
        end = text.find("\n", start + (1 << 20)) if start + (1 << 20) < n else -1
        block = text[start:] if end < 0 else text[start:end]
        for line in block.split("\n"):
            s = line.strip()
            if not s:
                continue
            c = s[0]
            if c in "#;":
                continue
            if s is line or line[0] == c:
                indent_level = 0
            else:
                indent = len(line) - len(line.lstrip())
                if has_opt and indent > indent_level:
                    if nested:
                        for piece in s.splitlines():
                            if "=" not in piece and piece.strip():
                                # botocore fails for an own option. For a DEFAULT option it
                                # depends on whether a section inherits it: let _parse decide.
                                return None
                    continue
                indent_level = indent
            if c == "[":
                r = s.rfind("]")
                if r >= 2:
                    name = s[1:r]
                    if name == _DEFAULT:
                        if default_keys is None:
                            default_keys = set()
                        keys = default_keys
                    elif name in seen_names:
                        return None
                    else:
                        seen_names.add(name)
                        names.append(name)
                        keys = set()
                    has_opt = False
                    continue
            if keys is None:
                return None
            key, sep, val = s.partition("=")
            if not sep or ":" in key:
                key, sep, val = s.partition(":")
                if not sep:
                    return None
            key = key.rstrip().lower()
            if not key or key in keys:
                return None
            keys.add(key)
            has_opt = True
            nested = not val  # s is stripped: val is "" or ends with a non-blank
        if end < 0:
            break
        start = end + 1
    return names


def _line_is_header(text: str, pos: int, name: str) -> bool:
    """Whether the line whose first non-blank character is the "[" at ``pos`` has header ``name``."""
    end = text.find("\n", pos)
    s = text[pos:] if end < 0 else text[pos:end]
    s = s.rstrip()
    r = s.rfind("]")
    return r >= 2 and s[1:r] == name


def _header_starts(text: str, name: str) -> list[int]:
    """Start offsets of the column-0 lines whose header is ``name``.

    Raises _Unsure if an indented line has that header: whether it opens the section or is part
    of a value depends on the parser state, which only the reference parser knows.
    """
    needle = "[" + name + "]"  # every line with that header contains it
    found: list[int] = []
    pos = text.find(needle)
    while pos >= 0:
        ls = text.rfind("\n", 0, pos) + 1
        if (ls == pos or text[ls:pos].isspace()) and _line_is_header(text, pos, name):
            if ls != pos:
                raise _Unsure
            found.append(ls)
        # Only the first non-blank character of a line can open a header: go to the next line.
        eol = text.find("\n", pos)
        if eol < 0:
            break
        pos = text.find(needle, eol)
    return found


def _chunk_end(text: str, start: int) -> int:
    """End of the chunk whose header line starts at ``start``: the next column-0 line shaped
    like a header (``[`` in column 0 and a later ``]`` at index >= 2), or the end of the text.
    A column-0 ``[`` line that is not shaped like a header is an option (or error) line."""
    pos = start
    while True:
        q = text.find("\n[", pos)
        if q < 0:
            return len(text)
        eol = text.find("\n", q + 1)
        line = text[q + 1 :] if eol < 0 else text[q + 1 : eol]
        if line.rfind("]") >= 2:
            return q
        pos = q + 1


class IniFile:
    """One parsed INI file, as botocore's ``raw_config_parse`` sees it."""

    __slots__ = (
        "_cache",
        "_defaults",
        "_full",
        "_names",
        "_text",
        "identity",
        "path",
        "unreadable",
    )

    def __init__(self, path: str, text: str, *, unreadable: bool = False) -> None:
        self.path = path
        self.unreadable = unreadable  # exists but could not be opened: botocore reads it as empty
        # (st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns) of the file read, when known.
        self.identity: tuple[int, int, int, int, int] | None = None
        self._text = text
        self._full: _Parsed | None = None
        self._names: list[str] | None = None
        self._defaults: _Section | None = None
        self._cache: dict[str, dict[str, Entry] | None] = {}

    # -- public -------------------------------------------------------------------------------

    def validate(self) -> None:
        """Raise ParseError for any error botocore would raise for, anywhere in the file."""
        if self._full is not None or self.unreadable:
            return
        names = _validate(self._text)
        if names is None:
            self._parse_full()  # raises the canonical ParseError, or was only unsure
        else:
            self._names = names

    def section_names(self) -> list[str]:
        """Every section except DEFAULT, in file order (``cp.sections()``)."""
        if self._full is not None:
            return list(self._full.sections)
        if self._names is None:
            try:
                self._names = self._scan_names()
            except _Unsure:
                return list(self._parse_full().sections)
        return list(self._names)

    def section(self, name: str) -> dict[str, Entry] | None:
        """The ``raw_config_parse`` view of one section (own keys, then inherited DEFAULT keys),
        or None if there is no such section. Returns a new dict on every call."""
        if name not in self._cache:
            if self._full is None:
                try:
                    self._cache[name] = self._lookup(name)
                except _Unsure:
                    self._parse_full()
            if self._full is not None:
                self._cache[name] = self._view(self._full, name)
        view = self._cache[name]
        return None if view is None else dict(view)

    def header_line(self, name: str) -> int | None:
        """1-based line of the header of section ``name``, None if there is no such section
        (and for DEFAULT, which is not a section)."""
        if not name or name == _DEFAULT or "\n" in name:
            return None  # no header can produce it; DEFAULT is not a section
        if self._full is None:
            try:
                starts = _header_starts(self._text, name)
                if len(starts) <= 1:
                    return self._text.count("\n", 0, starts[0]) + 1 if starts else None
            except _Unsure:
                pass
        return self._parse_full().headers.get(name)

    # -- internals ----------------------------------------------------------------------------

    def _parse_full(self) -> _Parsed:
        if self._full is None:
            text = self._text
            parsed = _parse(text.split("\n"), 1, self.path)
            _check_nested(parsed, text, self.path)
            self._full = parsed
            self._cache.clear()
        return self._full

    def _view(self, parsed: _Parsed, name: str) -> dict[str, Entry] | None:
        own = parsed.sections.get(name)
        if own is None:
            return None
        try:
            return _merge(own, parsed.defaults)
        except _Unsure:  # pragma: no cover - _check_nested ran on this parse
            raise ParseError(self.path, None, NESTED_NO_EQUALS) from None

    def _lookup(self, name: str) -> dict[str, Entry] | None:
        """The fast path for ``section(name)``; raises _Unsure to fall back."""
        if not name or name == _DEFAULT or "\n" in name:
            return None  # no header can produce it; DEFAULT is not a section
        text = self._text
        starts = _header_starts(text, name)
        if not starts:
            return None
        if len(starts) > 1:
            raise _Unsure  # DuplicateSectionError: let the reference parser report it
        own = self._chunk(starts[0], name)
        if self._defaults is None:
            defaults: _Section = {}
            for start in _header_starts(text, _DEFAULT):
                for key, opt in self._chunk(start, _DEFAULT).items():
                    if key in defaults:
                        raise _Unsure  # duplicate option across DEFAULT blocks
                    defaults[key] = opt
            self._defaults = defaults
        return _merge(own, self._defaults)

    def _chunk(self, start: int, name: str) -> _Section:
        """Parse the chunk starting at the column-0 header line at ``start``."""
        text = self._text
        end = _chunk_end(text, start)
        try:
            parsed = _parse(text[start:end].split("\n"), text.count("\n", 0, start) + 1, self.path)
        except ParseError:
            raise _Unsure from None
        # An indented header inside the chunk opened another section: not a simple chunk.
        if name == _DEFAULT:
            if parsed.sections:
                raise _Unsure
            return parsed.defaults
        if parsed.defaults or len(parsed.sections) != 1:
            raise _Unsure
        return parsed.sections[name]

    def _scan_names(self) -> list[str]:
        """``section_names()`` without a full parse; raises _Unsure when it cannot be exact."""
        text = self._text
        pieces = ("\n" + text if text.startswith("[") else text).split("\n[")
        # pieces[0]: text before the first column-0 "["; pieces[1:]: each starts just after a
        # column-0 "[". The header of each such line, "" when it is not shaped like a header
        # (no "]", or "]" right after "["). Mapped at C speed: this runs on every shim call.
        n = len(pieces) - 1
        get = tuple.__getitem__
        lines = map(get, map(str.partition, pieces[1:], ["\n"] * n), [0] * n)
        heads: list[str] = list(map(get, map(str.rpartition, lines, ["]"] * n), [0] * n))
        # Everything before the first header-shaped column-0 line is the preamble, parsed
        # exactly (an indented first header is legal and opens a section).
        first = 0
        while first < n and not heads[first]:
            first += 1
        preamble = "\n[".join(pieces[: first + 1])
        if text.startswith("["):
            preamble = preamble[1:]
        try:
            pre = _parse(preamble.split("\n"), 1, self.path)
        except ParseError:
            raise _Unsure from None
        if pre.sections or pre.defaults:
            raise _Unsure  # (also caught by the indented-"[" scan below)
        names = heads if "" not in heads else [h for h in heads if h]
        if _DEFAULT in names:
            names = [h for h in names if h != _DEFAULT]
        if len(set(names)) != len(names):
            raise _Unsure  # DuplicateSectionError
        # An indented line starting with "[" may act as a header. If every "[" in the text is
        # in column 0 there is none; otherwise look at each line's first "[".
        if text.count("[") != n:
            pos = text.find("[")
            while pos >= 0:
                ls = text.rfind("\n", 0, pos) + 1
                if ls != pos and text[ls:pos].isspace():
                    eol = text.find("\n", pos)
                    line = text[pos:] if eol < 0 else text[pos:eol]
                    if line.rstrip().rfind("]") >= 2:
                        raise _Unsure
                eol = text.find("\n", pos)
                if eol < 0:
                    break
                pos = text.find("[", eol)
        return names


def _merge(own: _Section, defaults: _Section) -> dict[str, Entry]:
    """``cp.options(section)`` order: own keys, then DEFAULT keys the section does not set."""
    view = {key: _entry(opt) for key, opt in own.items()}
    for key, opt in defaults.items():
        if key not in view:
            view[key] = _entry(opt)
    return view


def _read(path: str) -> tuple[bytes, bool, os.stat_result | None] | None:
    """Bytes of ``path``, whether it was unreadable, and the stat of what was read; None if it
    is not a regular file.

    botocore: ``os.path.isfile(path)`` or ConfigNotFound, then ``cp.read([path])``, which
    silently skips a file it cannot open. The file is opened non-blocking and checked again
    with fstat, so a FIFO swapped in after the stat cannot hang us.
    """
    try:
        got = read_regular(path)
    except (OSError, ValueError):
        try:
            st = os.stat(path)
        except (OSError, ValueError):  # os.path.isfile catches the same: no file
            return None
        if not is_regular(st.st_mode):
            return None
        # configparser.read skips a file it cannot open, and catches OSError raised while
        # reading too. What it had parsed so far would stay in the parser; we cannot know how
        # far it got, so report it as unreadable.
        return b"", True, None
    if got is None:
        return None  # swapped for a FIFO or device after the stat
    return got[0], False, got[1]


def _decode(data: bytes, path: str) -> str:
    """Decode like configparser's ``open(path)``: the locale encoding, strict, universal newlines.

    The locale encoding is UTF-8 on the systems awsguard supports (and in Python's UTF-8 mode);
    it is not looked up, because importing ``locale`` costs time on every shim call. A UTF-8 BOM
    is kept, as the "utf-8" codec does: botocore then fails on line 1.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
        raise ParseError(path, line, INVALID_UTF8) from None
    return decode_newlines(text)


def load(path: str, *, validate: bool = True) -> IniFile | None:
    """Read ``path`` as botocore's ``raw_config_parse(path)`` would (the caller expands ``~``/$VARS).

    None when ``path`` is not a regular file (botocore ConfigNotFound). A regular file that cannot
    be opened gives an empty IniFile with ``unreadable=True``. With ``validate=True`` raises
    ParseError for any error botocore would raise for, anywhere in the file. With
    ``validate=False`` whole-file validation is skipped: the sections asked for are still exact,
    and ParseError is raised for problems found while reading them.
    """
    got = _read(path)
    if got is None:
        return None
    data, unreadable, st = got
    if unreadable:
        return IniFile(path, "", unreadable=True)
    ini = IniFile(path, _decode(data, path))
    if validate:
        ini.validate()
    if st is not None:
        ini.identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return ini


# -- where things are, for editors ------------------------------------------------------------


class Layout:
    """Where each part of a file botocore can load sits: 1-based line numbers.

    ``headers``: the header line of every section except DEFAULT; ``options``: per section, the
    first and last line of each own option - its ``key = ...`` line through its last
    continuation line (comments and blank lines inside that run belong to it, trailing ones do
    not); ``defaults``: the same for the options of ``[DEFAULT]``.  ``text`` is the decoded text.
    """

    __slots__ = ("defaults", "headers", "options", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.headers: dict[str, int] = {}
        self.options: dict[str, dict[str, tuple[int, int]]] = {}
        self.defaults: dict[str, tuple[int, int]] = {}


def layout(data: bytes, path: str = "<bytes>") -> Layout:
    """The :class:`Layout` of a file's bytes, read as botocore reads the file.

    Raises ParseError (with the line, never the content) wherever botocore would fail to load it:
    undecodable bytes, a BOM, anything configparser or ``_parse_nested`` rejects.
    """
    text = _decode(data, path)
    lines = text.split("\n")
    parsed = _parse(lines, 1, path)
    _check_nested(parsed, text, path)
    out = Layout(text)
    out.headers = dict(parsed.headers)
    for name, section in parsed.sections.items():
        out.options[name] = {key: _span(lines, opt) for key, opt in section.items()}
    out.defaults = {key: _span(lines, opt) for key, opt in parsed.defaults.items()}
    return out


def _span(lines: list[str], opt: _Opt) -> tuple[int, int]:
    """First and last line of an option: after a successful parse every continuation line is a
    non-blank, non-comment line after the key line, and each one added exactly one non-empty
    part (blank lines add empty parts), so the n-th such line ends the value."""
    first: int = opt[0]
    if len(opt) == 2:
        return first, first  # no continuation line: the common case
    left = sum(1 for part in opt[2:] if part)
    last = first
    index = first  # 0-based index of the line after the key line
    while left:
        s = lines[index].strip()
        index += 1
        if s and s[0] not in "#;":
            left -= 1
            last = index
    return first, last
