"""`awsguard explain`: the JSON contract (docs/ARCHITECTURE.md §5.1), the text form, the CLI surface, and the
safety rules (no secret, no traceback) over generated scenarios."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import oracle
import pytest
import strategies
from conftest import examples
from hypothesis import HealthCheck, given, settings

from awsguard import words
from awsguard.app import AwsGuard
from awsguard.commands import explain
from awsguard.judge import policy
from awsguard.predict.resolver import resolve
from awsguard.present import report

AWSGUARD = [sys.executable, "-m", "awsguard"]
METHODS = {
    "env", "assume-role", "assume-role-with-web-identity", "sso", "shared-credentials-file",
    "login", "custom-process", "config-file", "ec2-credentials-file", "boto-config",
    "container-role", "iam-role",
}  # fmt: skip
STATUSES = {"matched", "skipped", "shadowed", "error", "unreachable"}
LOGIN_ARN = "arn:aws:iam::999999999999:user/test_user_B"
KEY_A = "AKIAQAAAAAAAAAAAAXXN"  # new-generation id of account 000000000000


def field_report_home(root: Path, *, keys: bool = True) -> dict[str, str]:
    """The field report: keys of account 000000000000 shadow the login of 999999999999."""
    aws = root / ".aws"
    aws.mkdir(parents=True, exist_ok=True)
    (aws / "config").write_text(
        f"[profile test_user]\nregion = ap-northeast-1\nlogin_session = {LOGIN_ARN}\n"
    )
    creds = "[test_user]\n"
    if keys:
        creds += f"aws_access_key_id = {KEY_A}\naws_secret_access_key = very-secret-value-A\n"
    (aws / "credentials").write_text(creds)
    return {
        "HOME": str(root),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWSGUARD_CLI_MAJOR": "2",
        "XDG_CACHE_HOME": str(root / ".cache"),
    }


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AWSGUARD, *args], env=env, capture_output=True, text=True, check=False)


def test_json_contract_on_the_field_report(tmp_path):
    env = field_report_home(tmp_path)
    proc = run_cli(
        ["explain", "--json", "--", "sts", "get-caller-identity", "--profile", "test_user"], env
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    for field in ("schema", "cli", "profile", "profile_from", "source", "error", "chain",
                  "identity", "session", "shadowed", "findings", "verdict"):  # fmt: skip
        assert field in doc, field
    assert doc["schema"] == 1
    assert (doc["profile"], doc["profile_from"]) == ("test_user", "--profile")
    assert doc["source"] == "shared-credentials-file" and doc["error"] is None
    assert [s["provider"] for s in doc["chain"]] == [
        "env", "assume-role", "assume-role-with-web-identity", "sso", "shared-credentials-file",
        "login", "custom-process", "config-file", "ec2-credentials-file", "boto-config",
        "container-role", "iam-role",
    ]  # fmt: skip
    assert {s["status"] for s in doc["chain"]} <= STATUSES
    matched = [s for s in doc["chain"] if s["status"] == "matched"]
    assert len(matched) == 1 and matched[0]["origin"].endswith("/.aws/credentials:2")
    assert doc["shadowed"] == ["login"]
    assert doc["identity"]["account"] == "000000000000"
    assert doc["identity"]["account_from"] == "key-id"
    assert doc["session"]["kind"] == "login" and doc["session"]["account"] == "999999999999"
    assert doc["session"]["principal"] == LOGIN_ARN
    assert doc["session"]["state"] == "missing"  # no cache written here
    rules = {f["rule"]: f["severity"] for f in doc["findings"]}
    assert rules["login-shadowed"] == "block" and rules["account-mismatch"] == "block"
    assert doc["verdict"] == "block"
    assert "very-secret-value-A" not in proc.stdout + proc.stderr
    assert KEY_A not in proc.stdout  # key ids are masked


def test_fixed_profile_is_allowed(tmp_path):
    """Negative control of the field report: without the keys the login session is used."""
    env = field_report_home(tmp_path, keys=False)
    doc = json.loads(
        run_cli(["explain", "--json", "--", "--profile", "test_user", "s3", "ls"], env).stdout
    )
    assert doc["error"]["code"] == "LoginTokenLoadError"  # the login provider is reached ...
    assert doc["shadowed"] == []  # ... and nothing shadows it
    assert "login-shadowed" not in {f["rule"] for f in doc["findings"]}


def test_text_form_names_both_identities(tmp_path):
    env = field_report_home(tmp_path)
    proc = run_cli(["explain", "--", "sts", "get-caller-identity", "--profile", "test_user"], env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "\033[" not in out  # not a TTY: no colour
    assert re.search(r"> shared-credentials-file\s+MATCHED", out)
    assert re.search(r"! login\s+shadowed", out)
    assert "account 000000000000" in out and "account 999999999999" in out
    assert "verdict: BLOCK" in out
    assert "~/.aws/credentials:2" in out


def test_fast_path_and_plumbum_path_agree(tmp_path, monkeypatch, capsys):
    env = field_report_home(tmp_path)
    args = ["sts", "get-caller-identity", "--profile", "test_user"]
    fast = json.loads(run_cli(["explain", "--json", "--", *args], env).stdout)
    monkeypatch.setattr(os, "environ", env)
    _, code = AwsGuard.run(["awsguard", "explain", "--json", "--", *args], exit=False)
    assert code == 0
    slow = json.loads(capsys.readouterr().out)
    fast.pop("cli"), slow.pop("cli")
    assert fast == slow


def test_aws_words_may_start_without_a_separator(tmp_path):
    env = field_report_home(tmp_path)
    with_sep = run_cli(["explain", "--json", "--", "s3", "ls", "--profile", "test_user"], env)
    without = run_cli(["explain", "--json", "s3", "ls", "--profile", "test_user"], env)
    assert json.loads(with_sep.stdout) == json.loads(without.stdout)
    assert json.loads(without.stdout)["profile"] == "test_user"
    # An unknown awsguard option before the aws words is an error, not an aws argument.
    typo = run_cli(["explain", "--jsno", "s3", "ls"], env)
    assert typo.returncode == 2 and "Unknown switch --jsno" in typo.stdout + typo.stderr
    assert '"schema"' not in typo.stdout


def test_help_and_usage_errors(tmp_path):
    env = field_report_home(tmp_path)
    top = run_cli(["--help"], env)
    assert top.returncode == 0 and "explain" in top.stdout
    sub = run_cli(["explain", "--help"], env)
    assert sub.returncode == 0 and "--json" in sub.stdout
    bad = run_cli(["no-such-command"], env)
    assert bad.returncode == 2 and "awsguard:" in bad.stderr and "Traceback" not in bad.stderr
    bad_major = run_cli(["explain"], {**env, "AWSGUARD_CLI_MAJOR": "3"})
    assert bad_major.returncode == 2 and "AWSGUARD_CLI_MAJOR" in bad_major.stderr


def test_malformed_file_is_reported_without_its_content(tmp_path):
    env = field_report_home(tmp_path)
    secret = "do-not-print-this-secret"
    (tmp_path / ".aws" / "credentials").write_text(
        f"[test_user]\naws_secret_access_key {secret}\n"  # no delimiter: a parse error
    )
    proc = run_cli(["explain", "--", "--profile", "test_user", "sts", "get-caller-identity"], env)
    assert proc.returncode == 0
    assert "ConfigParseError" in proc.stdout
    assert secret not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_clean_makes_terminal_controls_visible():
    assert words.clean("a\x1b]0;pwned\x07b") == "a^[]0;pwned^Gb"
    assert words.clean("prod\u202e") == "prod<U+202E>"
    assert words.clean("admin@prod 50%off") == "admin@prod 50%off"  # legitimate names unchanged
    assert words.clean("x" * 500, limit=10) == "x" * 9 + "…"


# -- properties over generated scenarios ---------------------------------------------------------

_SECRET_FIELD = re.compile(
    rb"(?:aws_secret_access_key|aws_session_token|aws_security_token|AWSSecretKey)[ \t]*[=:][ \t]*(\S+)"
    rb'|"(?:secretAccessKey|sessionToken|refreshToken)"\s*:\s*"([^"]+)"'
)


def _secrets(scn: oracle.Scenario) -> set[str]:
    found: set[str] = set()
    for _, content in scn.files:
        for m in _SECRET_FIELD.finditer(content):
            value = (m.group(1) or m.group(2)).decode("utf-8", "replace")
            found.add(value)
    for key, value in scn.env:
        if key in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN") and value:
            found.add(value)
    # Short values ("x", "b") would match unrelated text; generated secrets are longer.
    return {s for s in found if len(s) >= 6}


@settings(
    max_examples=examples(ci=300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(scn=strategies.scenarios("all"))
def test_no_secret_and_no_crash_in_any_rendering(scn):
    with oracle.materialize(scn) as m:
        res = resolve(m.argv, m.env, major=2, crt=True)
        findings, verdict = policy.judge(res, m.env)
        doc = json.dumps(report.to_json(res, findings, verdict, None))
        text = report.to_text(res, findings, verdict, None, m.env, m.argv, report.Style(True))
    assert set(json.loads(doc)) >= {"source", "error", "chain", "verdict"}
    assert json.loads(doc)["verdict"] in ("allow", "warn", "block")
    for secret in _secrets(scn):
        assert secret not in doc, f"secret {secret!r} in JSON\n{scn.describe()}"
        assert secret not in text, f"secret {secret!r} in text\n{scn.describe()}"


@pytest.mark.parametrize("as_json", [True, False])
def test_run_writes_to_the_given_stream(tmp_path, as_json):
    env = field_report_home(tmp_path)
    out = io.StringIO()
    assert (
        explain.run(["--profile", "test_user", "s3", "ls"], as_json=as_json, environ=env, out=out)
        == 0
    )
    assert ("shared-credentials-file" in out.getvalue()) and ("login" in out.getvalue())


def test_explain_applies_the_same_policy_file_as_the_shim(tmp_path):
    env = field_report_home(tmp_path)
    (tmp_path / ".aws" / "credentials").write_text(
        f"[plain]\naws_access_key_id = {KEY_A}\naws_secret_access_key = very-secret-value-A\n"
    )
    args = ["explain", "--json", "--", "--profile", "plain", "sts", "get-caller-identity"]
    report = json.loads(run_cli(args, env).stdout)
    assert (report["source"], report["verdict"]) == ("shared-credentials-file", "allow")
    policy_file = tmp_path / ".config" / "awsguard" / "config.toml"
    policy_file.parent.mkdir(parents=True)
    policy_file.write_text('[profiles.plain]\nexpect_account = "123456789012"\n')
    report = json.loads(run_cli(args, env).stdout)
    pinned = [f for f in report["findings"] if f["rule"] == "expected-account"]
    assert report["verdict"] == "block" and len(pinned) == 1
    assert "123456789012" in pinned[0]["message"] and "000000000000" in pinned[0]["message"]
    # AWSGUARD_MODE=warn caps it, exactly as in the shim.
    report = json.loads(run_cli(args, {**env, "AWSGUARD_MODE": "warn"}).stdout)
    assert report["verdict"] == "warn"


def test_explain_names_a_bad_setting_and_exits_2(tmp_path):
    env = field_report_home(tmp_path)
    policy_file = tmp_path / ".config" / "awsguard" / "config.toml"
    policy_file.parent.mkdir(parents=True)
    policy_file.write_text('mode = "loud"\n')
    done = run_cli(["explain", "--", "sts", "get-caller-identity"], env)
    assert done.returncode == 2 and done.stdout == ""
    assert "mode" in done.stderr and '"warn"' in done.stderr and '"strict"' in done.stderr
    assert "Traceback" not in done.stderr
