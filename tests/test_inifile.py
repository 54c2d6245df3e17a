"""Tests for awsguard.predict.inifile, with botocore's raw_config_parse as the oracle."""

from __future__ import annotations

import configparser
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from botocore.configloader import raw_config_parse
from botocore.exceptions import ConfigParseError
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsguard.predict import inifile
from awsguard.predict.inifile import Entry, IniFile, ParseError, load

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"


# -- helpers ------------------------------------------------------------------------------------


def make_big_config(n: int, seed: int = 1234) -> str:
    """A realistic config with ``n`` ``[profile pNNNNN]`` sections (3-6 keys each, some nested
    ``s3 =`` blocks, a few comments). 10,000 profiles give about 1.3 MB."""
    rnd = random.Random(seed)
    regions = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "eu-central-1"]
    out = ["# generated test config\n", "[default]\n", "region = us-east-1\n", "output = json\n\n"]
    for i in range(n):
        out.append(f"[profile p{i:05d}]\n")
        r = rnd.random()
        if r < 0.4:
            out.append(f"role_arn = arn:aws:iam::{rnd.randrange(10**12):012d}:role/Role{i}\n")
            out.append(f"source_profile = p{rnd.randrange(max(i, 1)):05d}\n")
        elif r < 0.7:
            out.append("sso_session = corp\n")
            out.append(f"sso_account_id = {rnd.randrange(10**12):012d}\n")
            out.append(f"sso_role_name = Admin{i % 7}\n")
        else:
            out.append(f"credential_process = /usr/local/bin/get-creds --profile p{i:05d}\n")
        out.append(f"region = {rnd.choice(regions)}\n")
        if rnd.random() < 0.5:
            out.append("output = json\n")
        if rnd.random() < 0.15:
            out.append("s3 =\n    max_concurrent_requests = 20\n    addressing_style = path\n")
        if rnd.random() < 0.05:
            out.append("# a comment line\n")
        out.append("\n")
    return "".join(out)


def parse_text(text: str, path: str = "<string>", *, validate: bool = True) -> IniFile:
    """An IniFile over text that is already decoded and has ``\\n`` newlines (like
    ``cp.read_string``: a ``\\r`` left in the text is whitespace, not a line break)."""
    ini = IniFile(path, text)
    if validate:
        ini.validate()
    return ini


def full(ini: IniFile | None) -> IniFile | None:
    """``ini`` parsed whole by the reference (per-line) parser: raises its ParseError."""
    if ini is not None and not ini.unreadable:
        ini._parse_full()
    return ini


def load_full(path: str) -> IniFile | None:
    """``load`` through the reference parser only (no fast validation, no chunk lookups)."""
    return full(load(path, validate=False))


def entries(section: dict[str, Entry] | None) -> dict[str, tuple[object, int]] | None:
    """A section's entries as comparable (value, line) pairs."""
    return None if section is None else {k: (e.value, e.line) for k, e in section.items()}


def values(ini: IniFile, name: str) -> dict[str, object] | None:
    sec = ini.section(name)
    return None if sec is None else {k: e.value for k, e in sec.items()}


def as_dict(ini: IniFile) -> dict[str, dict[str, object] | None]:
    return {name: values(ini, name) for name in ini.section_names()}


def write(tmp_path: Path, data: bytes | str, name: str = "config") -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def oracle(path: str) -> dict[str, dict[str, object]] | None:
    """botocore's view of the file; None where it raises ConfigParseError."""
    try:
        return raw_config_parse(path)  # type: ignore[no-any-return]
    except ConfigParseError:
        return None


def oracle_text(text: str) -> dict[str, dict[str, object]] | None:
    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as f:
        f.write(text)
    try:
        return oracle(f.name)
    finally:
        os.unlink(f.name)


class _RecordingParser(configparser.RawConfigParser):
    """RawConfigParser that records the lines of the errors it collects (ParsingError)."""

    def __init__(self) -> None:
        super().__init__()
        self.collected: list[tuple[int, str]] = []

    def _handle_error(self, exc, fpname, lineno, line):  # type: ignore[no-untyped-def]
        empty_name = self._optcre.match(line.strip()) is not None  # type: ignore[attr-defined]
        reason = inifile.EMPTY_NAME if empty_name else inifile.NO_DELIMITER
        self.collected.append((lineno, reason))
        return super()._handle_error(exc, fpname, lineno, line)  # type: ignore[misc]


def first_read_error(path: str) -> tuple[int, str] | None:
    """(line, reason) of the first line configparser rejects while reading, from configparser."""
    cp = _RecordingParser()
    immediate: list[tuple[int, str]] = []
    try:
        cp.read([path])
    except configparser.DuplicateSectionError as e:
        immediate.append((e.lineno or 0, inifile.DUPLICATE_SECTION))
    except configparser.DuplicateOptionError as e:
        immediate.append((e.lineno or 0, inifile.DUPLICATE_OPTION))
    except configparser.MissingSectionHeaderError as e:
        immediate.append((e.lineno, inifile.OUTSIDE_SECTION))
    except configparser.ParsingError:
        pass
    errors = cp.collected + immediate
    return min(errors) if errors else None


def decode_error_line(data: bytes) -> int | None:
    """Line of the first undecodable byte, found independently of the module's formula."""
    text = data.decode("utf-8", "surrogateescape")
    bad = [i for i, ch in enumerate(text) if "\udc80" <= ch <= "\udcff"]
    if not bad:
        return None
    head = text[: bad[0]].replace("\r\n", "\n").replace("\r", "\n")
    return head.count("\n") + 1


def has_bad_nested_default(ini: IniFile) -> bool:
    parsed = ini._full
    assert parsed is not None
    return any(
        inifile._is_nested_candidate(opt) and inifile._nested(inifile._value(opt)) is None
        for opt in parsed.defaults.values()
    )


# -- the differential test ----------------------------------------------------------------------

WS = [" ", "  ", "\t", " \t", "    ", "\u3000", "\xa0", "\x0c", "\x0b", "\x1f", "\x85", "\u2028"]
NAMES = [
    "default",
    "DEFAULT",
    "Default",
    "profile a",
    "profile b",
    'profile "a b"',
    " x ",
    "a]b",
    "profile ü",
    "p1",
    "p2",
    "sso-session corp",
    "profile  foo  ",
]
KEYS = [
    "region",
    "REGION",
    "Region",
    "aws_access_key_id",
    "AWS_SECRET_ACCESS_KEY",
    "s3",
    "x",
    "a b",
    "%x",
    "k#",
    "ü",
    "K\u0130",
    "role_arn",
    "output",
    "[k",
]
VALUES = [
    "",
    "v",
    "a=b",
    "a:b",
    "%(x)s",
    "v # not a comment",
    "ü",
    "nul\x00byte",
    "[x]",
    "arn:aws:iam::123456789012:role/R",
    "  spaced  ",
    "line\x0bsep",
    "u\u2028sep",
    "tab\tin",
    SECRET,
]
CONTINUATIONS = [
    "k = v",
    "K2=V2",
    "k: v",
    "junk",
    "[profile b]",
    "[DEFAULT]",
    "# comment",
    "; comment",
    "a=b\x0bc",
    "a=b\x85c",
    " = empty key",
    "x=1\u2028y",
]
WEIRD = [
    "no delimiter here",
    "= x",
    ": x",
    "[]",
    "[",
    "]",
    "[x=1",
    "\ufeff[default]",
    "\x00",
    "x" * 50,
]

ws = st.sampled_from(WS)


@st.composite
def header_line(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(NAMES))
    indent = draw(st.sampled_from(["", "", "", " ", "\t", "\u3000"]))
    tail = draw(st.sampled_from(["", "", "", " ; comment", " # c", " junk", "] more", "  "]))
    return f"{indent}[{name}]{tail}"


@st.composite
def option_block(draw: st.DrawFn) -> list[str]:
    key = draw(st.sampled_from(KEYS))
    indent = draw(st.sampled_from(["", "", "", "", " ", "\t"]))
    delim = draw(st.sampled_from(["=", "=", " = ", ":", " : ", "\t=\t", "  ="]))
    value = draw(st.one_of(st.sampled_from(VALUES), st.text(max_size=6)))
    value = value.replace("\n", "").replace("\r", "")
    lines = [f"{indent}{key}{delim}{value}"]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append("")
        elif kind == 1:
            lines.append(draw(ws))  # whitespace-only line
        else:
            extra = draw(st.sampled_from(["", "", indent, indent + " "]))
            lines.append(extra + draw(ws) + draw(st.sampled_from(CONTINUATIONS)))
    return lines


@st.composite
def line_group(draw: st.DrawFn) -> list[str]:
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return [draw(st.sampled_from(WEIRD))]
    if kind <= 2:
        return [draw(header_line())]
    if kind <= 4:
        return [draw(st.sampled_from(["", "# comment", "; comment", "  # indented comment"]))]
    return draw(option_block())


@st.composite
def ini_bytes(draw: st.DrawFn) -> bytes:
    lines: list[str] = []
    if draw(st.integers(0, 9)) == 0:
        lines.append(draw(st.sampled_from(["# top", "", "  ", "junk", "  [indented first]"])))
    for _ in range(draw(st.integers(0, 4))):
        lines.append(draw(header_line()))
        for group in draw(st.lists(line_group(), max_size=5)):
            lines.extend(group)
    seps: list[str] = draw(
        st.sampled_from([["\n"], ["\n"], ["\r\n"], ["\r"], ["\n", "\r\n", "\r"]])
    )
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        out.append(seps[i % len(seps)])
    no_final_newline: bool = draw(st.booleans())
    if out and no_final_newline:
        out.pop()
    data = "".join(out).encode("utf-8")
    if draw(st.integers(0, 19)) == 0:
        data = b"\xef\xbb\xbf" + data  # UTF-8 BOM
    if data and draw(st.integers(0, 14)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xe9", b"\xff", b"\xed\xa0\x80", b"\xc3"]))
        data += b"\n"
    return data


def _check_against_oracle(path: str, data: bytes) -> None:
    expected = oracle(path)

    # validate=True, fast path, then the forced reference parser: same outcome, same error.
    errors: list[tuple[int | None, str] | None] = []
    for mode in ("fast", "full"):
        try:
            ini = load(path) if mode == "fast" else load_full(path)
        except ParseError as e:
            assert SECRET not in str(e) and SECRET not in repr(e)
            errors.append((e.line, e.reason))
            continue
        assert ini is not None
        assert expected is not None, f"{mode}: botocore raises, we do not"
        assert ini.section_names() == list(expected)
        if mode == "fast":
            # A valid file is validated by _validate, not by the reference parser, unless a
            # DEFAULT value is a nested block botocore would reject if a section inherited it.
            assert ini._full is None or has_bad_nested_default(ini), "needless full parse"
        for name, section in expected.items():
            got = ini.section(name)
            assert got is not None
            assert list(got) == list(section)  # cp.options() order
            assert {k: e.value for k, e in got.items()} == section
        errors.append(None)
    assert errors[0] == errors[1]
    if expected is None:
        assert errors[0] is not None, "botocore raises, we do not"
        line, reason = errors[0]
        if reason == inifile.INVALID_UTF8:
            assert line == decode_error_line(data)
        elif reason != inifile.NESTED_NO_EQUALS:
            assert (line, reason) == first_read_error(path)
        return

    # validate=False: every section botocore has, looked up on a fresh object without
    # section_names(), is exact; absent names are absent.
    text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lazy = load(path, validate=False)
    assert lazy is not None
    ref = parse_text("\n".join(text))
    for name in [*expected, *NAMES]:
        got = lazy.section(name)
        if name not in expected:
            assert got is None
            assert lazy.header_line(name) is None
            continue
        assert got is not None
        assert {k: e.value for k, e in got.items()} == expected[name]
        assert list(got) == list(expected[name])
        # Line numbers agree with the reference parser and point at the right lines.
        assert entries(got) == entries(ref.section(name))
        hl = lazy.header_line(name)
        assert hl == ref.header_line(name)
        assert hl is not None
        hdr = text[hl - 1].strip()
        assert hdr[0] == "[" and hdr[1 : hdr.rfind("]")] == name
        for key, entry in got.items():
            src = text[entry.line - 1].strip()
            cut = min(i for i in (src.find("="), src.find(":")) if i >= 0)
            assert src[:cut].rstrip().lower() == key
    assert lazy.section_names() == list(expected)
    # The lazy object only parses the whole file when an indented line looks like a header.
    assert lazy._full is None or any(
        line[:1] != "[" and line.strip()[:1] == "[" and line.strip().rfind("]") >= 2
        for line in text
    ), "needless full parse"


@settings(
    max_examples=examples(ci=1000),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=ini_bytes())
def test_differential_against_botocore(tmp_path: Path, data: bytes) -> None:
    _check_against_oracle(write(tmp_path, data), data)


# Structured documents that are valid more often, so values get compared, not only errors.
@st.composite
def valid_ish_doc(draw: st.DrawFn) -> str:
    out = []
    used: set[str] = set()
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(NAMES))
        if name in used and name != "DEFAULT" and draw(st.integers(0, 9)):
            continue
        used.add(name)
        out.append(draw(header_line().map(lambda s: s.lstrip(" \t\u3000")).filter(bool)))
        out[-1] = f"[{name}]" + out[-1][out[-1].rfind("]") + 1 :].replace("]", "")
        keys = draw(st.lists(st.sampled_from(KEYS), unique_by=str.lower, max_size=5))
        for key in keys:
            if name == "DEFAULT" and draw(st.booleans()):
                key = key + "_d"  # keep DEFAULT keys apart across DEFAULT blocks, mostly
            value = draw(st.sampled_from(VALUES))
            if draw(st.integers(0, 3)) == 0:
                out.append(f"{key} =")
                for _ in range(draw(st.integers(1, 3))):
                    nested = draw(st.sampled_from(["a = 1", "B=2", "c = x=y", "", "# c", "d"]))
                    out.append(draw(ws) + nested if nested else "")
            else:
                out.append(f"{key}{draw(st.sampled_from(['=', ' = ', ':', ' : ']))}{value}")
                if draw(st.integers(0, 4)) == 0:
                    out.append(draw(ws) + draw(st.sampled_from(CONTINUATIONS)))
        if draw(st.booleans()):
            out.append("")
    return "\n".join(out) + "\n"


@settings(
    max_examples=examples(ci=500),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc=valid_ish_doc())
def test_differential_structured(tmp_path: Path, doc: str) -> None:
    data = doc.encode()
    _check_against_oracle(write(tmp_path, data), data)


SNIPPETS = [
    "[DEFAULT]\nregion = eu-north-1\n",
    "[DEFAULT]\ns3 =\n  bad line\n",
    "  [profile p00003]\n",
    "  [profile zz]\nk = 1\n",
    "x = 1\n  [profile p00004]\n",
    "[profile p00005]\n",
    "[profile p00006] trailing ] text\n",
    "REGION = dup?\n",
    "# comment [profile p00007]\n",
    "\n\n  \n",
    "k = [profile p00008]\n",
    "[x = 1\n",
    "s3 =\n\n  a = 1\n  # c\n  b: 2\n",
    "nested =\n\tk=v\n",
]


@settings(
    max_examples=examples(ci=200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(SNIPPETS)), min_size=1, max_size=3
    )
)
def test_differential_big_config_with_edits(tmp_path: Path, edits: list[tuple[int, str]]) -> None:
    lines = make_big_config(40).splitlines(keepends=True)
    for at, snippet in edits:
        lines.insert(at % (len(lines) + 1), snippet)
    data = "".join(lines).encode()
    _check_against_oracle(write(tmp_path, data), data)


# -- option names, delimiters, values -------------------------------------------------------


def test_option_names_are_lower_cased_but_nested_keys_are_not() -> None:
    ini = parse_text("[a]\nAWS_Access_Key_ID = AKIA\nS3 =\n  Addressing_Style = path\n")
    assert values(ini, "a") == {"aws_access_key_id": "AKIA", "s3": {"Addressing_Style": "path"}}


def test_both_delimiters_and_the_first_one_wins() -> None:
    ini = parse_text("[a]\nk1: a=b\nk2 = a:b\nk3:=x\n")
    assert values(ini, "a") == {"k1": "a=b", "k2": "a:b", "k3": "=x"}
    assert ini._full is None  # validated without the reference parser
    # The key ends at the first delimiter, so these two lines set the same key.
    for validate in (True, False):
        with pytest.raises(ParseError) as exc:
            parse_text("[a]\nk: v=1\nk = 2\n", validate=validate).section("a")
        assert (exc.value.line, exc.value.reason) == (3, inifile.DUPLICATE_OPTION)


def test_values_are_stripped_and_quotes_kept() -> None:
    ini = parse_text("[a]\nk =   'q'  \nj=\"x y\"\n")
    assert values(ini, "a") == {"k": "'q'", "j": '"x y"'}


def test_no_inline_comments_but_full_line_comments_are_dropped() -> None:
    ini = parse_text("[a]\n# c\n  ; c2\n; c3\nk = v # note\nj = v ; note\n")
    assert values(ini, "a") == {"k": "v # note", "j": "v ; note"}
    assert ini._full is None  # validated without the reference parser


def test_percent_is_not_interpolated() -> None:
    ini = parse_text("[a]\nk = 100% %(x)s\n")
    assert values(ini, "a") == {"k": "100% %(x)s"}


def test_empty_value_is_an_empty_string_not_nested() -> None:
    ini = parse_text("[a]\nk =\nj =\n\n\nl = 1\n")
    assert values(ini, "a") == {"k": "", "j": "", "l": "1"}


# -- DEFAULT ------------------------------------------------------------------------------------


def test_default_keys_are_inherited_and_own_keys_win() -> None:
    text = "[DEFAULT]\nregion = eu\nout = json\n[a]\nregion = us\nk = 1\n[b]\n"
    for validate in (True, False):
        ini = parse_text(text, validate=validate)
        assert ini.section_names() == ["a", "b"]
        a = ini.section("a")
        assert a is not None
        assert list(a) == ["region", "k", "out"]  # own keys, then inherited ones
        assert (a["region"].value, a["region"].line) == ("us", 5)
        assert (a["out"].value, a["out"].line) == ("json", 3)  # the DEFAULT line
        assert values(ini, "b") == {"region": "eu", "out": "json"}
        assert ini.section("DEFAULT") is None


def test_only_default_means_no_sections_and_lower_case_default_is_a_section() -> None:
    assert parse_text("[DEFAULT]\nk = 1\n").section_names() == []
    ini = parse_text("[default]\nk = 1\n")
    assert ini.section_names() == ["default"]
    assert values(ini, "default") == {"k": "1"}


def test_default_may_repeat_but_not_its_keys() -> None:
    ini = parse_text("[DEFAULT]\na = 1\n[x]\n[DEFAULT]\nb = 2\n")
    assert values(ini, "x") == {"a": "1", "b": "2"}
    with pytest.raises(ParseError) as exc:
        parse_text("[DEFAULT]\na = 1\n[x]\n[DEFAULT]\nA = 2\n")
    assert (exc.value.line, exc.value.reason) == (5, inifile.DUPLICATE_OPTION)


def test_bad_nested_default_fails_only_when_inherited() -> None:
    bad = "[DEFAULT]\ns3 =\n  no equals\n"
    assert parse_text(bad).section_names() == []  # nobody inherits it: botocore is fine
    assert values(parse_text(bad + "[a]\ns3 = own\n"), "a") == {"s3": "own"}
    with pytest.raises(ParseError) as exc:
        parse_text(bad + "[a]\nk = 1\n")
    assert (exc.value.line, exc.value.reason) == (3, inifile.NESTED_NO_EQUALS)
    lazy = parse_text(bad + "[a]\nk = 1\n", validate=False)
    with pytest.raises(ParseError):
        lazy.section("a")


# -- continuation lines -------------------------------------------------------------------------


def test_continuation_lines() -> None:
    text = "[a]\nk = v\n  more\n\n\n\tand more\n  # dropped\n\n\nj = 1\n"
    assert values(parse_text(text), "a") == {"k": "v\nmore\n\n\nand more", "j": "1"}
    # Negative control: the same indentation as the option line is not a continuation.
    with pytest.raises(ParseError) as exc:
        parse_text("[a]\n  k = v\n  more\n")
    assert (exc.value.line, exc.value.reason) == (3, inifile.NO_DELIMITER)


def test_indented_option_after_a_value_is_merged_into_it() -> None:
    ini = parse_text("[a]\naws_access_key_id = AKIA\n  aws_secret_access_key = s\n")
    assert values(ini, "a") == {"aws_access_key_id": "AKIA\naws_secret_access_key = s"}


def test_unicode_whitespace_indents() -> None:
    ini = parse_text("[a]\nk = v\n\u3000more\n\x0cand\n\x85x\n")
    assert values(ini, "a") == {"k": "v\nmore\nand\nx"}
    # Negative control: a zero-width space is not whitespace for Python, so no indent.
    with pytest.raises(ParseError) as exc:
        parse_text("[a]\nk = v\n\u200bmore\n")
    assert (exc.value.line, exc.value.reason) == (3, inifile.NO_DELIMITER)


def test_indented_header_after_an_option_is_a_continuation() -> None:
    ini = parse_text("[a]\nx = 1\n  [profile b]\ny = 2\n")
    assert ini.section_names() == ["a"]
    assert values(ini, "a") == {"x": "1\n[profile b]", "y": "2"}
    assert ini.section("profile b") is None
    # Negative control: after a header there is no option to continue, so it is a header,
    # and so is one at the indent of the previous (indented) option.
    ini = parse_text("[a]\n  [b]\n  x = 1\n  [c]\ny = 2\n")
    assert ini.section_names() == ["a", "b", "c"]
    assert values(ini, "b") == {"x": "1"}
    assert values(ini, "c") == {"y": "2"}
    assert ini.header_line("c") == 4


def test_indented_first_header_is_accepted() -> None:
    ini = parse_text("\n  [a]\nk = 1\n")
    assert values(ini, "a") == {"k": "1"}
    assert ini.header_line("a") == 2


# -- headers ------------------------------------------------------------------------------------


def test_header_is_up_to_the_last_bracket() -> None:
    ini = parse_text('[a] ; x ] tail\nk = 1\n[ b ]\n[c]]\n[profile "x y"]  # c\n')
    assert ini.section_names() == ["a] ; x ", " b ", "c]", 'profile "x y"']
    # Negative control: "[]" is not a header, so it is a line without a delimiter.
    with pytest.raises(ParseError) as exc:
        parse_text("[a]\n[]\n")
    assert (exc.value.line, exc.value.reason) == (2, inifile.NO_DELIMITER)


def test_column0_bracket_line_that_is_not_a_header_is_an_option() -> None:
    for validate in (True, False):
        ini = parse_text("[a]\n[x = 1\nk = 2\n[b]\n", validate=validate)
        assert values(ini, "a") == {"[x": "1", "k": "2"}
        assert ini.section_names() == ["a", "b"]


# -- nested values ------------------------------------------------------------------------------


def test_nested_values() -> None:
    text = "[a]\ns3 =\n\n  k = v\n  # c\n  K = w\n  k = later\n  e = \n  = blank key\n"
    ini = parse_text(text)
    assert values(ini, "a") == {"s3": {"k": "later", "K": "w", "e": "", "": "blank key"}}
    entry = ini.section("a")
    assert entry is not None and entry["s3"].line == 2
    # Negative control: a value on the key line makes it a plain string.
    assert values(parse_text("[a]\ns3 = x\n  k = v\n"), "a") == {"s3": "x\nk = v"}


def test_nested_line_without_equals_fails_at_that_line() -> None:
    with pytest.raises(ParseError) as exc:
        parse_text(f"[a]\ns3 =\n  k = v\n\n  # c\n  {SECRET}\n  j = 1\n")
    assert (exc.value.line, exc.value.reason) == (6, inifile.NESTED_NO_EQUALS)
    assert SECRET not in str(exc.value)
    # ":" does not count inside a nested block.
    with pytest.raises(ParseError):
        parse_text("[a]\ns3 =\n  k: v\n")


def test_nested_uses_splitlines_but_configparser_does_not() -> None:
    # \x0b, \x1c and \u2028 do not end a line for configparser; _parse_nested splits on them.
    ini = parse_text("[a]\nk = a\x0bb\ns3 =\n  x = 1\x1cy = 2\n")
    assert values(ini, "a") == {"k": "a\x0bb", "s3": {"x": "1", "y": "2"}}
    with pytest.raises(ParseError) as exc:
        parse_text("[a]\ns3 =\n  x = 1\u2028junk\n")
    assert exc.value.line == 3


# -- errors -------------------------------------------------------------------------------------

ERROR_CASES = [
    # text with SECRET in the offending line, expected (line, reason), a valid control text
    (f"[a]\nk = 1\n[b]\n[a]{SECRET}\n", (4, inifile.DUPLICATE_SECTION), "[a]\n[b]\n"),
    (f"[a]\nAWS_X = 1\naws_x = {SECRET}\n", (3, inifile.DUPLICATE_OPTION), "[a]\naws_x = 1\n"),
    (f"# c\n\nk = {SECRET}\n[a]\n", (3, inifile.OUTSIDE_SECTION), "# c\n\n[a]\nk = 1\n"),
    (f"\ufeff[a]\nk = {SECRET}\n", (1, inifile.OUTSIDE_SECTION), "[a]\nk = 1\n"),
    (f"[a]\nk = 1\n{SECRET}\n", (3, inifile.NO_DELIMITER), f"[a]\nk = 1\n  {SECRET}\n"),
    (f"[a]\n = {SECRET}\n", (2, inifile.EMPTY_NAME), f"[a]\nk = {SECRET}\n"),
    (f"[a]\ns3 =\n  {SECRET}\n", (3, inifile.NESTED_NO_EQUALS), f"[a]\ns3 =\n  k={SECRET}\n"),
]


@pytest.mark.parametrize(("text", "expected", "control"), ERROR_CASES)
def test_errors_are_reported_without_content(
    tmp_path: Path, text: str, expected: tuple[int, str], control: str
) -> None:
    path = write(tmp_path, text)
    assert oracle(path) is None  # botocore agrees it is an error
    for read in (load, load_full):
        with pytest.raises(ParseError) as exc:
            read(path)
        e = exc.value
        assert (e.path, e.line, e.reason) == (path, *expected)
        assert str(e) == f"{path}:{expected[0]}: {expected[1]}"
        assert SECRET not in str(e) and SECRET not in repr(e) and SECRET not in repr(e.args)
    control_path = write(tmp_path, control, "control")
    assert oracle(control_path) is not None
    ini = load(control_path)
    assert ini is not None
    assert as_dict(ini) == oracle(control_path)


def test_errors_are_found_in_sections_nobody_asks_for() -> None:
    text = make_big_config(200) + "[profile zz]\nk = 1\nK = 2\n"
    with pytest.raises(ParseError) as exc:
        parse_text(text)
    assert exc.value.reason == inifile.DUPLICATE_OPTION
    # validate=False skips whole-file validation: another section still reads fine.
    lazy = parse_text(text, validate=False)
    assert values(lazy, "profile p00007") == values(
        parse_text(make_big_config(200)), "profile p00007"
    )
    with pytest.raises(ParseError):
        lazy.section("profile zz")


def test_first_error_wins_even_when_configparser_raises_a_later_one() -> None:
    # configparser collects the line without delimiter and raises DuplicateOptionError first;
    # the first offending line is the one reported.
    with pytest.raises(ParseError) as exc:
        parse_text("[a]\njunk\nk = 1\nk = 2\n")
    assert (exc.value.line, exc.value.reason) == (2, inifile.NO_DELIMITER)


def test_invalid_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b"[a]\r\nk = 1\rj = caf\xe9 " + SECRET.encode() + b"\n")
    assert oracle(path) is None
    with pytest.raises(ParseError) as exc:
        load(path)
    assert (exc.value.line, exc.value.reason) == (3, inifile.INVALID_UTF8)
    assert SECRET not in str(exc.value)
    ok = write(tmp_path, "[a]\nj = café\n", "ok")
    loaded = load(ok)
    assert loaded is not None and values(loaded, "a") == {"j": "café"}


def test_parse_error_message_format() -> None:
    assert str(ParseError("/x/config", 3, "duplicate section")) == "/x/config:3: duplicate section"
    assert str(ParseError("/x/config", None, "invalid UTF-8")) == "/x/config: invalid UTF-8"


def test_entry_repr_hides_the_value() -> None:
    ini = parse_text(f"[a]\nk = {SECRET}\n")
    entry = ini.section("a")
    assert entry is not None
    assert SECRET not in repr(entry["k"]) and "line=2" in repr(entry["k"])


# -- decoding and newlines ----------------------------------------------------------------------


def test_crlf_and_cr_are_newlines(tmp_path: Path) -> None:
    path = write(tmp_path, b"[a]\r\nk = 1\r\n  more\rj = 2\r[b]\n")
    ini = load(path)
    assert ini is not None
    assert as_dict(ini) == oracle(path) == {"a": {"k": "1\nmore", "j": "2"}, "b": {}}
    assert ini.header_line("b") == 5
    # parse_text is like read_string: a \r left in the text is whitespace, not a newline.
    assert values(parse_text("[a]\nk = 1\r\n"), "a") == {"k": "1"}


def test_nul_bytes_are_ordinary_characters(tmp_path: Path) -> None:
    path = write(tmp_path, b"[a]\nk = x\x00y\n\x00 = z\n")
    ini = load(path)
    assert ini is not None
    assert as_dict(ini) == oracle(path) == {"a": {"k": "x\x00y", "\x00": "z"}}


def test_one_megabyte_line(tmp_path: Path) -> None:
    big = "v" * (1 << 20)
    path = write(tmp_path, f"[a]\nk = {big}\n[b]\nj = 1\n")
    start = time.perf_counter()
    for validate in (True, False):
        ini = load(path, validate=validate)
        assert ini is not None
        assert values(ini, "a") == {"k": big}
        assert values(ini, "b") == {"j": "1"}
    assert time.perf_counter() - start < 5


def test_hostile_long_lines_stay_linear() -> None:
    # One 1 MB line full of "[" and of the header being looked up: each line is visited once.
    line = "[a]" * 350_000
    brackets = "[" * 1_000_000  # a column-0 "[" line that is not a header: an option
    text = f"[a]\nk = {line}\n  {line}\nj = {line}\n{brackets}=1\n"
    start = time.perf_counter()
    for validate in (True, False):
        ini = parse_text(text, validate=validate)
        assert ini.section_names() == ["a"]
        assert ini.header_line("a") == 1
        sec = values(ini, "a")
        assert sec == {"k": f"{line}\n{line}", "j": line, brackets: "1"}
    assert time.perf_counter() - start < 5


# -- paths --------------------------------------------------------------------------------------


def test_missing_directory_and_fifo_are_no_file(tmp_path: Path) -> None:
    assert load(str(tmp_path / "missing")) is None
    assert load(str(tmp_path)) is None
    assert load(str(tmp_path / "missing" / "config")) is None
    assert load("bad\x00path") is None
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert load(str(fifo)) is None  # must not block
    # Negative control: a regular file, and a symlink to one, are files.
    path = write(tmp_path, "[a]\n")
    link = tmp_path / "link"
    link.symlink_to(path)
    for p in (path, str(link)):
        ini = load(p)
        assert ini is not None and ini.section_names() == ["a"] and not ini.unreadable


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_empty_and_flagged(tmp_path: Path) -> None:
    path = write(tmp_path, "[a]\nk = 1\n")
    os.chmod(path, 0)
    assert raw_config_parse(path) == {}
    ini = load(path)
    assert ini is not None and ini.unreadable and ini.section_names() == []
    assert ini.section("a") is None


# Run as root, a child drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from its bounding set and
# re-executes Python: it stays uid 0, so it still reads everything root owns whatever the mode of
# the directories (a checkout under a 0700 directory, Python under /root, a 0700 temp dir, an
# import made after the drop), but the owner's mode bits now apply to it: mode 000 is EACCES.
DROP_DAC_AND_EXEC = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
    if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
        sys.exit("prctl(PR_CAPBSET_DROP): " + os.strerror(ctypes.get_errno()))
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges in a child")
def test_unreadable_file_as_an_unprivileged_child(tmp_path: Path) -> None:
    # Root reads mode-000 files; the child, without the capabilities that allow it, does not.
    # Control: a readable file beside it, read by the same child.
    path = tmp_path / "config"
    path.write_text("[a]\nk = 1\n")
    path.chmod(0)
    control = tmp_path / "control"
    control.write_text("[a]\nk = 1\n")
    code = textwrap.dedent(
        f"""
        import sys
        from botocore.configloader import raw_config_parse
        from awsguard.predict import inifile
        try:
            open({str(path)!r}).close()
        except PermissionError:
            pass
        else:
            raise SystemExit("still readable: the child kept its capabilities")
        for path in ({str(path)!r}, {str(control)!r}):
            ini = inifile.load(path)
            print(raw_config_parse(path), ini.unreadable, ini.section_names(), ini.section("a") is None)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", DROP_DAC_AND_EXEC, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "{} True [] True",
        "{'a': {'k': '1'}} False ['a'] False",
    ]


def test_open_failure_is_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[a]\nk = 1\n")

    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("awsguard.predict.inifile.os.open", denied)
    ini = load(path)
    assert ini is not None and ini.unreadable
    assert ini.section_names() == [] and ini.section("a") is None


# -- fast path ----------------------------------------------------------------------------------


def test_fast_and_full_paths_agree_on_a_big_config() -> None:
    text = make_big_config(300)
    whole = full(parse_text(text, validate=False))
    assert whole is not None
    for validate in (True, False):
        fast = parse_text(text, validate=validate)
        for name in ["default", "profile p00000", "profile p00123", "profile p00299", "nope"]:
            assert entries(fast.section(name)) == entries(whole.section(name))
            assert fast.header_line(name) == whole.header_line(name)
        assert fast._full is None  # answered from chunks, no whole-file parse
        assert fast.section_names() == whole.section_names()
        assert fast._full is None


def test_lookup_falls_back_when_an_indented_header_could_open_the_section() -> None:
    text = "[a]\n  x = 1\n  [b]\ny = 2\n[c]\nk = 1\n"
    for validate in (True, False):
        ini = parse_text(text, validate=validate)
        assert values(ini, "b") == {"y": "2"}
        assert values(ini, "a") == {"x": "1"}
        assert ini.section_names() == ["a", "b", "c"]


def test_section_returns_a_fresh_dict() -> None:
    ini = parse_text("[a]\nk = 1\n")
    first = ini.section("a")
    assert first is not None
    first.clear()
    assert values(ini, "a") == {"k": "1"}


def test_module_imports_nothing_heavy() -> None:
    code = textwrap.dedent(
        """
        import sys
        from awsguard.predict import inifile
        ini = inifile.IniFile("<string>", "[a]\\nk = 1\\n  more\\n[DEFAULT]\\nj = 2\\n")
        ini.validate(); ini.section("a"); ini.section_names(); ini.header_line("a")
        ini = inifile.IniFile("<string>", "[a]\\nk = 1\\n")
        ini.section("a"); ini.section_names()
        heavy = {"re", "dataclasses", "typing", "enum", "configparser", "json", "locale"}
        print(sorted(heavy & set(sys.modules)))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_lookup_reports_errors_it_meets() -> None:
    # validate=False still refuses to answer from a section botocore would not load.
    cases = [
        "[a]\nk = 1\n[b]\n[a]\nj = 2\n",  # duplicate section
        "[DEFAULT]\nx = 1\n[a]\nk = 1\n[DEFAULT]\nX = 2\n",  # duplicate across DEFAULT blocks
        "[a]\nk = 1\nk = 2\n",  # duplicate option in the section
        "[a]\ns3 =\n  nope\n",  # bad nested value in the section
    ]
    for text in cases:
        lazy = parse_text(text, validate=False)
        with pytest.raises(ParseError):
            lazy.section("a")
    with pytest.raises(ParseError) as exc:
        parse_text(cases[0], validate=False).header_line("a")
    assert (exc.value.line, exc.value.reason) == (4, inifile.DUPLICATE_SECTION)


def test_lazy_lookup_with_an_indented_header_inside_default() -> None:
    text = "[DEFAULT]\n  [a]\nk = 1\n[b]\nj = 2\n"
    assert oracle_text(text) == {"a": {"k": "1"}, "b": {"j": "2"}}
    for name, expected in [("b", {"j": "2"}), ("a", {"k": "1"})]:
        assert values(parse_text(text, validate=False), name) == expected
    assert parse_text(text, validate=False).header_line("a") == 2


def test_lazy_section_names_fallbacks() -> None:
    # A first header may be indented: the preamble opens a section.
    assert parse_text("  [a]\nk = 1\n[b]\n", validate=False).section_names() == ["a", "b"]
    # Errors met on the way are reported.
    for text in ("junk\n[a]\n", "[a]\n[b]\n[a]\n", "[a]\n"):
        lazy = parse_text(text, validate=False)
        if text == "[a]\n":
            assert lazy.section_names() == ["a"]  # negative control
        else:
            with pytest.raises(ParseError):
                lazy.section_names()
    # "[" that are not at the start of a line do not matter; an indented header does.
    text = "[a]\nk = [x] [y]\n  [c]\n[b]\n  j = 1\n  [d]\n"
    assert oracle_text(text) == {"a": {"k": "[x] [y]\n[c]"}, "b": {"j": "1"}, "d": {}}
    assert parse_text(text, validate=False).section_names() == ["a", "b", "d"]


def test_file_swapped_for_a_fifo_after_the_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    regular = os.stat(write(tmp_path, "[a]\n"))
    real_stat = os.stat
    monkeypatch.setattr(
        "awsguard.predict.inifile.os.stat", lambda p: regular if p == str(fifo) else real_stat(p)
    )
    assert load(str(fifo)) is None  # opened non-blocking, rejected by fstat, never read


def test_read_error_is_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[a]\nk = 1\n")

    def eio(fd: int, n: int) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("awsguard.predict.inifile.os.read", eio)
    ini = load(path)
    assert ini is not None and ini.unreadable and ini.section_names() == []
