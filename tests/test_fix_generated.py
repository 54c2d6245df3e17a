"""``awsguard fix`` on generated credentials files, judged by configparser and real botocore.

Each example writes a HOME whose credentials file spells the target profile's keys in any way
the CLI accepts - option names in any case, ``=`` or ``:`` with any spacing, indented options,
continuation lines (after blank lines and comments too), nested ``s3 =`` blocks, ``#``/``;``
comments, ``[``, ``#`` and ``%`` inside values, non-ASCII text, a ``[DEFAULT]`` section, LF, CRLF
or CR line ends, with or without a final newline - next to other profiles with keys of their own;
the config file gives the profile an ``aws login`` session (sometimes reached through a role's
``source_profile``).  Then ``awsguard fix --yes`` runs (in-process: the same ``run()`` the
command calls), and:

- the new file is byte for byte the old one without exactly the target's key lines (each key
  line through its last continuation line, and the header when nothing else was left) - the
  generator knows which lines it wrote for what, so the expectation is built independently;
- configparser's view of the new file is the old view minus exactly those options (plus the
  moved ones under ``--keep-keys-as``);
- real botocore (tests/oracle.py) resolves ``login`` for the profile, and another profile of
  the files resolves exactly as before;
- nothing printed holds a secret or a full key id.
"""

from __future__ import annotations

import configparser
import dataclasses
import io
import json
import os
import random
import shutil
import tempfile
from pathlib import Path

import botocore.credentials
import oracle
import pytest
from conftest import examples
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from awsguard.commands import fix

# Real botocore on every generated file: 13 s under the dev profile; `make test` runs it.
pytestmark = [pytest.mark.oracle, pytest.mark.slow]

KEY_OPTIONS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_security_token",
)
LOGIN_ARN = "arn:aws:iam::999999999999:user/test_user_B"
TARGETS = ("test_user", "default", "prod.admin", "a b")
OTHERS = ("other", "dev", "ci-bot")
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"


@dataclasses.dataclass
class Line:
    text: str
    role: str = "other"  # "header", "opt", "cont", "inside" (blank/comment within a value)
    section: str = ""
    key: str = ""  # canonical (lower-case) option name


@dataclasses.dataclass
class World:
    lines: list[Line]
    newline: str
    final_newline: bool
    target: str
    role_profile: str | None
    keep_as: str | None
    other_profile: str
    config: str
    secrets: list[str]
    key_ids: list[str]
    has_default: bool

    def credentials(self) -> bytes:
        body = self.newline.join(line.text for line in self.lines)
        return (body + (self.newline if self.final_newline else "")).encode()

    def expected_removed(self) -> set[int]:
        """1-based numbers of the target's key lines through their last continuation line,
        and of its header when no other own option is left (and no [DEFAULT] exists)."""
        removed: set[int] = set()
        spans: dict[str, list[int]] = {}
        for n, line in enumerate(self.lines, 1):
            if (
                line.section == self.target
                and line.key in KEY_OPTIONS
                and line.role in ("opt", "cont")
            ):
                spans.setdefault(line.key, []).append(n)
        for numbers in spans.values():
            removed.update(range(min(numbers), max(numbers) + 1))
        others = [
            line
            for line in self.lines
            if line.section == self.target and line.role == "opt" and line.key not in KEY_OPTIONS
        ]
        if not others and not self.has_default:
            removed.update(
                n
                for n, line in enumerate(self.lines, 1)
                if line.role == "header" and line.section == self.target
            )
        return removed

    def moved(self) -> list[int]:
        spans: dict[str, list[int]] = {}
        for n, line in enumerate(self.lines, 1):
            if (
                line.section == self.target
                and line.key in KEY_OPTIONS
                and line.role in ("opt", "cont")
            ):
                spans.setdefault(line.key, []).append(n)
        ordered = sorted((min(v), max(v)) for v in spans.values())
        return [n for first, last in ordered for n in range(first, last + 1)]


def _case(draw: st.DrawFn, key: str) -> str:
    return draw(st.sampled_from([key, key.upper(), key.title(), key[:1].upper() + key[1:]]))


def _key_id(draw: st.DrawFn) -> str:
    # A new-generation id of some account (base32, top bit set in the first character).
    return (
        "AKIA"
        + draw(st.sampled_from("QRSTUVWXYZ234567"))
        + "".join(draw(st.lists(st.sampled_from(B32), min_size=15, max_size=15)))
    )


def _secret(draw: st.DrawFn) -> str:
    return "genS3cret" + "".join(
        draw(st.lists(st.sampled_from(SECRET_ALPHABET), min_size=24, max_size=32))
    )


def _filler(draw: st.DrawFn, section: str, *, inside: bool) -> list[Line]:
    """Blank lines and comments (``#``, ``;``, indented or not)."""
    out = []
    for _ in range(draw(st.integers(0, 2))):
        text = draw(
            st.sampled_from(
                [
                    "",
                    "   ",
                    "# a comment",
                    "; another",
                    "  # indented [x] = y",
                    "#aws_secret_access_key = old",
                ]
            )
        )
        out.append(Line(text, "inside" if inside else "other", section))
    return out


@st.composite
def options_of(
    draw: st.DrawFn, section: str, keys: list[str], secrets: list[str], key_ids: list[str]
) -> list[Line]:
    out: list[Line] = []
    level = draw(st.integers(0, 3))
    for key in keys:
        level = draw(st.integers(0, level))  # a deeper option would be a continuation line
        sep = draw(st.sampled_from(["=", " = ", ":", " : ", "\t=\t", "  =", ":  "]))
        nested = False
        if key == "aws_access_key_id":
            value = _key_id(draw)
            key_ids.append(value)
            if draw(st.integers(0, 5)) == 0:
                value += "  # the old IAM user"
        elif key in KEY_OPTIONS:
            value = _secret(draw)
            secrets.append(value)
        elif key == "s3":
            value, nested = "", True
        else:
            value = draw(
                st.sampled_from(
                    [
                        "eu-west-1",
                        "json",
                        "x # not a comment",
                        "a[b]c",
                        "50%off",
                        "café",
                        "[profile z]",
                    ]
                )
            )
        out.append(Line(" " * level + _case(draw, key) + sep + value, "opt", section, key))
        for _ in range(draw(st.integers(0, 2) if not nested else st.integers(1, 2))):
            out.extend(_filler(draw, section, inside=True))
            if nested:
                cont = draw(
                    st.sampled_from(["max_concurrent_requests = 20", "addressing_style=path"])
                )
            else:
                cont = draw(st.sampled_from(["more", "[not a header]", "k = v", "x: y"]))
                if key in KEY_OPTIONS and key != "aws_access_key_id":
                    cont = _secret(draw)
                    secrets.append(cont)
            out.append(Line(" " * (level + draw(st.integers(1, 4))) + cont, "cont", section, key))
        out.extend(_filler(draw, section, inside=False))
    # Fillers after the last continuation are not inside the value: mark them so.
    for line in reversed(out):
        if line.role == "inside":
            line.role = "other"
        else:
            break
    return _trailing_fix(out)


def _trailing_fix(out: list[Line]) -> list[Line]:
    """Filler between a value's last continuation line and the next option is outside it."""
    for i, line in enumerate(out):
        if line.role != "inside":
            continue
        nxt = next((x for x in out[i + 1 :] if x.role != "inside"), None)
        if nxt is None or nxt.role != "cont":
            line.role = "other"
    return out


@st.composite
def worlds(draw: st.DrawFn) -> World:
    target = draw(st.sampled_from(TARGETS))
    secrets: list[str] = []
    key_ids: list[str] = []
    own_keys = ["aws_access_key_id", "aws_secret_access_key"]
    for extra in ("aws_session_token", "aws_security_token"):
        if draw(st.integers(0, 3)) == 0:
            own_keys.append(extra)
    own_keys += draw(
        st.lists(st.sampled_from(["region", "output", "s3", "ca_bundle"]), unique=True, max_size=2)
    )
    rng = random.Random(draw(st.integers(0, 2**32)))
    rng.shuffle(own_keys)
    sections: list[tuple[str, list[str]]] = [(target, own_keys)]
    others = draw(st.lists(st.sampled_from(OTHERS), unique=True, max_size=3))
    for name in others:
        keys = ["aws_access_key_id", "aws_secret_access_key"] if draw(st.booleans()) else []
        keys += draw(st.lists(st.sampled_from(["region", "output", "s3"]), unique=True, max_size=2))
        sections.append((name, keys))
    has_default = draw(st.integers(0, 4)) == 0
    if has_default:
        sections.append(
            (
                "DEFAULT",
                draw(st.lists(st.sampled_from(["region", "output"]), unique=True, min_size=1)),
            )
        )
    rng.shuffle(sections)
    lines: list[Line] = []
    if draw(st.booleans()):
        lines.append(Line("# credentials, generated"))
    for name, keys in sections:
        trail = draw(st.sampled_from(["", "", " ; note", "  # note"]))
        section = name if name != "DEFAULT" else "DEFAULT"
        lines.append(Line(f"[{name}]{trail}", "header", section))
        lines.extend(_filler(draw, section, inside=False))
        lines.extend(draw(options_of(section, keys, secrets, key_ids)))
        if draw(st.booleans()):
            lines.append(Line("", "other", section))
    role_profile = "role-x" if draw(st.integers(0, 3)) == 0 else None
    header = (
        "[default]"
        if target == "default"
        else f'[profile "{target}"]'
        if " " in target
        else f"[profile {target}]"
    )
    config = [header, "region = us-east-1", f"login_session = {LOGIN_ARN}", ""]
    for name in others:
        config += [f"[profile {name}]", "region = eu-central-1", ""]
    if role_profile:
        config += [
            f"[profile {role_profile}]",
            "role_arn = arn:aws:iam::999999999999:role/Admin",
            f"source_profile = {target}",
            "",
        ]
    other_profile = draw(st.sampled_from([*others, target])) if others else target
    return World(
        lines=lines,
        newline=draw(st.sampled_from(["\n", "\r\n", "\r"])),
        final_newline=draw(st.integers(0, 3)) > 0,
        target=target,
        role_profile=role_profile,
        keep_as="kept-keys" if draw(st.integers(0, 4)) == 0 else None,
        other_profile=other_profile,
        config="\n".join(config),
        secrets=secrets,
        key_ids=key_ids,
        has_default=has_default,
    )


# -- the checks -----------------------------------------------------------------------------------


def _own_view(data: bytes) -> dict[str, dict[str, str]]:
    cp = configparser.RawConfigParser()
    cp.read_file(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None))
    own = {s: dict(cp._sections[s]) for s in cp.sections()}  # type: ignore[attr-defined]
    return own | {"DEFAULT": dict(cp.defaults())}


def _botocore(home: Path, env: dict[str, str], profiles: list[str]) -> dict[str, str | None]:
    """What real botocore resolves for ``aws --profile P`` (v2 session variables), per profile:
    the credentials' method, or the exception's class name.  One session reads the files once
    and answers for every profile (as ``--profile`` does, it is set on the session)."""
    m = oracle.Materialized(scenario=oracle.Scenario(), home=str(home), env=env, argv=[])
    out: dict[str, str | None] = {}
    with oracle.botocore_world(m):
        session = oracle.new_session(2)
        for profile in profiles:
            session.set_config_variable("profile", profile)
            try:
                # The chain the session would build for this profile (the session caches its
                # own resolver, so it is built here, fresh, from the same files).
                resolver = botocore.credentials.create_credential_resolver(session)
                creds = resolver.load_credentials()
                out[profile] = creds.method if creds is not None else None
            except Exception as exc:  # the class name is the outcome
                out[profile] = type(exc).__name__
    return out


def _environ(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "LC_ALL": "C.UTF-8",
        "AWSGUARD_CLI_MAJOR": "2",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }


@settings(
    max_examples=examples(ci=1000),  # the bar: at least 1,000 files per CI run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(world=worlds())
def test_fix_removes_exactly_the_keys_and_botocore_then_uses_the_login(world: World) -> None:
    # On a tmpfs when there is one: a thousand edits' fsyncs would measure the disk, not fix
    # (durability has its own tests in test_safewrite_faults.py).
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    home = Path(tempfile.mkdtemp(prefix="awsguard-fixgen-", dir=shm))
    try:
        _check(world, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _check(world: World, home: Path) -> None:
    # What this example exercises (pytest --hypothesis-show-statistics lists the mix).
    event(f"newline {world.newline!r}, final newline {world.final_newline}")
    for what, present in (
        (
            "continuation in a key",
            any(x.role == "cont" and x.key in KEY_OPTIONS for x in world.lines),
        ),
        ("comment inside a value", any(x.role == "inside" for x in world.lines)),
        ("indented key", any(x.role == "opt" and x.text[:1] == " " for x in world.lines)),
        ("colon", any(x.role == "opt" and ":" in x.text.split("=")[0] for x in world.lines)),
        ("[DEFAULT]", world.has_default),
        ("role source profile", world.role_profile is not None),
        ("--keep-keys-as", world.keep_as is not None),
        (
            "header removed",
            any(world.lines[n - 1].role == "header" for n in world.expected_removed()),
        ),
    ):
        if present:
            event(what)
    aws = home / ".aws"
    (aws / "login" / "cache").mkdir(parents=True)
    cred = aws / "credentials"
    old = world.credentials()
    cred.write_bytes(old)
    os.chmod(cred, 0o600)
    (aws / "config").write_text(world.config)
    cache = home / oracle.login_cache_relpath(LOGIN_ARN)
    cache.write_text(json.dumps(oracle.login_token(expires_at="2099-01-01T00:00:00Z")))
    env = _environ(home)
    profiles = sorted({world.target, world.other_profile})
    before = _botocore(home, env, profiles)
    assert before[world.target] == "shared-credentials-file", before

    out, err = io.StringIO(), io.StringIO()
    profile = world.role_profile or world.target
    opts = fix.Options(profile=profile, yes=True, keep_as=world.keep_as)
    code = fix.run([], opts, environ=env, out=out, err=err, ask=False)
    shown = out.getvalue() + err.getvalue()
    assert code == 0, shown
    for secret in world.secrets:
        assert secret not in shown, "a secret was printed"
    for key_id in world.key_ids:
        assert key_id not in shown, "a full key id was printed"

    new = cred.read_bytes()
    records = old.splitlines(keepends=True)
    removed = world.expected_removed()
    expected = b"".join(r for n, r in enumerate(records, 1) if n not in removed)
    if world.keep_as:
        nl = world.newline.encode()
        if expected and not expected.endswith((b"\n", b"\r")):
            expected += nl
        expected += b"[kept-keys]" + nl
        for n in world.moved():
            expected += records[n - 1].rstrip(b"\r\n") + nl
    assert new == expected

    before_view, after_view = _own_view(old), _own_view(new)
    want = {s: dict(v) for s, v in before_view.items()}
    moved = {k: want[world.target].pop(k) for k in KEY_OPTIONS if k in want[world.target]}
    if not want[world.target] and not world.has_default:
        del want[world.target]
    if world.keep_as:
        want["kept-keys"] = moved
    assert after_view == want

    after = _botocore(home, env, profiles)
    assert after[world.target] == "login", after
    if world.other_profile != world.target:
        assert after[world.other_profile] == before[world.other_profile], (before, after)
