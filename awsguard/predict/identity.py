"""Identity facts awsguard can know offline: accounts, principals, key ids, expiry times.

Everything here is a pure function of a string and runs on the shim's hot path, so the module
imports nothing at load time beyond ``time`` (a builtin): no ``re``, ``datetime``, ``base64`` or
``hashlib``.  Garbage input gives ``None`` (or "unknown"), never an exception: values come from
hand-edited files and the environment.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# --- Access key ids ---------------------------------------------------------------------------
#
# Key ids are a 4-character type prefix plus 16 characters of base32 (RFC 4648 alphabet A-Z2-7).
# For new-generation ids the first 48 bits of the decoded tail hold a generation flag (bit 47),
# the 40-bit account number (bits 46..7) and 7 more bits; old ids (5th character A-P: AKIAI…,
# AKIAJ…) carry no recoverable account.  Sources: Tal Be'ery, "A short note on AWS KEY ID"
# (2023); WithSecure Labs, "A bitwise analysis of AWS access key identifiers";
# docs/hostile-inputs.md §6.

_B32 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")}
_NEW_GENERATION = frozenset("QRSTUVWXYZ234567")  # base32 values 16..31: the top bit is set
_KEY_PREFIXES = ("AKIA", "ASIA")  # long-term, temporary
_UPPER_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def looks_like_key_id(key_id: str) -> bool:
    """True for a syntactically valid access key id: AKIA/ASIA + 16 base32 characters."""
    if len(key_id) != 20 or key_id[:4] not in _KEY_PREFIXES:
        return False
    b32 = _B32
    return all(c in b32 for c in key_id[4:])


def account_from_key_id(key_id: str) -> str | None:
    """The 12-digit account a new-generation ``AKIA``/``ASIA`` key id belongs to, else None.

    Unverified by nature: it says nothing about whether the key exists or is active.
    """
    if len(key_id) != 20 or key_id[:4] not in _KEY_PREFIXES:
        return None
    if key_id[4] not in _NEW_GENERATION:
        return None
    b32 = _B32
    bits = 0
    for c in key_id[4:]:
        value = b32.get(c)
        if value is None:
            return None
        bits = (bits << 5) | value
    # 16 chars x 5 bits = 80 bits = 10 bytes; the account lives in the first 6 bytes.
    account = ((bits >> 32) & 0x7FFFFFFFFF80) >> 7
    if account > 999_999_999_999:  # 40 bits can exceed 12 digits; no such account exists
        return None
    return f"{account:012d}"


def mask_key_id(key_id: str) -> str:
    """A key id for display: ``AKIA…WXYZ``; at most 8 characters of the input ever appear.

    Only upper-case letters and digits are echoed, so a secret pasted into the wrong field (it has
    lower case, ``/`` and ``+``) and control characters are never shown.
    """
    n = len(key_id)
    if n < 8 or not _UPPER_ALNUM.issuperset(key_id):
        return "****"
    if n >= 16 and key_id[:4].isalpha():
        return f"{key_id[:4]}…{key_id[-4:]}"
    return f"…{key_id[-2:]}"


# --- ARNs -------------------------------------------------------------------------------------


class Arn:
    """``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE``; ``account`` is None unless 12 digits."""

    __slots__ = ("account", "partition", "region", "resource", "service", "text")

    def __init__(
        self,
        text: str,
        partition: str,
        service: str,
        region: str,
        account: str | None,
        resource: str,
    ) -> None:
        self.text = text
        self.partition = partition
        self.service = service
        self.region = region
        self.account = account
        self.resource = resource

    def __repr__(self) -> str:
        return f"Arn({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Arn) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _is_account(value: str) -> bool:
    return len(value) == 12 and value.isascii() and value.isdigit()


def parse_arn(arn: str) -> Arn | None:
    """Split an ARN; None unless it has the six parts with a partition, service and resource."""
    if not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    _, partition, service, region, account, resource = parts
    if not partition or not service or not resource:
        return None
    return Arn(arn, partition, service, region, account if _is_account(account) else None, resource)


class Principal:
    """Who an IAM/STS ARN names.

    ``kind`` is ``user``, ``role``, ``assumed-role``, ``federated-user``, ``root`` or ``other``;
    ``name`` is the user/role name without its path; ``session`` the role session name.
    """

    __slots__ = ("account", "arn", "kind", "name", "session")

    def __init__(self, arn: Arn, kind: str, name: str | None, session: str | None = None) -> None:
        self.arn = arn
        self.account = arn.account
        self.kind = kind
        self.name = name
        self.session = session

    def __repr__(self) -> str:
        return f"Principal({self.kind!r}, {self.name!r}, account={self.account!r})"


def principal_from_arn(arn: str) -> Principal | None:
    """``arn:aws:iam::123456789012:user/path/alice`` → user ``alice``;
    ``arn:aws:sts::123456789012:assumed-role/Admin/bob`` → assumed-role ``Admin``, session ``bob``.
    """
    parsed = parse_arn(arn)
    if parsed is None:
        return None
    resource = parsed.resource
    if parsed.service == "iam":
        if resource == "root":
            return Principal(parsed, "root", None)
        kind, _, rest = resource.partition("/")
        if kind in ("user", "role") and rest:
            # IAM paths: user/division/team/alice; the name is the last segment.
            name = rest.rsplit("/", 1)[-1]
            if name:
                return Principal(parsed, kind, name)
    elif parsed.service == "sts":
        kind, _, rest = resource.partition("/")
        if kind == "assumed-role":
            role, slash, session = rest.partition("/")
            if role and slash and session:
                return Principal(parsed, kind, role, session)
        elif kind == "federated-user" and rest:
            return Principal(parsed, kind, rest)
    return Principal(parsed, "other", None)


# --- Timestamps -------------------------------------------------------------------------------
#
# botocore parses cache expiry times with dateutil (botocore/utils.py ``parse_timestamp``), which
# accepts nearly anything.  The writers (aws login, aws sso login, credential caches) produce
# ISO-8601 in UTC; awsguard accepts those and the common variants and calls the rest unknown.


def _digits(s: str, start: int, count: int) -> int:
    """The ASCII number in ``s[start:start+count]``, or -1 (int() would accept '٣' and '1_0')."""
    chunk = s[start : start + count]
    if len(chunk) == count and chunk.isascii() and chunk.isdigit():
        return int(chunk)
    return -1


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _utc_offset(zone: str) -> int | None:
    """Seconds east of UTC for ``Z``, ``UTC``, ``GMT``, ``±HH``, ``±HHMM``, ``±HH:MM``."""
    if zone in ("Z", "z", "UTC", "GMT"):
        return 0
    if len(zone) < 3 or zone[0] not in "+-":
        return None
    body = zone[1:]
    hours = _digits(body, 0, 2)
    if len(body) == 2:
        minutes = 0
    elif len(body) == 4:
        minutes = _digits(body, 2, 2)
    elif len(body) == 5 and body[2] == ":":
        minutes = _digits(body, 3, 2)
    else:
        return None
    if not 0 <= hours <= 23 or not 0 <= minutes <= 59:
        return None
    offset = hours * 3600 + minutes * 60
    return -offset if zone[0] == "-" else offset


def parse_timestamp(value: str) -> float | None:
    """POSIX seconds of an ISO-8601 date-time with a zone, or None.

    Accepted: ``YYYY-MM-DD`` + ``T``/space + ``HH:MM:SS`` + optional ``.fraction`` (or ``,``) +
    a zone ``Z``, ``UTC``, ``GMT``, ``±HH``, ``±HHMM`` or ``±HH:MM`` (one space allowed before it).
    A time without a zone is ambiguous, so None.  Fractions are truncated to microseconds, as
    ``datetime`` does.
    """
    s = value.strip()
    if not 20 <= len(s) <= 64:
        return None
    year = _digits(s, 0, 4)
    month = _digits(s, 5, 2)
    day = _digits(s, 8, 2)
    hour = _digits(s, 11, 2)
    minute = _digits(s, 14, 2)
    second = _digits(s, 17, 2)
    if (
        s[4] != "-"
        or s[7] != "-"
        or s[10] not in "Tt "
        or s[13] != ":"
        or s[16] != ":"
        or year < 1
        or not 1 <= month <= 12
        or not 1 <= day <= _days_in_month(year, month)
        or not 0 <= hour <= 23
        or not 0 <= minute <= 59
        or not 0 <= second <= 59
    ):
        return None
    i = 19
    micros = 0
    if s[i] in ".,":
        j = i + 1
        while j < len(s) and "0" <= s[j] <= "9":
            j += 1
        if j == i + 1:
            return None
        micros = int(s[i + 1 : j][:6].ljust(6, "0"))
        i = j
    zone = s[i:]
    if zone[:1] == " ":
        zone = zone[1:]
    offset = _utc_offset(zone)
    if offset is None:
        return None
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    # The same arithmetic as datetime.timestamp(), so results compare equal to it.
    return ((seconds - offset) * 1_000_000 + micros) / 1_000_000


def format_remaining(seconds: float) -> str:
    """``"14m"``, ``"1h05m"``, ``"2d03h"``, ``"<1m"``, ``"expired 3m ago"`` (floored minutes)."""
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return "?"
    if seconds <= 0:
        return f"expired {_span(-seconds)} ago"
    return _span(seconds)


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "<1m"
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def format_utc(ts: float) -> str:
    """``2025-11-24T10:00:00Z`` (the form ``aws login`` writes); ``"?"`` if out of range."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    except (OverflowError, OSError, ValueError):
        return "?"


# --- Hashes for cache file names --------------------------------------------------------------
#
# hashlib loads OpenSSL (~3 ms); the small builtin C modules cost ~0.25 ms.  Resolved once, on
# first use.

if TYPE_CHECKING:
    from typing import Protocol

    class _Hash(Protocol):
        def hexdigest(self) -> str: ...


_HASHERS: dict[str, Callable[[bytes], _Hash]] = {}


def _hasher(name: str) -> Callable[[bytes], _Hash]:
    hasher = _HASHERS.get(name)
    if hasher is not None:
        return hasher
    # 3.12+ moved sha256 into _sha2; 3.11 has _sha256.  Both are optional builds.
    modules = ("_sha2", "_sha256") if name == "sha256" else ("_sha1",)
    found: Callable[[bytes], _Hash] | None = None
    for module in modules:
        try:
            found = getattr(__import__(module), name)
        except (ImportError, AttributeError):
            continue
        break
    if found is None:
        import hashlib

        found = getattr(hashlib, name)
    assert found is not None
    _HASHERS[name] = found
    return found


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates: a value read with surrogateescape stands for its original bytes.
        try:
            return text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return text.encode("utf-8", "surrogatepass")


def sha256_hex(text: str) -> str:
    """Hex SHA-256 of ``text`` as UTF-8: the login cache file name for a ``login_session`` ARN
    (botocore/utils.py ``generate_login_cache_key``)."""
    return _hasher("sha256")(_utf8(text)).hexdigest()


def sha1_hex(text: str) -> str:
    """Hex SHA-1 of ``text`` as UTF-8: the SSO token cache file name for an ``sso_session`` name
    or a legacy ``sso_start_url`` (botocore/utils.py ``SSOTokenLoader._generate_cache_key``)."""
    return _hasher("sha1")(_utf8(text)).hexdigest()
