"""Policy rules (docs/ARCHITECTURE.md §5.3): each rule fires on its case and stays quiet on the control."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from awsguard.judge import policy
from awsguard.predict.resolver import resolve

LOGIN_ARN = "arn:aws:iam::999999999999:user/test_user_B"
KEY_A = "AKIAQAAAAAAAAAAAAXXN"  # new-generation key id of account 000000000000


def write_home(
    home: Path, config: str, credentials: str = "", login_expires_in: float | None = 900
) -> dict[str, str]:
    aws = home / ".aws"
    aws.mkdir(parents=True, exist_ok=True)
    (aws / "config").write_text(config)
    (aws / "credentials").write_text(credentials)
    if login_expires_in is not None:
        cache = aws / "login" / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + login_expires_in))
        token = {
            "accessToken": {
                "accessKeyId": "ASIAQ2LOGINTESTUSERB",
                "secretAccessKey": "s",
                "sessionToken": "t",
                "accountId": "999999999999",
                "expiresAt": expires,
            },
            "refreshToken": "r",
            "dpopKey": "k",
            "clientId": "c",
        }
        (cache / (hashlib.sha256(LOGIN_ARN.encode()).hexdigest() + ".json")).write_text(
            json.dumps(token)
        )
    return {"HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true", "PATH": "/usr/bin:/bin"}


def judge(argv: list[str], env: dict[str, str], major: int = 2) -> tuple[dict[str, str], str]:
    res = resolve(argv, env, major=major, crt=True)
    findings, verdict = policy.judge(res, env)
    return {f.rule: f.severity for f in findings}, verdict


LOGIN_PROFILE = f"[profile dev]\nlogin_session = {LOGIN_ARN}\n"
KEYS = f"[dev]\naws_access_key_id = {KEY_A}\naws_secret_access_key = s\n"


def test_login_shadowed_and_account_mismatch(tmp_path):
    env = write_home(tmp_path, LOGIN_PROFILE, KEYS)
    rules, verdict = judge(["--profile", "dev", "s3", "ls"], env)
    assert rules == {"login-shadowed": "block", "account-mismatch": "block"}
    assert verdict == "block"


def test_login_alone_is_allowed(tmp_path):
    env = write_home(tmp_path, LOGIN_PROFILE)
    assert judge(["--profile", "dev", "s3", "ls"], env) == ({}, "allow")


def test_login_shadowed_without_a_decodable_account(tmp_path):
    """Old-generation key ids carry no account: the shadowing is still a block, the account
    comparison has nothing to compare."""
    creds = "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n"
    rules, verdict = judge(
        ["--profile", "dev", "s3", "ls"], write_home(tmp_path, LOGIN_PROFILE, creds)
    )
    assert rules == {"login-shadowed": "block"} and verdict == "block"


def test_login_shadowed_through_a_role_source_profile(tmp_path):
    config = (
        LOGIN_PROFILE
        + "[profile admin]\nrole_arn = arn:aws:iam::111111111111:role/Admin\nsource_profile = dev\n"
    )
    env = write_home(tmp_path, config, KEYS)
    rules, _ = judge(["--profile", "admin", "s3", "ls"], env)
    assert rules.get("login-shadowed") == "block"
    assert "account-mismatch" not in rules  # the role's account legitimately differs
    # Control: without the stale keys the role is sourced from the login session.
    env = write_home(tmp_path / "fixed", config)
    assert judge(["--profile", "admin", "s3", "ls"], env) == ({}, "allow")


def test_env_keys_override_aws_profile(tmp_path):
    env = write_home(tmp_path, LOGIN_PROFILE)
    env |= {"AWS_PROFILE": "dev", "AWS_ACCESS_KEY_ID": KEY_A, "AWS_SECRET_ACCESS_KEY": "s"}
    rules, verdict = judge(["s3", "ls"], env)
    assert rules["env-overrides-profile"] == "warn"
    assert rules["login-shadowed"] == "block"  # env keys come before the login session too
    assert verdict == "block"


def test_env_keys_with_explicit_profile_are_dropped_by_the_cli(tmp_path):
    env = write_home(tmp_path, LOGIN_PROFILE)
    env |= {"AWS_ACCESS_KEY_ID": KEY_A, "AWS_SECRET_ACCESS_KEY": "s"}
    res = resolve(["--profile", "dev", "s3", "ls"], env, major=2, crt=True)
    assert res.source == "login" and res.env_keys_ignored
    assert policy.judge(res, env) == ([], "allow")


def test_env_keys_without_a_named_profile_are_not_an_override(tmp_path):
    env = write_home(tmp_path, "[default]\nregion = us-east-1\n")
    env |= {"AWS_ACCESS_KEY_ID": KEY_A, "AWS_SECRET_ACCESS_KEY": "s"}
    assert judge(["s3", "ls"], env) == ({}, "allow")


@pytest.mark.parametrize(("major", "used"), [(1, "b"), (2, "a")])
def test_profile_variables_disagree(tmp_path, major, used):
    config = "[profile a]\nregion = us-east-1\n[profile b]\nregion = us-east-1\n"
    env = write_home(tmp_path, config) | {"AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"}
    res = resolve(["s3", "ls"], env, major=major, crt=True)
    assert res.profile == used
    findings, verdict = policy.judge(res, env)
    assert [f.rule for f in findings] == ["profile-env-disagree"] and verdict == "warn"
    # Control: the same value in both is not a disagreement.
    same = env | {"AWS_DEFAULT_PROFILE": "a"}
    assert judge(["s3", "ls"], same, major) == ({}, "allow")


def test_login_expired_is_information_only(tmp_path):
    env = write_home(tmp_path, LOGIN_PROFILE, login_expires_in=-60)
    rules, verdict = judge(["--profile", "dev", "s3", "ls"], env)
    assert rules == {"login-expired": "info"} and verdict == "allow"


def test_severities_can_be_changed(tmp_path):
    env = write_home(tmp_path, LOGIN_PROFILE, KEYS)
    res = resolve(["--profile", "dev", "s3", "ls"], env, major=2, crt=True)
    findings, verdict = policy.judge(
        res, env, {"login-shadowed": "warn", "account-mismatch": "off"}
    )
    assert [(f.rule, f.severity) for f in findings] == [("login-shadowed", "warn")]
    assert verdict == "warn"


def test_messages_name_the_fix_and_no_secret(tmp_path):
    env = write_home(tmp_path, LOGIN_PROFILE, KEYS.replace("= s\n", "= top-secret-value\n"))
    res = resolve(["--profile", "dev", "s3", "ls"], env, major=2, crt=True)
    findings, _ = policy.judge(res, env)
    shadowed = next(f for f in findings if f.rule == "login-shadowed")
    assert "000000000000" in shadowed.message and LOGIN_ARN in shadowed.message
    assert "~/.aws/credentials" in shadowed.fix and "[dev]" in shadowed.fix
    assert all("top-secret-value" not in f.message + f.fix for f in findings)
