"""The policy file's rules at work (docs/ARCHITECTURE.md §5.3): ``expected-account``, ``read-only`` and the
read/mutating classification of operations, the modes, ``[rules]`` severities and ``confirm``.

Each case writes a real HOME (config, credentials, login cache) and a real policy file, resolves
the command offline and judges it with the settings ``settings.load`` reads from that file."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_field_report import encode_access_key_id
from test_policy import LOGIN_PROFILE, write_home

from awsguard.judge import policy, settings
from awsguard.predict import argv
from awsguard.predict.resolver import resolve

ACCOUNT_A, ACCOUNT_B, ACCOUNT_C = "111111111111", "222222222222", "333333333333"
KEY_A = encode_access_key_id(int(ACCOUNT_A))
KEY_C = encode_access_key_id(int(ACCOUNT_C))
OLD_KEY = "AKIAIOSFODNN7EXAMPLE"  # old-generation key id: its account cannot be told offline

CONFIG = (
    "[profile prod]\nregion = us-east-1\n"
    "[profile legacy]\nregion = us-east-1\n"
    f"[profile admin]\nrole_arn = arn:aws:iam::{ACCOUNT_B}:role/Admin\nsource_profile = prod\n"
    "[profile dev]\nregion = us-east-1\n"
)
CREDENTIALS = (
    f"[prod]\naws_access_key_id = {KEY_A}\naws_secret_access_key = s\n"
    f"[legacy]\naws_access_key_id = {OLD_KEY}\naws_secret_access_key = s\n"
    f"[dev]\naws_access_key_id = {KEY_C}\naws_secret_access_key = s\n"
)


def setup(tmp_path: Path, policy_text: str, **extra: str) -> dict[str, str]:
    """A HOME with the profiles above and a policy file holding ``policy_text``."""
    env = write_home(tmp_path, CONFIG, CREDENTIALS, login_expires_in=None)
    path = tmp_path / "policy.toml"
    path.write_text(policy_text)
    return env | {"AWSGUARD_CONFIG": str(path), **extra}


def judge(args: list[str], env: dict[str, str]) -> tuple[list[policy.Finding], str]:
    res = resolve(args, env, major=2, crt=True)
    return policy.judge(res, env, settings=settings.load(env))


def rules_of(findings: list[policy.Finding]) -> dict[str, str]:
    return {f.rule: f.severity for f in findings}


def pin(profile: str, account: str) -> str:
    return f'[profiles.{profile}]\nexpect_account = "{account}"\n'


# -- expected-account ----------------------------------------------------------------------------


def test_expected_account_matches(tmp_path):
    env = setup(tmp_path, pin("prod", ACCOUNT_A))
    assert judge(["--profile", "prod", "s3", "ls"], env) == ([], "allow")


def test_expected_account_mismatch_blocks_and_names_both_accounts(tmp_path):
    env = setup(tmp_path, pin("prod", ACCOUNT_B))
    findings, verdict = judge(["--profile", "prod", "s3", "ls"], env)
    assert rules_of(findings) == {"expected-account": "block"} and verdict == "block"
    (finding,) = findings
    assert ACCOUNT_A in finding.message and ACCOUNT_B in finding.message
    assert "prod" in finding.message
    assert finding.fix  # every finding says how to fix it


def test_expected_account_of_a_role_is_the_role_account(tmp_path):
    args = ["--profile", "admin", "sts", "get-caller-identity"]
    assert judge(args, setup(tmp_path, pin("admin", ACCOUNT_B))) == ([], "allow")
    findings, verdict = judge(args, setup(tmp_path / "x", pin("admin", ACCOUNT_A)))
    assert rules_of(findings) == {"expected-account": "block"} and verdict == "block"
    assert ACCOUNT_A in findings[0].message and ACCOUNT_B in findings[0].message


def test_expected_account_of_an_aws_login_session(tmp_path):
    env = write_home(tmp_path, LOGIN_PROFILE)  # dev is logged in to account 999999999999
    policy_file = tmp_path / "policy.toml"
    env["AWSGUARD_CONFIG"] = str(policy_file)
    policy_file.write_text(pin("dev", "999999999999"))
    assert judge(["--profile", "dev", "s3", "ls"], env) == ([], "allow")
    policy_file.write_text(pin("dev", ACCOUNT_A))
    findings, verdict = judge(["--profile", "dev", "s3", "ls"], env)
    assert rules_of(findings) == {"expected-account": "block"} and verdict == "block"
    assert "999999999999" in findings[0].message and ACCOUNT_A in findings[0].message


def test_expected_account_catches_environment_keys_over_aws_profile(tmp_path):
    """The trap of docs/ARCHITECTURE.md §1 without aws login: AWS_PROFILE=prod, but exported keys of
    another account win."""
    env = setup(tmp_path, pin("prod", ACCOUNT_A))
    env |= {"AWS_PROFILE": "prod", "AWS_ACCESS_KEY_ID": KEY_C, "AWS_SECRET_ACCESS_KEY": "s"}
    findings, verdict = judge(["s3", "ls"], env)
    assert rules_of(findings) == {"expected-account": "block", "env-overrides-profile": "warn"}
    assert verdict == "block"
    pinned = next(f for f in findings if f.rule == "expected-account")
    assert ACCOUNT_A in pinned.message and ACCOUNT_C in pinned.message
    assert KEY_C not in pinned.message + pinned.fix  # key ids only masked


def test_expected_account_only_applies_to_its_profile(tmp_path):
    env = setup(tmp_path, pin("prod", ACCOUNT_B))
    assert judge(["--profile", "dev", "s3", "ls"], env) == ([], "allow")


def test_expected_account_needs_the_policy_file(tmp_path):
    env = setup(tmp_path, pin("prod", ACCOUNT_B))
    res = resolve(["--profile", "prod", "s3", "ls"], env, major=2, crt=True)
    assert policy.judge(res, env) == ([], "allow")  # no settings given: the rule has no pin


@pytest.mark.parametrize(
    ("policy_text", "extra", "expected"),
    [
        ("", {}, {}),
        ("", {"AWSGUARD_MODE": "warn"}, {}),
        ("", {"AWSGUARD_MODE": "strict"}, {"expected-account": "block"}),
        ('mode = "strict"\n', {}, {"expected-account": "block"}),
        ('mode = "strict"\n', {"AWSGUARD_MODE": "warn"}, {}),
    ],
)
def test_expected_account_unknown_offline_blocks_only_in_strict_mode(
    tmp_path, policy_text, extra, expected
):
    env = setup(tmp_path, policy_text + pin("legacy", ACCOUNT_A), **extra)
    findings, verdict = judge(["--profile", "legacy", "s3", "ls"], env)
    assert rules_of(findings) == expected
    assert verdict == ("block" if expected else "allow")
    if expected:
        assert ACCOUNT_A in findings[0].message and "legacy" in findings[0].message
        assert OLD_KEY not in findings[0].message + findings[0].fix


def test_unknown_account_without_a_pin_is_fine_even_in_strict_mode(tmp_path):
    env = setup(tmp_path, pin("prod", ACCOUNT_A), AWSGUARD_MODE="strict")
    assert judge(["--profile", "legacy", "s3", "ls"], env) == ([], "allow")


# -- read or mutating --------------------------------------------------------------------------

READS = [
    "ec2 describe-instances",
    "ec2 describe-instances --filters Name=tag:env,Values=prod",
    "s3api list-buckets",
    "s3api get-object --bucket b --key k out.bin",
    "s3api head-object --bucket b --key k",
    "s3api head-bucket --bucket b",
    "dynamodb batch-get-item --request-items file://items.json",
    "dynamodb query --table-name t --key-condition-expression k=:v",
    "dynamodb scan --table-name t",
    "ec2 wait instance-running --instance-ids i-1",
    "s3 ls",
    "s3 ls s3://bucket/prefix/ --recursive",
    "s3 presign s3://bucket/key",
    "sts get-caller-identity",
    "iam list-users",
    "cloudtrail lookup-events",
    "logs tail /aws/lambda/f",
    "--profile prod s3 ls",
    "--region eu-west-1 ec2 describe-instances",
    "ec2 --debug describe-instances",
    "s3 --region us-east-1 ls s3://b",
]
MUTATING = [
    "s3 cp a.txt s3://b/a.txt",
    "s3 cp s3://b/a.txt .",
    "s3 mv s3://b/a s3://b/c",
    "s3 rm s3://b/a",
    "s3 rm s3://b --recursive",
    "s3 sync . s3://b",
    "s3 mb s3://b",
    "s3 rb s3://b --force",
    "s3 website s3://b --index-document index.html",
    "ec2 run-instances --image-id ami-1",
    "ec2 terminate-instances --instance-ids i-1",
    "s3api put-object --bucket b --key k",
    "s3api delete-bucket --bucket b",
    "eks update-kubeconfig --name c",
    "iam create-access-key",
    "dynamodb put-item --table-name t --item file://i.json",
    "cloudformation deploy --template-file t.yml --stack-name s",
    "ec2 frobnicate-instances",  # an unknown verb
    "s3",  # a missing operation
    "ec2",
    "--profile prod s3 rm s3://b/k",
    "s3 --region us-east-1 rm s3://b/k",
]


@pytest.mark.parametrize("major", [1, 2])
@pytest.mark.parametrize("words", READS)
def test_reads(words, major):
    assert policy.is_read(argv.parse(words.split(), major)) is True


@pytest.mark.parametrize("major", [1, 2])
@pytest.mark.parametrize("words", MUTATING)
def test_mutating(words, major):
    assert policy.is_read(argv.parse(words.split(), major)) is False


def test_nothing_at_all_is_not_a_read():
    assert policy.is_read(argv.parse([], 2)) is False


# -- read-only ---------------------------------------------------------------------------------

READ_ONLY_PROD = '[profiles.prod]\nread_only = true\nexpect_account = "111111111111"\n'


@pytest.mark.parametrize("words", ["s3 ls", "ec2 describe-instances", "s3api get-object"])
def test_read_only_profile_allows_reads(tmp_path, words):
    env = setup(tmp_path, READ_ONLY_PROD)
    assert judge(["--profile", "prod", *words.split()], env) == ([], "allow")


@pytest.mark.parametrize(
    "words", ["s3 rm s3://b/k", "s3 sync . s3://b", "ec2 run-instances", "ec2 frobnicate"]
)
def test_read_only_profile_blocks_everything_else(tmp_path, words):
    env = setup(tmp_path, READ_ONLY_PROD)
    findings, verdict = judge(["--profile", "prod", *words.split()], env)
    assert rules_of(findings) == {"read-only": "block"} and verdict == "block"
    command, operation = words.split()[:2]
    assert "prod" in findings[0].message
    assert command in findings[0].message and operation in findings[0].message
    # Control: the same operation on a profile that is not read-only.
    env_rw = setup(tmp_path / "rw", READ_ONLY_PROD.replace("true", "false"))
    assert judge(["--profile", "prod", *words.split()], env_rw) == ([], "allow")
    assert judge(["--profile", "dev", *words.split()], env) == ([], "allow")


def test_read_only_profile_reached_through_aws_profile(tmp_path):
    env = setup(tmp_path, READ_ONLY_PROD, AWS_PROFILE="prod")
    findings, verdict = judge(["s3", "rm", "s3://b/k"], env)
    assert rules_of(findings) == {"read-only": "block"} and verdict == "block"
    assert judge(["s3", "ls"], env) == ([], "allow")


# -- severities from [rules], and the modes ------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "verdict"), [("off", "allow"), ("info", "allow"), ("warn", "warn")]
)
def test_rules_table_sets_the_severity(tmp_path, severity, verdict):
    text = f'[rules]\nread-only = "{severity}"\nexpected-account = "{severity}"\n'
    env = setup(tmp_path, text + READ_ONLY_PROD.replace(ACCOUNT_A, ACCOUNT_B))
    findings, got = judge(["--profile", "prod", "s3", "rm", "s3://b/k"], env)
    expected = (
        {} if severity == "off" else dict.fromkeys(("expected-account", "read-only"), severity)
    )
    assert rules_of(findings) == expected and got == verdict


def test_rules_table_can_raise_a_warning_to_a_block(tmp_path):
    env = setup(tmp_path, '[rules]\nenv-overrides-profile = "block"\n')
    env |= {"AWS_PROFILE": "prod", "AWS_ACCESS_KEY_ID": KEY_C, "AWS_SECRET_ACCESS_KEY": "s"}
    findings, verdict = judge(["s3", "ls"], env)
    assert rules_of(findings) == {"env-overrides-profile": "block"} and verdict == "block"
    # Control: the default is a warning.
    (tmp_path / "policy.toml").write_text("")
    assert judge(["s3", "ls"], env)[1] == "warn"


def test_explicit_severities_override_the_file(tmp_path):
    env = setup(tmp_path, '[rules]\nread-only = "warn"\n' + READ_ONLY_PROD)
    res = resolve(["--profile", "prod", "s3", "rm", "s3://b/k"], env, major=2, crt=True)
    findings, verdict = policy.judge(res, env, {"read-only": "block"}, settings=settings.load(env))
    assert rules_of(findings) == {"read-only": "block"} and verdict == "block"


def mixed_env(tmp_path: Path, policy_text: str = "", **extra: str) -> dict[str, str]:
    """Every default severity at once: env keys of account 0… win over AWS_PROFILE=dev, whose
    aws login session (account 9…) has expired."""
    env = write_home(tmp_path, LOGIN_PROFILE, login_expires_in=-60)
    path = tmp_path / "policy.toml"
    path.write_text(policy_text)
    return env | {
        "AWSGUARD_CONFIG": str(path),
        "AWS_PROFILE": "dev",
        "AWS_ACCESS_KEY_ID": encode_access_key_id(0),
        "AWS_SECRET_ACCESS_KEY": "s",
        **extra,
    }


DEFAULT_MIX = {
    "login-shadowed": "block",
    "account-mismatch": "block",
    "env-overrides-profile": "warn",
    "login-expired": "info",
}


@pytest.mark.parametrize(
    ("policy_text", "extra", "expected", "verdict"),
    [
        ("", {}, DEFAULT_MIX, "block"),
        ("", {"AWSGUARD_MODE": "warn"}, dict(DEFAULT_MIX, **{"login-shadowed": "warn", "account-mismatch": "warn"}), "warn"),
        ('mode = "warn"\n', {}, dict(DEFAULT_MIX, **{"login-shadowed": "warn", "account-mismatch": "warn"}), "warn"),
        ("", {"AWSGUARD_MODE": "strict"}, dict(DEFAULT_MIX, **{"env-overrides-profile": "block"}), "block"),
        ('mode = "strict"\n', {}, dict(DEFAULT_MIX, **{"env-overrides-profile": "block"}), "block"),
        ('mode = "strict"\n', {"AWSGUARD_MODE": "warn"}, dict(DEFAULT_MIX, **{"login-shadowed": "warn", "account-mismatch": "warn"}), "warn"),
    ],
)  # fmt: skip
def test_modes(tmp_path, policy_text, extra, expected, verdict):
    """warn caps every block at warn, strict raises every warn to block, info stays info; the
    mode changes severities, never which rules fire."""
    env = mixed_env(tmp_path, policy_text, **extra)
    findings, got = judge(["s3", "ls"], env)
    assert rules_of(findings) == expected and got == verdict


def test_warn_mode_caps_a_block_the_file_asks_for(tmp_path):
    env = mixed_env(tmp_path, 'mode = "warn"\n[rules]\nlogin-expired = "block"\n')
    findings, verdict = judge(["s3", "ls"], env)
    assert set(rules_of(findings).values()) == {"warn"} and verdict == "warn"


def test_strict_mode_revives_no_rule_and_leaves_info_alone(tmp_path):
    text = 'mode = "strict"\n[rules]\nlogin-shadowed = "off"\naccount-mismatch = "info"\n'
    findings, verdict = judge(["s3", "ls"], mixed_env(tmp_path, text))
    assert rules_of(findings) == {
        "account-mismatch": "info",
        "env-overrides-profile": "block",
        "login-expired": "info",
    }
    assert verdict == "block"


def test_expected_account_mismatch_in_warn_mode_is_a_warning(tmp_path):
    env = setup(tmp_path, pin("prod", ACCOUNT_B), AWSGUARD_MODE="warn")
    findings, verdict = judge(["--profile", "prod", "s3", "ls"], env)
    assert rules_of(findings) == {"expected-account": "warn"} and verdict == "warn"


# -- confirm -----------------------------------------------------------------------------------


def confirmation(args: list[str], env: dict[str, str]) -> bool:
    res = resolve(args, env, major=2, crt=True)
    return policy.needs_confirmation(res, settings.load(env))


@pytest.mark.parametrize("words", ["s3 rm s3://b/k", "ec2 run-instances", "ec2 frobnicate"])
def test_confirm_asks_before_a_mutating_operation(tmp_path, words):
    env = setup(tmp_path, "[profiles.prod]\nconfirm = true\n")
    assert confirmation(["--profile", "prod", *words.split()], env) is True
    # Controls: another profile; the same profile with confirm = false.
    assert confirmation(["--profile", "dev", *words.split()], env) is False
    env_off = setup(tmp_path / "off", "[profiles.prod]\nconfirm = false\n")
    assert confirmation(["--profile", "prod", *words.split()], env_off) is False


@pytest.mark.parametrize("words", ["s3 ls", "ec2 describe-instances", "dynamodb scan"])
def test_confirm_never_asks_before_a_read(tmp_path, words):
    env = setup(tmp_path, "[profiles.prod]\nconfirm = true\n")
    assert confirmation(["--profile", "prod", *words.split()], env) is False


def test_confirm_is_not_a_finding_and_needs_settings(tmp_path):
    env = setup(tmp_path, "[profiles.prod]\nconfirm = true\n")
    args = ["--profile", "prod", "s3", "rm", "s3://b/k"]
    assert judge(args, env) == ([], "allow")
    res = resolve(args, env, major=2, crt=True)
    assert policy.needs_confirmation(res, None) is False
