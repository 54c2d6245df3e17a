"""The one display function, and every renderer that shows a value from a file or the
environment: a value's continuation lines (configparser joins indented lines into the value
above them) may hold anything - a secret pasted one line too deep - and are never shown."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsguard import errors
from awsguard.commands import status
from awsguard.judge import policy
from awsguard.predict.resolver import resolve
from awsguard.present import report, segment
from awsguard.words import clean

NOW = time.time()
SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"

# Where a continuation line can sit: the settings whose values awsguard shows somewhere.
HOSTS = ["region", "login_session", "role_arn", "sso_session", "output", "credential_process"]

# Varied enough that no 12-character window can also be an account id or a word awsguard prints.
secrets = st.text(alphabet=SECRET_CHARS, min_size=24, max_size=40).filter(
    lambda s: len(set(s)) >= 12
)
firsts = st.sampled_from(
    ["eu-west-1", "arn:aws:iam::999999999999:user/test_user_B", "dev", "json", ""]
)


def _leaks(secret: str, text: str) -> bool:
    """Any 12 consecutive characters of the secret in ``text`` (masking keeps at most 4)."""
    return any(secret[i : i + 12] in text for i in range(len(secret) - 11))


def _world(tmp: Path, host: str, first: str, secret: str, indent: str) -> dict[str, str]:
    aws = tmp / ".aws"
    aws.mkdir(exist_ok=True)
    lines = ["[profile test_user]"]
    if host != "login_session":
        lines.append("login_session = arn:aws:iam::999999999999:user/test_user_B")
    lines += [f"{host} = {first}", f"{indent}{secret}", f"{indent}more {secret[::-1]}"]
    (aws / "config").write_text("\n".join(lines) + "\n")
    (aws / "credentials").write_text(
        "[test_user]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        f"aws_secret_access_key = x\n  {secret}\n"
    )
    return {
        "HOME": str(tmp),
        "AWS_PROFILE": "test_user",
        "AWS_EC2_METADATA_DISABLED": "true",
        "PATH": "/nonexistent",
        "NO_COLOR": "1",
        "AWSGUARD_PROMPT_SHOW": "always",
        "XDG_CACHE_HOME": str(tmp / "cache"),
    }


def _everything_shown(env: dict[str, str]) -> list[str]:
    argv = ["sts", "get-caller-identity"]
    shown = []
    res = resolve(argv, env, major=2, crt=True, now=NOW)
    findings, verdict = policy.judge(res, env)
    shown.append(report.dumps(report.to_json(res, findings, verdict, None)))
    shown.append(report.to_text(res, findings, verdict, None, env, argv, report.Style(False)))
    shown.append(
        report.shim_message(
            res, findings, verdict, argv, env, report.Style(False), policy_file="/nonexistent"
        )
    )
    seg, inputs = segment.compute(env, NOW)
    for fmt in ("plain", "zsh", "bash"):
        shown.append(segment.rendered(seg, env, fmt))
    shown.append(report.dumps(segment.as_json(seg, env)))
    for shell in ("zsh", "bash"):
        shown.append(segment.hook_report(seg, inputs, env, shell, "4242", NOW).decode())
    for as_json in (False, True):
        out = io.StringIO()
        try:
            status.run(
                as_json=as_json, problems_only=False, environ=env, out=out, color=False, now=NOW
            )
        except errors.AwsGuardError as exc:  # a file the CLI cannot parse: said, not listed
            shown.append(exc.render())
        shown.append(out.getvalue())
    return shown


@settings(
    max_examples=examples(ci=150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    host=st.sampled_from(HOSTS),
    first=firsts,
    secret=secrets,
    indent=st.sampled_from([" ", "  ", "\t", "    "]),
)
def test_no_renderer_shows_a_continuation_line(tmp_path_factory, host, first, secret, indent):
    tmp = tmp_path_factory.mktemp("w")
    env = _world(tmp, host, first, secret, indent)
    shown = _everything_shown(env)
    assert any("test_user" in text for text in shown)  # the renderers ran on this world
    for text in shown:
        assert not _leaks(secret, text), text
        assert not _leaks(secret[::-1], text), text


def test_the_region_of_the_field_report_stays_on_its_line(tmp_path):
    """The case that leaked 29 characters of a secret key into $AWSGUARD_PROMPT."""
    secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12"
    env = _world(tmp_path, "region", "eu-west-1", secret, "  ")
    seg, _ = segment.compute(env, NOW)
    assert seg.region == "eu-west-1…"  # the value is cut where its first line ends
    for fmt in ("plain", "zsh", "bash"):
        assert secret[:8] not in segment.rendered(seg, env, fmt)
    # Negative control: the same world's secret is really in the file awsguard read.
    assert secret in (tmp_path / ".aws" / "config").read_text()


@given(st.text(max_size=300), st.integers(min_value=1, max_value=300))
def test_clean_shows_one_bounded_visible_line(text, limit):
    shown = clean(text, limit)
    assert len(shown) <= limit
    assert shown.isprintable() or shown == ""
    assert "\n" not in shown and "\r" not in shown
    lines = text.splitlines()
    if lines and lines[0].isascii() and lines[0].isprintable() and len(lines[0]) < limit:
        # An ordinary first line is shown exactly, marked when something followed it.
        assert shown == lines[0] + ("…" if len(text) != len(lines[0]) else "")


def test_clean_examples():
    assert clean("a\x1b]0;pwned\x07b") == "a^[]0;pwned^Gb"
    assert clean("prod\u202e") == "prod<U+202E>"
    assert clean("eu-west-1\nAKIAIOSFODNN7EXAMPLE") == "eu-west-1…"
    assert clean("\nsecret") == "…"
    assert clean("x" * 500, 10) == "x" * 9 + "…"
    assert clean("ok") == "ok"


def test_json_is_valid_utf8_for_undecodable_bytes():
    doc = {"path": "/home/\udcff/.aws/config", "lone": "\ud800", "fine": "é"}
    text = report.dumps(doc)
    data = text.encode("utf-8")  # would raise for a lone surrogate
    back = json.loads(data.decode("utf-8"))
    assert back == {"path": "/home/\\xff/.aws/config", "lone": "\\ud800", "fine": "é"}
    # Negative control: plain json.dumps writes what no UTF-8 decoder accepts afterwards.
    raw = json.loads(json.dumps(doc))["path"]
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        raise AssertionError("json.dumps kept a lone surrogate encodable")
