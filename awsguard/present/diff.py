"""The plan of an edit as people read it: a unified diff, with every secret masked.

The lines of a credentials file are secrets or sit next to them, so every line shown - removed,
added or context - is masked first: the value of a secret-looking option (and every
continuation line of it) becomes ``****``, an access key id ``AKIA…WXYZ``; then, whatever its
role, anything shaped like a key id or a long random token is masked too, in comments as well;
then the line passes the one display function (``clean``).  With ``raw=True`` the exact bytes
are produced instead (tests feed them to ``patch`` to prove the hunks are right).
"""

from __future__ import annotations

import bisect
import difflib

from awsguard.predict.identity import looks_like_key_id, mask_key_id
from awsguard.words import clean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Literal

    from awsguard.predict.inifile import Layout

    Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]

_SECRET_WORDS = ("secret", "token", "password", "passphrase", "private", "credential_process")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=")
_NO_NEWLINE = "\\ No newline at end of file"


def is_secret_option(key: str) -> bool:
    key = key.lower()
    return any(word in key for word in _SECRET_WORDS)


def _delimiter(s: str) -> int:
    """Index of the delimiter configparser splits ``s`` at (first ``=``, unless the text
    before it holds a ``:``), or -1."""
    eq = s.find("=")
    colon = s.find(":")
    if eq >= 0 and (colon < 0 or colon > eq):
        return eq
    return colon


def _mask_value(line: str, key_id: bool) -> str:
    cut = _delimiter(line)
    if cut < 0:
        return line
    head, value = line[: cut + 1], line[cut + 1 :]
    spaces = len(value) - len(value.lstrip())
    head, value = head + value[:spaces], value[spaces:]
    if not value.strip():
        return line
    if key_id:
        return head + mask_key_id(value.strip())
    return head + "****"


def _scrub_tokens(text: str) -> str:
    """Mask anything shaped like an access key id or a long random token, wherever it is."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        word = "".join(run)
        run.clear()
        if looks_like_key_id(word) or (len(word) >= 16 and word[:4] in ("AKIA", "ASIA")):
            out.append(mask_key_id(word))
        elif len(word) >= 24 and _random_looking(word):
            out.append("****")
        else:
            out.append(word)

    for ch in text:
        if ch in _TOKEN_CHARS:
            run.append(ch)
        else:
            if run:
                flush()
            out.append(ch)
    if run:
        flush()
    return "".join(out)


def _random_looking(word: str) -> bool:
    return (
        any(c.isdigit() for c in word)
        + any(c.isupper() for c in word)
        + any(c.islower() for c in word)
        + any(c in "/+" for c in word)
    ) >= 3


class Masker:
    """Masks the lines of one file whose :class:`Layout` is known (line numbers are 1-based)."""

    def __init__(self, layout: Layout | None) -> None:
        # Sorted (first, last, key-line role) of every secret-bearing option; a line's role is
        # found by bisection, so a 10,000-profile file costs one pass here and a lookup per line
        # shown.  Roles: "key-id" / "secret" (the key line), "secret-more" (its other lines).
        spans: list[tuple[int, int, str]] = []
        kinds: dict[str, str | None] = {}  # option name -> role (names repeat across sections)
        if layout is not None:
            for options in (*layout.options.values(), layout.defaults):
                for key, (first, last) in options.items():
                    kind = kinds.get(key, "")
                    if kind == "":
                        kind = kinds[key] = (
                            "key-id"
                            if key == "aws_access_key_id"
                            else "secret"
                            if is_secret_option(key)
                            else None
                        )
                    if kind is not None:
                        spans.append((first, last, kind))
        spans.sort()
        self._starts = [first for first, _, _ in spans]
        self._spans = spans

    def role(self, number: int) -> str:
        i = bisect.bisect_right(self._starts, number) - 1
        if i < 0:
            return "plain"
        first, last, role = self._spans[i]
        if number == first:
            return role
        return "secret-more" if number <= last else "plain"

    def line(self, number: int | None, text: str) -> str:
        role = self.role(number or 0)
        if role == "secret-more":
            indent = text[: len(text) - len(text.lstrip())]
            text = indent + "****" if text.strip() else text
        elif role in ("secret", "key-id"):
            text = _mask_value(text, role == "key-id")
        else:
            stripped = text.lstrip(" \t#;")
            cut = _delimiter(stripped)
            if cut > 0:
                key = stripped[:cut].strip().lower()
                if key == "aws_access_key_id" or is_secret_option(key):
                    text = text[: len(text) - len(stripped)] + _mask_value(
                        stripped, key == "aws_access_key_id"
                    )
        return clean(_scrub_tokens(text), 300)


def _strip_end(record: bytes) -> tuple[bytes, bool]:
    if record.endswith(b"\r\n"):
        return record[:-2], True
    if record.endswith((b"\n", b"\r")):
        return record[:-1], True
    return record, False


class _Fixed(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """A SequenceMatcher that reports given opcodes (the edit is known; nothing to search)."""

    def __init__(self, opcodes: list[Opcode]) -> None:
        super().__init__(None, [], [])
        self._given = opcodes

    def get_opcodes(self) -> list[Opcode]:
        return self._given


def opcodes_for(old: Sequence[bytes], new: Sequence[bytes]) -> list[Opcode]:
    """difflib opcodes from ``old`` to ``new`` records: the common start and end are matched
    directly, only the middle is searched (edits of a 10,000-profile file stay cheap)."""
    n, m = len(old), len(new)
    start = 0
    while start < n and start < m and old[start] == new[start]:
        start += 1
    end = 0
    while end < n - start and end < m - start and old[n - 1 - end] == new[m - 1 - end]:
        end += 1
    codes: list[Opcode] = []
    if start:
        codes.append(("equal", 0, start, 0, start))
    middle = difflib.SequenceMatcher(None, old[start : n - end], new[start : m - end], False)
    for tag, i1, i2, j1, j2 in middle.get_opcodes():
        codes.append((tag, i1 + start, i2 + start, j1 + start, j2 + start))
    if end:
        codes.append(("equal", n - end, n, m - end, m))
    return codes


def removal_opcodes(old: Sequence[bytes], new: Sequence[bytes], removed: set[int]) -> list[Opcode]:
    """Opcodes of an edit that removed the 1-based lines ``removed`` and possibly appended lines
    at the end (the last kept line may have gained a terminator).  Computed from the line
    numbers alone (the kept lines are the old ones by construction): no comparison of the
    whole file."""
    n = len(old)
    codes: list[Opcode] = []
    i = j = 0  # 0-based positions in old and new
    for number in sorted(x for x in removed if 1 <= x <= n):
        k = number - 1
        if k > i:
            codes.append(("equal", i, k, j, j + (k - i)))
            j += k - i
        codes.append(("delete", k, k + 1, j, j))
        i = k + 1
    if i < n:
        codes.append(("equal", i, n, j, j + (n - i)))
        j += n - i
    if j < len(new):
        codes.append(("insert", n, n, j, len(new)))
    # The last kept line gained a terminator (lines were appended after it): a change too.
    last_equal = next((c for c in reversed(codes) if c[0] == "equal"), None)
    if last_equal is not None:
        _, a1, a2, b1, b2 = last_equal
        if a2 > a1 and old[a2 - 1] != new[b2 - 1]:
            at = codes.index(last_equal)
            head: list[Opcode] = [("equal", a1, a2 - 1, b1, b2 - 1)] if a2 - 1 > a1 else []
            codes[at : at + 1] = [*head, ("replace", a2 - 1, a2, b2 - 1, b2)]
    return _merge(codes)


def _merge(codes: list[Opcode]) -> list[Opcode]:
    """Adjacent changes as one (``delete`` then ``insert`` become a ``replace``)."""
    out: list[Opcode] = []
    for code in codes:
        if out and code[0] != "equal" and out[-1][0] != "equal":
            _, i1, _, j1, _ = out[-1]
            out[-1] = ("replace", i1, code[2], j1, code[4])
        elif out and code[0] == "equal" and out[-1][0] == "equal":
            out[-1] = ("equal", out[-1][1], code[2], out[-1][3], code[4])
        else:
            out.append(code)
    return out


def unified(
    old: Sequence[bytes],
    new: Sequence[bytes],
    opcodes: list[Opcode],
    *,
    old_label: str,
    new_label: str,
    old_show: Callable[[int, str], str] | None = None,
    new_show: Callable[[int, str], str] | None = None,
    new_origin: Callable[[int], int | None] | None = None,
    context: int = 3,
    raw: bool = False,
) -> str | bytes:
    """A unified diff of the records ``old`` -> ``new`` following ``opcodes``.

    ``old_show(line, text)`` / ``new_show(line, text)`` display one line of each side (the
    masker); ``new_origin(j)`` maps a new line (1-based) to the old line it was copied from, so
    a moved secret is masked as one.  ``raw`` gives the exact bytes, for ``patch``.
    """
    out: list[bytes] = []

    def emit(prefix: bytes, record: bytes, number: int, side: str) -> None:
        body, has_end = _strip_end(record)
        if raw:
            out.append(prefix + record + (b"" if has_end else b"\n"))
        else:
            text = body.decode("utf-8", "surrogateescape")
            if side == "old":
                shown = old_show(number, text) if old_show else clean(text, 300)
            else:
                shown = new_show(number, text) if new_show else clean(text, 300)
            out.append(prefix + shown.encode("utf-8", "surrogateescape") + b"\n")
        if not has_end:
            out.append(_NO_NEWLINE.encode() + b"\n")

    out.append(f"--- {old_label}\n".encode("utf-8", "surrogateescape"))
    out.append(f"+++ {new_label}\n".encode("utf-8", "surrogateescape"))
    for group in _Fixed(opcodes).get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n".encode())
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                for i in range(a1, a2):
                    emit(b" ", old[i], i + 1, "old")
                continue
            for i in range(a1, a2):
                emit(b"-", old[i], i + 1, "old")
            for j in range(b1, b2):
                origin = new_origin(j + 1) if new_origin else None
                if origin is not None:
                    emit(b"+", new[j], origin, "old")
                else:
                    emit(b"+", new[j], j + 1, "new")
    data = b"".join(out)
    return data if raw else data.decode("utf-8", "surrogateescape")


def _range(start: int, stop: int) -> str:
    """``start,length`` as unified diffs write it (1-based; an empty range names the line
    before it)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    if length == 0:
        return f"{start},0"
    return f"{start + 1},{length}"
