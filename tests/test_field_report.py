"""The field report this project started from (docs/credential-chain.md §0).

Profile ``test_user`` keeps the access keys of IAM user test_user_A (account 000000000000) in
~/.aws/credentials; `aws login` then recorded ``login_session`` for test_user_B (account
999999999999) in ``[profile test_user]`` of ~/.aws/config and cached a valid session. Every call
still ran as test_user_A; deleting the keys from the credentials file made the login take effect.

botocore must reproduce that (in-process oracle and the real `aws` v1 binary), and awsguard must
predict the same winner with the login session shown as shadowed.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import oracle
import pytest
from oracle import scenario

from awsguard.judge import policy
from awsguard.present import report

pytestmark = [pytest.mark.oracle, pytest.mark.usefixtures("no_external_network")]

ACCOUNT_A = "000000000000"
ACCOUNT_B = "999999999999"
LOGIN_ARN = f"arn:aws:iam::{ACCOUNT_B}:user/test_user_B"
B32_NEW_GENERATION = "QRSTUVWXYZ234567"


def encode_access_key_id(account: int, *, prefix: str = "AKIA", salt: int = 0x2A5F3C1D) -> str:
    """A new-generation access key id that decodes offline to ``account``
    (docs/hostile-inputs.md §6): 10 bytes, base32 A-Z2-7; the first 6 bytes hold
    ``(account << 7)`` with the top bit set to mark the new generation."""
    if not 0 <= account < 10**12:
        raise ValueError("an account id has 12 digits")
    head = (1 << 47) | (account << 7) | (salt & 0x7F)
    raw = head.to_bytes(6, "big") + (salt & 0xFFFFFFFF).to_bytes(4, "big")
    encoded = base64.b32encode(raw).decode()
    assert len(encoded) == 16 and "=" not in encoded
    return prefix + encoded


def decode_account(key_id: str) -> str | None:
    """The test's own decoder, used to check the encoder against the published example."""
    if key_id[4] not in B32_NEW_GENERATION:
        return None
    head = int.from_bytes(base64.b32decode(key_id[4:])[:6], "big")
    return f"{(head & 0x7FFFFFFFFF80) >> 7:012d}"


KEY_A = encode_access_key_id(int(ACCOUNT_A))


def blog_scenario(*, keys_in_credentials: bool = True, **kwargs: object) -> oracle.Scenario:
    credentials = (
        f"[test_user]\naws_access_key_id = {KEY_A}\naws_secret_access_key = secretOfTestUserA\n"
        if keys_in_credentials
        else "[test_user]\n"
    )
    config = f"[profile test_user]\nregion = ap-northeast-1\nlogin_session = {LOGIN_ARN}\n"
    token = oracle.login_token(ACCOUNT_B, access_key_id="ASIAQ2LOGINTESTUSERB")
    return scenario(
        config=config,
        credentials=credentials,
        files={oracle.login_cache_relpath(LOGIN_ARN): json.dumps(token, indent=2)},
        **kwargs,  # type: ignore[arg-type]
    )


INVOCATIONS = {
    "--profile": {"argv": ["sts", "get-caller-identity", "--profile", "test_user"]},
    "AWS_PROFILE": {"env": {"AWS_PROFILE": "test_user"}},
}


def test_key_id_encoder_matches_the_published_decoding() -> None:
    assert decode_account("ASIAY34FZKBOKMUTVV7A") == "609629065308"  # docs/hostile-inputs.md §6
    assert decode_account("AKIAIOSFODNN7EXAMPLE") is None  # old generation: no account
    assert KEY_A.startswith("AKIAQ") and len(KEY_A) == 20
    assert decode_account(KEY_A) == ACCOUNT_A
    assert decode_account(encode_access_key_id(int(ACCOUNT_B))) == ACCOUNT_B


def test_login_cache_is_shaped_like_aws_login_writes_it() -> None:
    token = oracle.login_token(ACCOUNT_B)
    assert set(token) == {
        "accessToken",
        "tokenType",
        "clientId",
        "refreshToken",
        "idToken",
        "dpopKey",
    }
    assert set(token["accessToken"]) == {
        "accessKeyId",
        "secretAccessKey",
        "sessionToken",
        "accountId",
        "expiresAt",
    }
    assert token["dpopKey"].startswith("-----BEGIN EC PRIVATE KEY-----")
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(token["dpopKey"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


@pytest.mark.parametrize("how", INVOCATIONS)
def test_botocore_runs_as_the_access_keys(how: str) -> None:
    scn = blog_scenario(**INVOCATIONS[how])
    with (
        oracle.materialize(scn) as m,
        oracle.botocore_resolution(m, major=2) as (outcome, credentials),
    ):
        assert outcome.key() == ("shared-credentials-file", None), outcome
        assert outcome.profile == "test_user"
        assert credentials.access_key == KEY_A
        assert decode_account(credentials.access_key) == ACCOUNT_A
    # The fix from the report: without the keys, the login session takes effect.
    fixed = blog_scenario(keys_in_credentials=False, **INVOCATIONS[how])
    with (
        oracle.materialize(fixed) as m,
        oracle.botocore_resolution(m, major=2) as (outcome, credentials),
    ):
        assert outcome.key() == ("login", None), outcome
        frozen = credentials.get_frozen_credentials()  # valid cache: no refresh, no network
        assert frozen.access_key == "ASIAQ2LOGINTESTUSERB"
        assert frozen.account_id == ACCOUNT_B


def test_real_aws_cli_reports_the_same_source() -> None:
    """`aws configure list` (v1 binary) prints credentials.method as the Type; static keys and a
    valid login cache need no network."""
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    for scn, method in (
        (blog_scenario(), "shared-credentials-file"),
        (blog_scenario(keys_in_credentials=False), "login"),
    ):
        with oracle.materialize(scn) as m:
            proc = subprocess.run(
                [aws, "configure", "list", "--profile", "test_user"],
                env=m.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        assert proc.returncode == 0, proc.stderr
        access_row = next(
            line for line in proc.stdout.splitlines() if line.split()[:1] == ["access_key"]
        )
        assert access_row.split()[2] == method, proc.stdout


@pytest.mark.parametrize("major", [1, 2])
@pytest.mark.parametrize("how", INVOCATIONS)
def test_awsguard_predicts_the_keys_and_shows_login_shadowed(how: str, major: int) -> None:
    scn = blog_scenario(**INVOCATIONS[how])
    assert oracle.botocore_outcome(scn, major=major).key() == ("shared-credentials-file", None)
    res = oracle.awsguard_resolution(scn, major=major)
    assert res.error is None, res.error
    assert res.source == "shared-credentials-file"
    assert res.profile == "test_user"
    assert res.profile_from == how
    steps = {step.provider: step.status for step in res.chain}
    assert steps.get("shared-credentials-file") == "matched", steps
    assert steps.get("login") == "shadowed", steps
    # The explain report (docs/ARCHITECTURE.md §5.1): both identities, the shadowed login, the verdict.
    findings, verdict = policy.judge(res, {})
    doc = report.to_json(res, findings, verdict, None)
    assert (doc["source"], doc["error"]) == ("shared-credentials-file", None)
    assert doc["identity"]["account"] == ACCOUNT_A
    assert doc["identity"]["account_from"] == "key-id"
    assert doc["session"]["kind"] == "login"
    assert doc["session"]["account"] == ACCOUNT_B
    assert doc["session"]["state"] == "valid"
    assert doc["shadowed"] == ["login"]
    rules = {f["rule"]: f["severity"] for f in doc["findings"]}
    assert rules.get("login-shadowed") == "block", rules
    assert rules.get("account-mismatch") == "block", rules
    assert doc["verdict"] == "block"


@pytest.mark.parametrize("major", [1, 2])
def test_awsguard_after_the_fix_predicts_login(major: int) -> None:
    fixed = blog_scenario(
        keys_in_credentials=False, argv=["sts", "get-caller-identity", "--profile", "test_user"]
    )
    assert oracle.botocore_outcome(fixed, major=major).key() == ("login", None)
    res = oracle.awsguard_resolution(fixed, major=major)
    assert (res.source, res.error) == ("login", None)
    steps = {step.provider: step.status for step in res.chain}
    assert steps.get("login") == "matched", steps
    assert steps.get("shared-credentials-file") != "matched", steps
    findings, verdict = policy.judge(res, {})
    doc = report.to_json(res, findings, verdict, None)
    assert doc["identity"]["account"] == ACCOUNT_B and doc["shadowed"] == []
    assert not {"login-shadowed", "account-mismatch"} & {f["rule"] for f in doc["findings"]}
    assert doc["verdict"] == "allow"
