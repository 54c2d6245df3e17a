"""awsguard.predict.identity: key-id decoding, masking, ARNs, timestamps, cache-name hashes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from dateutil.parser import isoparse
from hypothesis import example, given
from hypothesis import strategies as st

from awsguard.predict import identity
from awsguard.predict.identity import (
    account_from_key_id,
    format_remaining,
    format_utc,
    looks_like_key_id,
    mask_key_id,
    parse_arn,
    parse_timestamp,
    principal_from_arn,
    sha1_hex,
    sha256_hex,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


# --- An independent encoder: the layout described by Be'ery / WithSecure -----------------------


def encode_key_id(
    prefix: str, account: int, low7: int, tail32: int, new_generation: bool = True
) -> str:
    """80 bits: [generation flag][40-bit account][7 bits][32 bits], as 16 base32 characters."""
    first48 = (int(new_generation) << 47) | (account << 7) | low7
    bits = (first48 << 32) | tail32
    chars = [B32[(bits >> (5 * (15 - i))) & 31] for i in range(16)]
    return prefix + "".join(chars)


def decode_ignoring_generation(key_id: str) -> int:
    bits = 0
    for c in key_id[4:]:
        bits = (bits << 5) | B32.index(c)
    return ((bits >> 32) & 0x7FFFFFFFFF80) >> 7


# --- account_from_key_id ---------------------------------------------------------------------


def test_published_examples() -> None:
    assert account_from_key_id("ASIAY34FZKBOKMUTVV7A") == "609629065308"
    # AWS's documentation key is old-generation: the bits decode to a number, but not an account.
    assert decode_ignoring_generation("AKIAIOSFODNN7EXAMPLE") == 581039954779
    assert account_from_key_id("AKIAIOSFODNN7EXAMPLE") is None


def test_encoder_agrees_with_published_example() -> None:
    # Guards the test's own encoder: re-encoding the published id's fields gives it back.
    key = "ASIAY34FZKBOKMUTVV7A"
    bits = 0
    for c in key[4:]:
        bits = (bits << 5) | B32.index(c)
    first48, tail32 = bits >> 32, bits & 0xFFFFFFFF
    assert encode_key_id("ASIA", 609629065308, first48 & 0x7F, tail32) == key


@given(
    prefix=st.sampled_from(["AKIA", "ASIA"]),
    account=st.integers(0, 999_999_999_999),
    low7=st.integers(0, 127),
    tail32=st.integers(0, 2**32 - 1),
)
def test_round_trip(prefix: str, account: int, low7: int, tail32: int) -> None:
    key = encode_key_id(prefix, account, low7, tail32)
    assert key[4] in "QRSTUVWXYZ234567"
    assert looks_like_key_id(key)
    assert account_from_key_id(key) == f"{account:012d}"
    # Negative control: the same bits without the generation flag are not trusted.
    old = encode_key_id(prefix, account, low7, tail32, new_generation=False)
    assert old[4] in "ABCDEFGHIJKLMNOP"
    assert account_from_key_id(old) is None


@given(account=st.integers(1_000_000_000_000, 2**40 - 1), tail32=st.integers(0, 2**32 - 1))
def test_more_than_twelve_digits_is_not_an_account(account: int, tail32: int) -> None:
    assert account_from_key_id(encode_key_id("AKIA", account, 0, tail32)) is None


GOOD = "ASIAY34FZKBOKMUTVV7A"


@pytest.mark.parametrize(
    "key",
    [
        GOOD.lower(),
        "asiaY34FZKBOKMUTVV7A",
        GOOD[:4] + GOOD[4:].lower(),
        GOOD[:19],
        GOOD + "A",
        "",
        "ASIA",
        " " + GOOD,
        GOOD + "\n",
        "AIDA" + GOOD[4:],
        "AROA" + GOOD[4:],
        "AGPA" + GOOD[4:],
        "ABIA" + GOOD[4:],
        "ASIAY34FZKBOKMUTVV7\u0391",  # Greek capital alpha
        "ASIA\uff3934FZKBOKMUTVV7A",  # full-width Y
    ],
)
def test_malformed_key_ids_are_unknown(key: str) -> None:
    assert account_from_key_id(key) is None
    assert not looks_like_key_id(key)


@pytest.mark.parametrize("bad", "0189a=-")
@pytest.mark.parametrize("position", [4, 5, 12, 19])
def test_characters_outside_base32(bad: str, position: int) -> None:
    key = GOOD[:position] + bad + GOOD[position + 1 :]
    assert account_from_key_id(key) is None
    assert not looks_like_key_id(key)
    # Negative control: a valid base32 character in the same place decodes.
    assert account_from_key_id(GOOD[:position] + "Z" + GOOD[position + 1 :]) is not None


@given(st.text(max_size=40))
@example("ASIA\x00" + "A" * 15)
def test_junk_never_raises(text: str) -> None:
    result = account_from_key_id(text)
    assert result is None or (len(result) == 12 and result.isdigit())
    if result is not None:
        assert looks_like_key_id(text) and text[4] in "QRSTUVWXYZ234567"


# --- masking ---------------------------------------------------------------------------------


def test_mask_key_id_examples() -> None:
    assert mask_key_id("AKIAIOSFODNN7EXAMPLE") == "AKIA…MPLE"
    assert mask_key_id("ASIAY34FZKBOKMUTVV7A") == "ASIA…VV7A"
    assert mask_key_id("AKIA12345678") == "…78"  # 12 characters: too short for prefix+suffix
    assert mask_key_id("ABC") == "****"
    assert mask_key_id("") == "****"
    # A secret access key pasted into the key id field: lower case, '/', '+' -> nothing shown.
    assert mask_key_id("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") == "****"
    assert mask_key_id("AKIA\x1b]0;pwned\x07XYZW") == "****"


def revealed(masked: str) -> str:
    return masked.replace("…", "").replace("*", "")


@given(st.text(max_size=200))
@example("AKIAIOSFODNN7EXAMPLE")
@example("A" * 10_000)
def test_mask_never_reveals_more_than_eight_characters(text: str) -> None:
    masked = mask_key_id(text)
    shown = revealed(masked)
    assert len(shown) <= 8
    # Whatever is shown is a prefix and a suffix of the input, in upper-case letters and digits.
    head, _, tail = masked.partition("…")
    assert text.startswith(head.replace("*", ""))
    assert text.endswith(tail)
    assert all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" for c in shown)


# --- ARNs ------------------------------------------------------------------------------------


def test_parse_arn() -> None:
    arn = parse_arn("arn:aws:iam::999999999999:user/test_user_B")
    assert arn is not None
    assert (arn.partition, arn.service, arn.region, arn.account, arn.resource) == (
        "aws",
        "iam",
        "",
        "999999999999",
        "user/test_user_B",
    )
    s3 = parse_arn("arn:aws-us-gov:s3:::bucket/key:with:colons")
    assert s3 is not None and s3.account is None and s3.resource == "bucket/key:with:colons"
    policy = parse_arn("arn:aws:iam::aws:policy/AdministratorAccess")
    assert policy is not None and policy.account is None  # 'aws' is not an account


@pytest.mark.parametrize(
    "text",
    [
        "",
        "arn",
        "arn:aws:iam::999999999999",
        "ARN:aws:iam::999999999999:user/x",
        "urn:aws:iam::999999999999:user/x",
        "arn::iam::999999999999:user/x",
        "arn:aws:::999999999999:user/x",
        "arn:aws:iam::999999999999:",
    ],
)
def test_parse_arn_rejects(text: str) -> None:
    assert parse_arn(text) is None


@pytest.mark.parametrize(
    "account", ["99999999999", "9999999999999", "99999999999a", "٩٩٩٩٩٩٩٩٩٩٩٩", ""]
)
def test_account_must_be_twelve_ascii_digits(account: str) -> None:
    arn = parse_arn(f"arn:aws:iam::{account}:user/x")
    assert arn is not None and arn.account is None
    # Negative control.
    good = parse_arn("arn:aws:iam::000000000000:user/x")
    assert good is not None and good.account == "000000000000"


@pytest.mark.parametrize(
    ("text", "kind", "name", "session"),
    [
        ("arn:aws:iam::999999999999:user/test_user_B", "user", "test_user_B", None),
        ("arn:aws:iam::999999999999:user/division/team/alice", "user", "alice", None),
        ("arn:aws:iam::111111111111:role/login-c", "role", "login-c", None),
        (
            "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/Admin",
            "role",
            "Admin",
            None,
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/Admin/bob@example.com",
            "assumed-role",
            "Admin",
            "bob@example.com",
        ),
        ("arn:aws:sts::123456789012:federated-user/carol", "federated-user", "carol", None),
        ("arn:aws:iam::123456789012:root", "root", None, None),
        ("arn:aws:iam::123456789012:group/devs", "other", None, None),
        ("arn:aws:sts::123456789012:assumed-role/Admin", "other", None, None),
        ("arn:aws:s3:::bucket", "other", None, None),
    ],
)
def test_principal_from_arn(text: str, kind: str, name: str | None, session: str | None) -> None:
    principal = principal_from_arn(text)
    assert principal is not None
    assert (principal.kind, principal.name, principal.session) == (kind, name, session)
    assert principal.account == text.split(":")[4] or principal.account is None


@given(st.text(max_size=80))
@example("arn:" + ":" * 10)
def test_arn_junk_never_raises(text: str) -> None:
    arn = parse_arn(text)
    principal_from_arn(text)
    if arn is not None:
        assert text.startswith("arn:") and arn.resource
        assert arn.account is None or (len(arn.account) == 12 and arn.account.isdigit())


# --- timestamps ------------------------------------------------------------------------------


def test_timestamp_examples() -> None:
    base = datetime(2025, 11, 24, 10, 0, tzinfo=UTC).timestamp()
    assert parse_timestamp("2025-11-24T10:00:00Z") == base
    assert parse_timestamp("2025-11-24 10:00:00Z") == base
    assert parse_timestamp("2025-11-24T10:00:00UTC") == base
    assert parse_timestamp("2025-11-24 10:00:00 UTC") == base
    assert parse_timestamp("2025-11-24T10:00:00+00:00") == base
    assert parse_timestamp("2025-11-24T19:00:00+0900") == base
    assert parse_timestamp("2025-11-24T04:30:00-05:30") == base
    assert parse_timestamp("2025-11-24T11:00:00+01") == base
    assert parse_timestamp("2025-11-24T10:00:00.250Z") == base + 0.25
    assert parse_timestamp("  2025-11-24T10:00:00Z\n") == base


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2025-11-24",
        "2025-11-24T10:00:00",  # no zone: ambiguous
        "2025-11-24T10:00Z",
        "2025-11-24T24:00:00Z",
        "2025-11-24T10:60:00Z",
        "2025-11-24T10:00:60Z",
        "2025-02-29T10:00:00Z",  # not a leap year
        "2025-13-01T10:00:00Z",
        "2025-00-01T10:00:00Z",
        "0000-01-01T00:00:00Z",
        "2025-11-24T10:00:00.Z",
        "2025-11-24T10:00:00+24:00",
        "2025-11-24T10:00:00+05:75",
        "2025-11-24T10:00:00+5",
        "2025-11-24T10:00:00 EST",
        "2025-11-24T10:00:00ZZ",
        "2025-11-24X10:00:00Z",
        "\uff12\uff10\uff12\uff15-11-24T10:00:00Z",  # full-width digits
        "2025-1_-24T10:00:00Z",
        "1763978400",
        "Mon, 24 Nov 2025 10:00:00 GMT",
    ],
)
def test_timestamp_rejects(text: str) -> None:
    assert parse_timestamp(text) is None


def test_leap_day() -> None:
    assert parse_timestamp("2024-02-29T00:00:00Z") == datetime(2024, 2, 29, tzinfo=UTC).timestamp()
    assert parse_timestamp("2000-02-29T00:00:00Z") is not None
    assert parse_timestamp("1900-02-29T00:00:00Z") is None


offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
aware = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
)


def render_offset(dt: datetime, style: str) -> str:
    offset = dt.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return {"colon": f"{sign}{hh:02d}:{mm:02d}", "compact": f"{sign}{hh:02d}{mm:02d}"}[style]


@given(
    dt=aware,
    sep=st.sampled_from(["T", " "]),
    timespec=st.sampled_from(["seconds", "milliseconds", "microseconds"]),
    style=st.sampled_from(["colon", "compact"]),
)
def test_timestamps_agree_with_datetime(dt: datetime, sep: str, timespec: str, style: str) -> None:
    text = dt.replace(tzinfo=None).isoformat(sep=sep, timespec=timespec) + render_offset(dt, style)
    expected = dt.replace(
        microsecond=dt.microsecond if timespec == "microseconds" else dt.microsecond // 1000 * 1000
    )
    if timespec == "seconds":
        expected = expected.replace(microsecond=0)
    assert parse_timestamp(text) == expected.timestamp()
    assert parse_timestamp(text) == datetime.fromisoformat(text).timestamp()
    assert parse_timestamp(text) == isoparse(text).timestamp()


@given(
    dt=st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
    )
)
def test_utc_forms(dt: datetime) -> None:
    naive = dt.replace(tzinfo=None).isoformat(timespec="microseconds")
    for text in (naive + "Z", naive + "UTC", naive + " UTC", naive.replace("T", " ") + "Z"):
        assert parse_timestamp(text) == dt.timestamp()


@given(
    digits=st.text(alphabet="0123456789", min_size=16, max_size=16),
    sep=st.sampled_from("T "),
    frac=st.text(alphabet="0123456789", max_size=9),
    zone=st.sampled_from(["Z", "+00:00", "-01:30", "+23:59", "+12:60", "+24:00", "-0000"]),
)
def test_shaped_junk_agrees_with_fromisoformat(digits: str, sep: str, frac: str, zone: str) -> None:
    d = digits
    text = f"{d[:4]}-{d[4:6]}-{d[6:8]}{sep}{d[8:10]}:{d[10:12]}:{d[12:14]}"
    text += ("." + frac if frac else "") + zone
    ours = parse_timestamp(text)
    try:
        theirs: float | None = datetime.fromisoformat(text).timestamp()
    except ValueError:
        theirs = None
    if ours is not None:
        assert ours == theirs
    elif zone != "+12:60":  # fromisoformat accepts minute 60 in offsets; we do not
        assert theirs is None


@given(st.text(max_size=64))
@example("2025-11-24T10:00:00")
@example("9999-12-31T23:59:59-23:59")
def test_timestamp_junk_never_raises(text: str) -> None:
    result = parse_timestamp(text)
    assert result is None or isinstance(result, float)


def test_format_remaining() -> None:
    assert format_remaining(14 * 60 + 59) == "14m"
    assert format_remaining(65 * 60) == "1h05m"
    assert format_remaining(26 * 3600 + 5) == "1d02h"
    assert format_remaining(30) == "<1m"
    assert format_remaining(-200) == "expired 3m ago"
    assert format_remaining(0) == "expired <1m ago"
    assert format_remaining(float("nan")) == "?"
    assert format_remaining(float("inf")) == "?"


def test_format_utc_round_trip() -> None:
    for text in ("2025-11-24T10:00:00Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z"):
        ts = parse_timestamp(text)
        assert ts is not None
        assert format_utc(ts) == text
    assert format_utc(1e30) == "?"


# --- hashes ----------------------------------------------------------------------------------


@given(st.text(max_size=100))
@example("arn:aws:iam::999999999999:user/test_user_B")
@example("my-sso")
def test_hashes_match_hashlib(text: str) -> None:
    assert sha256_hex(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert sha1_hex(text) == hashlib.sha1(text.encode("utf-8")).hexdigest()


def test_hash_of_surrogate_escaped_text_is_hash_of_original_bytes() -> None:
    raw = b"arn:aws:iam::999999999999:user/caf\xe9"
    text = raw.decode("utf-8", "surrogateescape")
    assert sha256_hex(text) == hashlib.sha256(raw).hexdigest()
    assert sha1_hex("\ud800") == hashlib.sha1("\ud800".encode("utf-8", "surrogatepass")).hexdigest()


def test_hash_falls_back_to_hashlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity, "_HASHERS", {})
    real_import = __import__

    def no_small_modules(name: str, *args: object, **kwargs: object) -> object:
        if name in ("_sha2", "_sha256", "_sha1"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("builtins.__import__", no_small_modules)
    assert sha256_hex("x") == hashlib.sha256(b"x").hexdigest()
    assert sha1_hex("x") == hashlib.sha1(b"x").hexdigest()


# --- the hot-path import rule ----------------------------------------------------------------

HEAVY = (
    "re",
    "json",
    "datetime",
    "hashlib",
    "_hashlib",
    "base64",
    "subprocess",
    "typing",
    "dataclasses",
    "enum",
    "calendar",
)


def test_import_and_use_stay_light() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "before = set(sys.modules)\n"
        "from awsguard.predict import identity as i\n"
        "assert i.account_from_key_id('ASIAY34FZKBOKMUTVV7A') == '609629065308'\n"
        "i.parse_timestamp('2025-11-24T10:00:00Z'); i.format_utc(0.0); i.format_remaining(61)\n"
        "i.mask_key_id('AKIAIOSFODNN7EXAMPLE'); i.principal_from_arn('arn:aws:iam::123456789012:user/a')\n"
        "i.sha256_hex('x'); i.sha1_hex('x')\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, REPO], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "awsguard.predict.identity" in out  # the probe really imported the module
    assert not [m for m in HEAVY if m in out], out
