"""The edge cases of docs/credential-chain.md §11, one test each.

Every test first makes botocore (tests/oracle.py) show the behaviour the reference documents — so a
wrong reference or a broken harness fails loudly, before awsguard is consulted — and then asserts
that awsguard predicts the same. Cases that involve the network or a prompt are tested as far as
possible offline (the network guard refuses everything but 127.0.0.1); their docstrings say what
is and is not covered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence

import oracle
import pytest
from oracle import HOME, Scenario, scenario

pytestmark = [pytest.mark.oracle, pytest.mark.usefixtures("no_external_network")]

KEYS = "aws_access_key_id = AKIAQ2EXAMPLEKEY0001\naws_secret_access_key = secret\n"
ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAQ2ENVIRONMENT001", "AWS_SECRET_ACCESS_KEY": "env-secret"}
PROCESS = oracle.process_command()
ARN = "arn:aws:iam::999999999999:user/test_user_B"
LOGIN_CACHE = {oracle.login_cache_relpath(ARN): json.dumps(oracle.login_token())}
SSO_LEGACY = (
    "sso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n"
    "sso_account_id = 123456789012\nsso_role_name = ReadOnly\n"
)


def argv(*profile_words: str) -> list[str]:
    return ["sts", "get-caller-identity", *profile_words]


def expect(
    scn: Scenario,
    source: str | None,
    error: str | None = None,
    *,
    majors: Sequence[int] = (1, 2),
    crt: bool = True,
    message: str | None = None,
    profile: str | None = None,
) -> None:
    """botocore must show (source, error) — the documented behaviour — for every major; then
    awsguard must predict the same."""
    for major in majors:
        got = oracle.botocore_outcome(scn, major=major, crt=crt)
        assert got.key() == (source, error), (
            f"botocore contradicts the reference for CLI v{major}: expected source={source!r} "
            f"error={error}, got {got}\n{scn.describe()}"
        )
        if message is not None:
            assert message in (got.message or ""), (
                f"botocore message {got.message!r} lacks {message!r}"
            )
        if profile is not None:
            assert got.profile == profile, f"botocore used profile {got.profile!r}, not {profile!r}"
    for major in majors:
        with oracle.materialize(scn) as m:
            predicted, _ = oracle.run_awsguard(m, major=major, crt=crt)
        assert predicted.key() == (source, error), (
            f"awsguard (CLI v{major}, crt={crt}) predicts {predicted}; botocore: "
            f"source={source!r} error={error}\n{scn.describe()}"
        )
        if profile is not None:
            assert predicted.profile == profile, (
                f"awsguard profile {predicted.profile!r} != {profile!r}"
            )


def chain_status(res: object, provider: str) -> str | None:
    for step in getattr(res, "chain", []):
        if step.provider == provider:
            return step.status
    return None


# ---------------------------------------------------------------------------------------------
# Profile selection
# ---------------------------------------------------------------------------------------------


def test_case_01_aws_profile_and_aws_default_profile_v1_v2() -> None:
    """v1 reads AWS_DEFAULT_PROFILE first, v2 AWS_PROFILE first."""
    scn = scenario(
        config=f"[profile a]\ncredential_process = {PROCESS}\n",
        credentials=f"[b]\n{KEYS}",
        env={"AWS_PROFILE": "a", "AWS_DEFAULT_PROFILE": "b"},
    )
    expect(scn, "shared-credentials-file", majors=[1], profile="b")
    expect(scn, "custom-process", majors=[2], profile="a")
    assert oracle.awsguard_resolution(scn, major=1).profile_from == "AWS_DEFAULT_PROFILE"
    assert oracle.awsguard_resolution(scn, major=2).profile_from == "AWS_PROFILE"


def test_case_02_missing_aws_profile_beats_environment_keys() -> None:
    scn = scenario(credentials=f"[default]\n{KEYS}", env={**ENV_KEYS, "AWS_PROFILE": "missing"})
    expect(scn, None, "ProfileNotFound", message="The config profile (missing) could not be found")
    # Control: the same keys win without the bad profile name.
    expect(scenario(credentials=f"[default]\n{KEYS}", env=ENV_KEYS), "env")


def test_case_03_empty_profile_values() -> None:
    """AWS_PROFILE="" names the profile "" (not found); --profile "" is ignored."""
    scn = scenario(credentials=f"[default]\n{KEYS}", env={"AWS_PROFILE": ""})
    expect(
        scn, None, "ProfileNotFound", message="The config profile () could not be found", profile=""
    )
    for words in (["--profile", ""], ["--profile="]):
        scn = scenario(credentials=f"[default]\n{KEYS}", env=ENV_KEYS, argv=argv(*words))
        expect(scn, "env", profile="default")
        assert oracle.awsguard_resolution(scn).profile_from == "implicit"


def test_case_04_explicit_default_must_exist() -> None:
    config = "[profile other]\nregion = us-east-1\n"
    expect(
        scenario(config=config, env=ENV_KEYS, argv=argv("--profile", "default")),
        None,
        "ProfileNotFound",
    )
    expect(
        scenario(config=config, env={**ENV_KEYS, "AWS_PROFILE": "default"}), None, "ProfileNotFound"
    )
    # Nothing named: a missing [default] is fine.
    expect(scenario(config=config, env=ENV_KEYS), "env", profile="default")
    expect(scenario(config=config), None, "NoCredentialsError", profile="default")


def test_case_05_profile_option_forms() -> None:
    files = {
        "config": f"[profile a]\ncredential_process = {PROCESS}\n",
        "credentials": f"[b]\n{KEYS}",
    }
    last_wins = scenario(
        **files, argv=["--profile", "a", "sts", "get-caller-identity", "--profile", "b"]
    )
    expect(last_wins, "shared-credentials-file", profile="b")
    assert oracle.awsguard_resolution(last_wins).profile_from == "--profile"
    after_dashdash = scenario(**files, argv=argv("--", "--profile", "b"))
    expect(after_dashdash, None, "NoCredentialsError", profile="default")
    expect(scenario(**files, argv=argv("--prof", "b")), "shared-credentials-file", profile="b")
    expect(scenario(**files, argv=argv("--profile=b")), "shared-credentials-file", profile="b")
    expect(scenario(**files, argv=["--p", "a", "sts", "get-caller-identity"]), "custom-process")


def test_case_06_section_names_that_are_not_profiles() -> None:
    bare = scenario(config=f"[x]\n{KEYS}", argv=argv("--profile", "x"))
    expect(bare, None, "ProfileNotFound")
    prefixed = f"[profile x]\n{KEYS}"
    expect(scenario(credentials=prefixed, argv=argv("--profile", "x")), None, "ProfileNotFound")
    expect(
        scenario(credentials=prefixed, argv=argv("--profile", "profile x")),
        "shared-credentials-file",
        profile="profile x",
    )


# ---------------------------------------------------------------------------------------------
# Chain order and the environment
# ---------------------------------------------------------------------------------------------

ROLE_CONFIG = (
    "[profile roleprof]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = src\n"
)


def test_case_07_environment_keys_and_role_profile() -> None:
    files = {"config": ROLE_CONFIG, "credentials": f"[src]\n{KEYS}"}
    expect(scenario(**files, env={**ENV_KEYS, "AWS_PROFILE": "roleprof"}), "env")
    expect(scenario(**files, env=ENV_KEYS, argv=argv("--profile", "roleprof")), "assume-role")


# The token file exists wherever the read timing is not the point (see
# test_extra_web_identity_token_file_read_timing).
TOKEN = {"token": "eyJ.web.token"}
WEB_ENV = {
    "AWS_WEB_IDENTITY_TOKEN_FILE": f"{HOME}/token",
    "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
}


def test_case_08_environment_web_identity_versus_profile_keys() -> None:
    files = {"credentials": f"[default]\n{KEYS}", "files": TOKEN}
    expect(scenario(**files, env=WEB_ENV), "assume-role-with-web-identity")
    expect(
        scenario(**files, env={**WEB_ENV, "AWS_PROFILE": "default"}),
        "assume-role-with-web-identity",
    )
    expect(
        scenario(**files, env=WEB_ENV, argv=argv("--profile", "default")), "shared-credentials-file"
    )


def test_case_09_empty_token_file_variable_disables_web_identity() -> None:
    config = (
        "[default]\nweb_identity_token_file = @HOME@/token\n"
        "role_arn = arn:aws:iam::123456789012:role/web\n"
    )
    scn = scenario(config=config, files=TOKEN, env={"AWS_WEB_IDENTITY_TOKEN_FILE": ""})
    expect(scn, None, "NoCredentialsError")
    expect(scenario(config=config, files=TOKEN), "assume-role-with-web-identity")  # control


def test_case_10_web_identity_role_arn_rules() -> None:
    scn = scenario(files=TOKEN, env={"AWS_WEB_IDENTITY_TOKEN_FILE": f"{HOME}/token"})
    expect(scn, None, "InvalidConfigError", message="no role ARN configured")
    both = (
        "[default]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = default\n"
        f"web_identity_token_file = {HOME}/token\n{KEYS}"
    )
    expect(scenario(config=both, files=TOKEN), "assume-role-with-web-identity")


def test_case_11_environment_web_identity_with_credential_source_environment() -> None:
    config = (
        "[default]\nrole_arn = arn:aws:iam::123456789012:role/r\ncredential_source = Environment\n"
    )
    scn = scenario(config=config, files=TOKEN, env=WEB_ENV)
    expect(
        scn, None, "CredentialRetrievalError", message="No credentials found in credential_source"
    )
    # Control: with keys in the environment the Environment source has something to give (and
    # --profile keeps the env provider itself out of the top-level chain).
    expect(
        scenario(
            config=config,
            files=TOKEN,
            env={**WEB_ENV, **ENV_KEYS},
            argv=argv("--profile", "default"),
        ),
        "assume-role",
    )


def test_case_12_environment_key_variants() -> None:
    no_secret = scenario(env={"AWS_ACCESS_KEY_ID": "AKIAQ2ENVIRONMENT001"})
    expect(no_secret, None, "PartialCredentialsError", message="AWS_SECRET_ACCESS_KEY")
    empty_key = scenario(
        credentials=f"[default]\n{KEYS}", env={**ENV_KEYS, "AWS_ACCESS_KEY_ID": ""}
    )
    expect(empty_key, "shared-credentials-file")
    both_tokens = scenario(
        env={**ENV_KEYS, "AWS_SESSION_TOKEN": "t-session", "AWS_SECURITY_TOKEN": "t-security"}
    )
    with (
        oracle.materialize(both_tokens) as m,
        oracle.botocore_resolution(m) as (outcome, credentials),
    ):
        assert outcome.source == "env"
        assert credentials.token == "t-security"
    expect(both_tokens, "env")


def test_case_13_credential_expiration_variable() -> None:
    """Past: resolution picks `env`; the error appears when the credentials are used (the CLI's
    signer refreshes them locally, no network). Unparseable: dateutil's ParserError at once."""
    past = scenario(env={**ENV_KEYS, "AWS_CREDENTIAL_EXPIRATION": "2001-02-03T04:05:06Z"})
    with oracle.materialize(past) as m, oracle.botocore_resolution(m) as (outcome, credentials):
        assert outcome.key() == ("env", None)
        with pytest.raises(RuntimeError, match="refreshed credentials are still expired"):
            credentials.get_frozen_credentials()
    expect(past, "env")
    garbage = scenario(env={**ENV_KEYS, "AWS_CREDENTIAL_EXPIRATION": "not a date"})
    expect(garbage, None, "ParserError")
    expect(scenario(env={**ENV_KEYS, "AWS_CREDENTIAL_EXPIRATION": oracle.future_iso()}), "env")


# ---------------------------------------------------------------------------------------------
# Precedence inside one profile
# ---------------------------------------------------------------------------------------------


def test_case_14_credential_process_and_static_keys() -> None:
    expect(scenario(config=f"[default]\ncredential_process = {PROCESS}\n{KEYS}"), "custom-process")
    expect(
        scenario(
            config=f"[default]\ncredential_process = {PROCESS}\n", credentials=f"[default]\n{KEYS}"
        ),
        "shared-credentials-file",
    )


LOGIN_COMBINATIONS = {
    "keys in credentials file": ("", f"[default]\n{KEYS}", "shared-credentials-file"),
    "keys in config file": (KEYS, None, "login"),
    "credential_process": (f"credential_process = {PROCESS}\n", None, "login"),
    "sso": (SSO_LEGACY, None, "sso"),
    "role_arn": (
        "role_arn = arn:aws:iam::123456789012:role/r\nsource_profile = src\n",
        None,
        "assume-role",
    ),
    "web identity": (
        "web_identity_token_file = @HOME@/token\nrole_arn = arn:aws:iam::123456789012:role/web\n",
        None,
        "assume-role-with-web-identity",
    ),
}


@pytest.mark.parametrize("combination", LOGIN_COMBINATIONS)
def test_case_15_login_session_with_other_styles(combination: str) -> None:
    extra, credentials, winner = LOGIN_COMBINATIONS[combination]
    config = (
        f"[default]\nlogin_session = {ARN}\n{extra}[profile src]\ncredential_process = {PROCESS}\n"
    )
    scn = scenario(config=config, credentials=credentials, files={**LOGIN_CACHE, **TOKEN})
    expect(scn, winner)
    if winner != "login":
        assert chain_status(oracle.awsguard_resolution(scn), "login") == "shadowed"


def test_case_16_sso_keys() -> None:
    expect(scenario(config=f"[default]\n{SSO_LEGACY}", credentials=f"[default]\n{KEYS}"), "sso")
    only_account = scenario(config="[default]\nsso_account_id = 123456789012\n")
    expect(
        only_account,
        None,
        "InvalidConfigError",
        message="missing required configuration: sso_role_name, sso_start_url, sso_region",
    )
    # sso_start_url alone does not trigger the provider.
    expect(scenario(config="[default]\nsso_start_url = https://x\n"), None, "NoCredentialsError")


# ---------------------------------------------------------------------------------------------
# Assume-role
# ---------------------------------------------------------------------------------------------

ROLE = "role_arn = arn:aws:iam::123456789012:role/r\n"


def test_case_17_role_without_source_and_self_reference() -> None:
    expect(
        scenario(config=f"[default]\n{ROLE}{KEYS}"),
        None,
        "PartialCredentialsError",
        message="source_profile or credential_source",
    )
    expect(scenario(config=f"[default]\n{ROLE}source_profile = default\n{KEYS}"), "assume-role")
    # Static keys in the credentials file count too (merged view).
    expect(
        scenario(
            config=f"[default]\n{ROLE}source_profile = default\n", credentials=f"[default]\n{KEYS}"
        ),
        "assume-role",
    )
    expect(
        scenario(config=f"[default]\n{ROLE}source_profile = default\n"),
        None,
        "InfiniteLoopConfigError",
    )


def _role_source_method(scn: Scenario) -> str:
    """The method of the credentials that would be handed to STS AssumeRole (no call is made)."""
    with oracle.materialize(scn) as m, oracle.botocore_resolution(m) as (outcome, credentials):
        assert outcome.source == "assume-role", outcome
        fetcher = credentials._refresh_using.__self__
        return fetcher._source_credentials.method


def test_case_18_source_profile_chains() -> None:
    top = f"[profile top]\n{ROLE}source_profile = s\n"
    run = argv("--profile", "top")
    expect(
        scenario(config=top + "[profile s]\nregion = us-east-1\n", argv=run),
        None,
        "InvalidConfigError",
        message="must have credentials",
    )
    expect(
        scenario(config=top, argv=run),
        None,
        "InvalidConfigError",
        message='"s" referenced in the profile "top" does not exist',
    )
    loop = f"{top}[profile s]\n{ROLE}source_profile = top\n"
    expect(scenario(config=loop, argv=run), None, "InfiniteLoopConfigError")
    for source_body, files in (
        (SSO_LEGACY, {}),
        (f"credential_process = {PROCESS}\n", {}),
        (f"login_session = {ARN}\n", LOGIN_CACHE),
    ):
        expect(
            scenario(config=f"{top}[profile s]\n{source_body}", files=files, argv=run),
            "assume-role",
        )
    # Source with role_arn AND static keys: the keys are used, the source's role is not assumed.
    both = scenario(
        config=f"{top}[profile s]\n{ROLE}source_profile = nowhere\n",
        credentials=f"[s]\n{KEYS}",
        argv=run,
    )
    expect(both, "assume-role")
    assert _role_source_method(both) == "shared-credentials-file"
    # Control: without the keys, s's own role is assumed first (multi-hop).
    hop = scenario(
        config=f"{top}[profile s]\n{ROLE}source_profile = k\n", credentials=f"[k]\n{KEYS}", argv=run
    )
    assert _role_source_method(hop) == "assume-role"
    # Environment keys never source a source_profile.
    expect(
        scenario(config=top + "[profile s]\nregion = us-east-1\n", env=ENV_KEYS, argv=run),
        None,
        "InvalidConfigError",
        message="must have credentials",
    )


def test_case_19_credential_source_names() -> None:
    config = "[default]\n" + ROLE + "credential_source = {}\n"
    explicit = argv("--profile", "default")  # keeps the env provider out of the top-level chain
    expect(
        scenario(config=config.format("environment"), env=ENV_KEYS, argv=explicit),
        None,
        "InvalidConfigError",
        message="is not valid",
    )
    expect(scenario(config=config.format("EcsContainer")), None, "CredentialRetrievalError")
    expect(
        scenario(config=config.format("Environment"), env=ENV_KEYS, argv=explicit), "assume-role"
    )  # control


# ---------------------------------------------------------------------------------------------
# SSO
# ---------------------------------------------------------------------------------------------

SSO_PROFILE = (
    "[default]\nsso_session = s\nsso_account_id = 123456789012\nsso_role_name = ReadOnly\n"
)
SSO_SESSION = (
    "[sso-session s]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n"
)


def test_case_20_sso_session_sections() -> None:
    expect(scenario(config=SSO_PROFILE + SSO_SESSION), "sso")  # control
    expect(
        scenario(config=SSO_PROFILE),
        None,
        "InvalidConfigError",
        message='sso-session does not exist: "s"',
    )
    expect(
        scenario(config=SSO_PROFILE, credentials=SSO_SESSION),
        None,
        "InvalidConfigError",
        message="sso-session does not exist",
    )
    conflict = SSO_PROFILE + "sso_region = eu-west-1\n" + SSO_SESSION
    expect(scenario(config=conflict), None, "InvalidConfigError", message="inconsistent")


def test_case_21_sso_role_credential_file_cache_v2_only() -> None:
    """Resolution picks `sso` in both majors (what awsguard predicts). At first use, v1 needs the
    token — absent here, so it fails locally — while v2's file cache (emulated by giving the SSO
    provider a JSONFileCache on ~/.aws/cli/cache, as v2's inject_json_file_cache does) answers
    without any token. No network is involved in either."""
    from botocore.credentials import JSONFileCache
    from botocore.exceptions import SSOTokenLoadError

    config = f"[default]\n{SSO_LEGACY}"
    key_doc = json.dumps(
        {
            "accountId": "123456789012",
            "roleName": "ReadOnly",
            "startUrl": "https://example.awsapps.com/start",
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    import hashlib

    cached = {
        "ProviderType": "sso",
        "Credentials": {
            "AccessKeyId": "ASIAQ2SSOFILECACHE01",
            "SecretAccessKey": "s",
            "SessionToken": "t",
            "Expiration": oracle.future_iso(),
        },
    }
    scn = scenario(
        config=config,
        files={
            f".aws/cli/cache/{hashlib.sha1(key_doc.encode()).hexdigest()}.json": json.dumps(cached)
        },
    )
    with oracle.materialize(scn) as m:
        with oracle.botocore_resolution(m, major=1) as (outcome, credentials):
            assert outcome.source == "sso"
            with pytest.raises(SSOTokenLoadError, match="does not exist"):
                credentials.get_frozen_credentials()

        def v2_file_cache(session: object) -> None:
            resolver = session.get_component("credential_provider")  # type: ignore[attr-defined]
            resolver.get_provider("sso").cache = JSONFileCache(
                os.path.join(m.home, ".aws", "cli", "cache")
            )

        with oracle.botocore_resolution(m, major=2, prepare=v2_file_cache) as (
            outcome,
            credentials,
        ):
            assert outcome.source == "sso"
            assert credentials.get_frozen_credentials().access_key == "ASIAQ2SSOFILECACHE01"
    expect(scn, "sso")


# ---------------------------------------------------------------------------------------------
# Login
# ---------------------------------------------------------------------------------------------

LOGIN_CONFIG = f"[default]\nlogin_session = {ARN}\n"


def test_case_22_login_cache_states() -> None:
    expect(scenario(config=LOGIN_CONFIG, files=LOGIN_CACHE), "login")  # control
    expect(
        scenario(config=LOGIN_CONFIG),
        None,
        "LoginTokenLoadError",
        message="Unable to load a existing login session",
    )
    missing_field = {
        oracle.login_cache_relpath(ARN): json.dumps(oracle.login_token(drop=["clientId"]))
    }
    expect(
        scenario(config=LOGIN_CONFIG, files=missing_field),
        None,
        "LoginTokenLoadError",
        message="clientId",
    )
    invalid = {oracle.login_cache_relpath(ARN): "{not json"}
    expect(scenario(config=LOGIN_CONFIG, files=invalid), None, "KeyError")
    # JSON null loads as None, which botocore treats like a missing file.
    null = {oracle.login_cache_relpath(ARN): "null"}
    expect(
        scenario(config=LOGIN_CONFIG, files=null),
        None,
        "LoginTokenLoadError",
        message="Unable to load",
    )
    no_sub = {
        oracle.login_cache_relpath(ARN): json.dumps(oracle.login_token(drop_access=["accountId"]))
    }
    expect(scenario(config=LOGIN_CONFIG, files=no_sub), None, "KeyError")
    # An unparseable expiresAt: dateutil's ParserError (a ValueError), unwrapped.
    bad_date = {oracle.login_cache_relpath(ARN): json.dumps(oracle.login_token(expires_at="soon"))}
    expect(scenario(config=LOGIN_CONFIG, files=bad_date), None, "ParserError")
    moved = {oracle.login_cache_relpath(ARN, "elsewhere/cache"): json.dumps(oracle.login_token())}
    expect(
        scenario(
            config=LOGIN_CONFIG, files=moved, env={"AWS_LOGIN_CACHE_DIRECTORY": "~/elsewhere/cache"}
        ),
        "login",
    )
    expect(scenario(config=LOGIN_CONFIG, files=moved), None, "LoginTokenLoadError")  # control
    expect(scenario(credentials=LOGIN_CONFIG, files=LOGIN_CACHE), "login")


def test_case_23_login_without_awscrt() -> None:
    """CLI v1 whose botocore lacks awscrt: MissingDependencyException once the chain reaches the
    login provider — and only then."""
    scn = scenario(config=LOGIN_CONFIG, files=LOGIN_CACHE)
    expect(scn, None, "MissingDependencyException", majors=[1], crt=False, message="botocore[crt]")
    expect(scn, "login", majors=[1], crt=True)
    earlier = scenario(config=LOGIN_CONFIG, credentials=f"[default]\n{KEYS}", files=LOGIN_CACHE)
    expect(earlier, "shared-credentials-file", majors=[1], crt=False)
    missing_cache = scenario(config=LOGIN_CONFIG)
    expect(missing_cache, None, "MissingDependencyException", majors=[1], crt=False)


def _caused_by_network_guard(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, oracle.NetworkRefused) or "test network guard" in str(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


@pytest.mark.parametrize("minutes_left", [30, 10, 3, -60])
def test_case_24_login_expiry_windows(minutes_left: int) -> None:
    """Selection never checks expiry. At first use: >15 min uses the cache; 5-15 min re-reads
    the file and still uses it; <5 min (or expired) refreshes through the signin service — here
    the network guard refuses that call, which proves it was attempted. Without a region the
    refresh fails with NoRegionError before any network use. The refresh itself is not tested."""
    import datetime

    expires = oracle._iso(
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=minutes_left)
    )
    cache = {oracle.login_cache_relpath(ARN): json.dumps(oracle.login_token(expires_at=expires))}
    for region in ("", "region = us-east-1\n"):
        scn = scenario(config=LOGIN_CONFIG + region, files=cache)
        with oracle.materialize(scn) as m, oracle.botocore_resolution(m) as (outcome, credentials):
            assert outcome.key() == ("login", None)
            if minutes_left > 5:
                assert credentials.get_frozen_credentials().access_key == "ASIAQ2LOGINSESSION01"
            elif not region:
                from botocore.exceptions import NoRegionError

                with pytest.raises(NoRegionError):
                    credentials.get_frozen_credentials()
            else:
                with pytest.raises(Exception) as info:
                    credentials.get_frozen_credentials()
                assert "signin.aws.amazon.com" in str(info.value), info.value
                assert _caused_by_network_guard(info.value), repr(info.value)
        expect(scn, "login")


# ---------------------------------------------------------------------------------------------
# Legacy providers, container and IMDS
# ---------------------------------------------------------------------------------------------

BOTO = "[Credentials]\naws_access_key_id = AKIAQ2BOTO0000000001\naws_secret_access_key = b\n"


def test_case_25_legacy_files() -> None:
    """/etc/boto.cfg cannot be written by a test; its position before ~/.boto is checked on
    botocore's class attribute only."""
    from botocore.credentials import BotoProvider

    expect(scenario(env={"AWS_CREDENTIAL_FILE": f"{HOME}/missing"}), None, "ConfigNotFound")
    ec2 = {"ec2": "AWSAccessKeyId=AKIAQ2EC2FILE0000001\nAWSSecretKey=s\n"}
    expect(scenario(files=ec2, env={"AWS_CREDENTIAL_FILE": "~/ec2"}), "ec2-credentials-file")
    expect(scenario(files={".boto": BOTO}), "boto-config")  # control
    expect(
        scenario(files={".boto": BOTO}, env={"BOTO_CONFIG": f"{HOME}/missing"}),
        None,
        "NoCredentialsError",
    )
    assert BotoProvider.DEFAULT_CONFIG_FILENAMES == ["/etc/boto.cfg", "~/.boto"]


def test_case_26_container_endpoint() -> None:
    """An empty RELATIVE_URI still selects the container provider; its eager fetch goes to the
    link-local address, which the oracle re-points at the loopback stub."""
    server = oracle.loopback_server()
    before = len(server.requests)
    expect(scenario(env={"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": ""}), "container-role")
    assert len(server.requests) > before  # the fetch really happened (twice: v1 and v2)
    expect(
        scenario(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://@LOOPBACK@/creds"}),
        "container-role",
    )
    bad = scenario(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://10.0.0.1/creds"})
    expect(bad, None, "ValueError", message="Unsupported host '10.0.0.1'")
    expect(scenario(env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": ""}), None, "ValueError")
    profile_wins = scenario(
        credentials=f"[default]\n{KEYS}",
        env={"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://10.0.0.1/x"},
    )
    expect(profile_wins, "shared-credentials-file")
    missing_token_file = scenario(
        env={
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://@LOOPBACK@/creds",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": f"{HOME}/no-such-token",
        }
    )
    expect(missing_token_file, None, "FileNotFoundError")


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        ("true", False),
        ("TRUE", False),
        ("True", False),
        ("1", True),
        ("yes", True),
        ("false", True),
        (None, True),
    ],
)
def test_case_27_imds_disabled_values(value: str | None, enabled: bool) -> None:
    server = oracle.loopback_server()
    before = sum(1 for r in server.requests if r[1].startswith("/latest/"))
    scn = scenario(env={"AWS_EC2_METADATA_DISABLED": value})
    expect(scn, "iam-role" if enabled else None, None if enabled else "NoCredentialsError")
    after = sum(1 for r in server.requests if r[1].startswith("/latest/"))
    assert (after > before) == enabled


# ---------------------------------------------------------------------------------------------
# File parsing
# ---------------------------------------------------------------------------------------------


def test_case_28_ini_parser_rules() -> None:
    role = "[default]\n" + ROLE
    explicit = argv("--profile", "default")
    commented = scenario(
        config=role + "credential_source = Environment # note\n", env=ENV_KEYS, argv=explicit
    )
    expect(commented, None, "InvalidConfigError", message='"Environment # note"')
    expect(
        scenario(config=role + "credential_source = Environment\n", env=ENV_KEYS, argv=explicit),
        "assume-role",
    )
    upper = "[default]\nAWS_ACCESS_KEY_ID = A\nAws_Secret_Access_Key = s\n"
    expect(scenario(credentials=upper), "shared-credentials-file")
    expect(
        scenario(credentials="[default]\naws_access_key_id: A\naws_secret_access_key: s\n"),
        "shared-credentials-file",
    )
    inherited = f"[DEFAULT]\n{KEYS}[dev]\nregion = us-east-1\n"
    expect(
        scenario(credentials=inherited, argv=argv("--profile", "dev")), "shared-credentials-file"
    )
    expect(
        scenario(credentials=f"[DEFAULT]\n{KEYS}"), None, "NoCredentialsError"
    )  # no profiles at all
    indented = "[default]\naws_access_key_id = A\n  aws_secret_access_key = s\n"
    expect(scenario(credentials=indented), None, "PartialCredentialsError")
    after_blank = "[default]\naws_access_key_id = A\n\n   aws_secret_access_key = s\n"
    expect(scenario(credentials=after_blank), None, "PartialCredentialsError")
    for broken in (
        f"[default]\n{KEYS}[default]\nregion = x\n",
        f"[default]\n{KEYS}aws_access_key_id = B\n",
        b"\xef\xbb\xbf[default]\n" + KEYS.encode(),
        b"[default]\n" + KEYS.encode() + b"# caf\xe9\n",
        f"region = x\n[default]\n{KEYS}",
        f"[default]\n{KEYS}just-a-word\n",
    ):
        expect(scenario(credentials=broken), None, "ConfigParseError")
    later_wins = f"[default]\ncredential_process = {PROCESS}\n[profile default]\n{KEYS}"
    expect(scenario(config=later_wins), "config-file")
    expect(
        scenario(config=f"[profile default]\n{KEYS}[default]\ncredential_process = {PROCESS}\n"),
        "custom-process",
    )


def test_case_29_same_key_in_both_files() -> None:
    config_cmd = oracle.process_command(access_key_id="ASIAFROMCONFIGFILE01")
    creds_cmd = oracle.process_command(access_key_id="ASIAFROMCREDSFILE001")
    scn = scenario(
        config=f"[default]\ncredential_process = {config_cmd}\n",
        credentials=f"[default]\ncredential_process = {creds_cmd}\n",
    )
    with oracle.materialize(scn) as m, oracle.botocore_resolution(m) as (outcome, credentials):
        assert outcome.source == "custom-process"
        assert credentials.access_key == "ASIAFROMCREDSFILE001"
    expect(scn, "custom-process")
    merged_role = scenario(
        config=f"[default]\n{ROLE}source_profile = nowhere\n",
        credentials="[default]\nsource_profile = src\n" + f"[src]\n{KEYS}",
    )
    expect(merged_role, "assume-role")
    expect(
        scenario(config=f"[default]\n{KEYS}", credentials=f"[default]\n{KEYS}"),
        "shared-credentials-file",
    )


@pytest.mark.parametrize(
    ("value", "where", "winner"),
    [
        ("", ".aws/config", None),
        (f"{HOME}/cfgdir", ".aws/config", None),
        ("$HOME/alt", "alt", "custom-process"),
        ("${HOME}/alt", "alt", "custom-process"),
        ("~/alt", "alt", "custom-process"),
        (f"{HOME}/alt", "alt", "custom-process"),
        ("$NO_SUCH_VAR/alt", "alt", None),
    ],
)
def test_case_30_aws_config_file_values(value: str, where: str, winner: str | None) -> None:
    scn = scenario(
        files={where: f"[default]\ncredential_process = {PROCESS}\n"},
        dirs=["cfgdir"],
        env={"AWS_CONFIG_FILE": value},
    )
    expect(scn, winner, None if winner else "NoCredentialsError")


def test_case_31_malformed_file_with_version() -> None:
    """The real v1 `aws --version` with a malformed config: uncaught traceback, exit 1 (v2 would
    print the error and exit 255; no v2 CLI is available here). awsguard is not consulted for
    --version (never judged); for a service command it must report ConfigParseError."""
    scn = scenario(config="[default]\nregion = x\nregion = y\n")
    with oracle.materialize(scn) as m:
        aws = os.path.join(os.path.dirname(sys.executable), "aws")
        proc = subprocess.run(
            [aws, "--version"], env=m.env, capture_output=True, text=True, timeout=60, check=False
        )
    assert proc.returncode == 1, proc
    assert "Traceback" in proc.stderr and "ConfigParseError" in proc.stderr
    expect(scn, None, "ConfigParseError")


def test_case_32_no_sign_request() -> None:
    broken = scenario(
        config=f"[default]\n{ROLE}", argv=["--no-sign-request", "sts", "get-caller-identity"]
    )
    expect(broken, None, None)
    expect(scenario(config=f"[default]\n{ROLE}"), None, "PartialCredentialsError")  # control
    missing = scenario(
        argv=["--no-sign-request", "--profile", "nope", "sts", "get-caller-identity"]
    )
    expect(missing, None, "ProfileNotFound")


def test_case_33_unsigned_operation_without_credentials() -> None:
    """botocore: the unsigned STS operation is sent without credentials (the loopback stub
    answers with an error, a ClientError — not NoCredentialsError), while a signed one raises
    NoCredentialsError before sending. awsguard's contract has no per-operation signing model,
    so it is asked only the part that does not depend on one: a chain error still aborts."""
    from botocore.exceptions import ClientError, NoCredentialsError

    scn = scenario()
    with oracle.materialize(scn) as m, oracle.botocore_world(m):
        session = oracle.new_session(1)
        client = session.create_client(
            "sts",
            region_name="us-east-1",
            endpoint_url=f"http://{oracle.loopback_server().hostport}/",
        )
        assert client._request_signer._credentials is None
        server = oracle.loopback_server()
        with pytest.raises(ClientError, match="StubRefused"):
            client.assume_role_with_web_identity(
                RoleArn="arn:aws:iam::123456789012:role/web",
                RoleSessionName="session",
                WebIdentityToken="web-identity-token",
            )
        method, _path, headers = server.requests[-1]
        assert method == "POST" and "Authorization" not in headers  # sent unsigned
        with pytest.raises(NoCredentialsError):
            client.get_caller_identity()
    # A chain error still aborts the unsigned command, because client creation runs the chain.
    unsigned_argv = [
        "sts",
        "assume-role-with-web-identity",
        "--role-arn",
        "arn:aws:iam::123456789012:role/web",
        "--role-session-name",
        "session",
        "--web-identity-token",
        "web-identity-token",
    ]
    expect(
        scenario(config=f"[default]\n{ROLE}", argv=unsigned_argv), None, "PartialCredentialsError"
    )


# ---------------------------------------------------------------------------------------------
# Found by the differential, not in docs/credential-chain.md §11
# ---------------------------------------------------------------------------------------------

GONE = "[default]\nsso_session = gone\n"
PARTIAL_SESSION = "[default]\nsso_session = s\n[sso-session s]\nsso_region = us-east-1\n"


def test_extra_sso_session_is_validated_on_every_client() -> None:
    """Every client creation also loads the SSO *token* provider (``Session.get_auth_token`` in
    ``Session.create_client``, botocore/tokens.py ``SSOTokenProvider._load_sso_config``). When
    the profile names an ``sso_session`` whose section is missing, or lacks ``sso_start_url`` or
    ``sso_region``, that raises InvalidConfigError *after* the credential chain — whatever won,
    when nothing was found, and with --no-sign-request too. A credential-chain error still comes
    first. The real v1 `aws` binary agrees (its request goes to a loopback stub); CLI v2 is not
    available here."""
    expect(
        scenario(config=GONE, env=ENV_KEYS),
        None,
        "InvalidConfigError",
        message='"gone" sso_session',
    )
    expect(
        scenario(config=PARTIAL_SESSION, credentials=f"[default]\n{KEYS}"),
        None,
        "InvalidConfigError",
        message="['sso_start_url']",
    )
    complete = PARTIAL_SESSION + "sso_start_url = https://x.awsapps.com/start\n"
    expect(scenario(config=complete, credentials=f"[default]\n{KEYS}"), "shared-credentials-file")
    expect(scenario(config=GONE), None, "InvalidConfigError")  # instead of NoCredentialsError
    unsigned = ["--no-sign-request", "sts", "get-caller-identity"]
    expect(scenario(config=GONE, argv=unsigned), None, "InvalidConfigError")
    expect(scenario(config=GONE, env={"AWS_ACCESS_KEY_ID": "A"}), None, "PartialCredentialsError")

    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    server = oracle.loopback_server()
    for config, reaches_service in ((GONE, False), (complete, True)):
        scn = scenario(config=config, env=ENV_KEYS)
        posts = sum(1 for r in server.requests if r[0] == "POST")
        with oracle.materialize(scn) as m:
            proc = subprocess.run(
                [aws, "sts", "get-caller-identity", "--region", "us-east-1",
                 "--endpoint-url", f"http://{server.hostport}/"],
                env=m.env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )  # fmt: skip
        assert proc.returncode == 255, proc
        if reaches_service:
            assert "StubRefused" in proc.stderr, proc.stderr
        else:
            assert 'the "gone" sso_session configuration does not exist' in proc.stderr, proc.stderr
        assert (sum(1 for r in server.requests if r[0] == "POST") > posts) == reaches_service


def test_extra_web_identity_token_file_read_timing() -> None:
    """The two botocores installed here disagree on *when* the web-identity token file is read.
    PyPI botocore (1.44) reads it at first use (docs/credential-chain.md §1 row 3; §13.3). The copy that
    awscli 1.46 vendors — what the real `aws` v1 runs — puts the token into the role-credential
    cache key (``AssumeRoleWithWebIdentityCredentialFetcher._cache_key_args``), so it reads the
    file while the chain is resolved: a missing file is a bare FileNotFoundError before any
    request, even for an unsigned operation. The in-process oracle follows
    AWSGUARD_ORACLE_BOTOCORE (default: PyPI) and awsguard must agree with it."""
    config = "[default]\nweb_identity_token_file = @HOME@/missing-token\n" + ROLE
    scn = scenario(config=config)
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    server = oracle.loopback_server()
    unsigned = [
        *("sts", "assume-role-with-web-identity", "--role-arn", "arn:aws:iam::1:role/x"),
        *("--role-session-name", "s1", "--web-identity-token", "token-token"),
        *("--region", "us-east-1", "--endpoint-url", f"http://{server.hostport}/"),
    ]
    posts = sum(1 for r in server.requests if r[0] == "POST")
    with oracle.materialize(scn) as m:
        proc = subprocess.run(
            [aws, *unsigned], env=m.env, capture_output=True, text=True, timeout=60, check=False
        )
    assert proc.returncode == 255 and "No such file or directory" in proc.stderr, proc
    assert sum(1 for r in server.requests if r[0] == "POST") == posts  # never sent
    if oracle.botocore_flavour() == "cli":
        expect(scn, None, "FileNotFoundError")
    else:
        expect(scn, "assume-role-with-web-identity")
    # With the file present, both agree.
    expect(
        scenario(config=config, files={"missing-token": "eyJ.token"}),
        "assume-role-with-web-identity",
    )


def test_extra_empty_s3_setting_breaks_every_client() -> None:
    """An empty ``s3 =`` (no nested block) reaches ``Config(s3='')`` and fails its validation
    after the chain (found by test_real_cli.py against the real `aws`); with an s3 override
    set it fails on item assignment instead. A non-empty plain value is ignored."""
    keys = "[default]\naws_access_key_id = AKIAQ2EXAMPLEKEY0001\naws_secret_access_key = s\n"
    expect(scenario(config="[default]\ns3 =\n", credentials=keys), None, "AttributeError")
    expect(
        scenario(
            config="[default]\ns3 =\n", credentials=keys, env={"AWS_S3_USE_ARN_REGION": "true"}
        ),
        None,
        "TypeError",
    )
    expect(scenario(config="[default]\ns3 = path\n", credentials=keys), "shared-credentials-file")


@pytest.mark.parametrize("where", ["program", "argument"])
def test_extra_credential_process_with_a_nul_byte(where: str) -> None:
    """A NUL byte anywhere in the command: ``subprocess.Popen`` raises ValueError before it
    starts anything (awsguard used to crash on it in the program's name, and to predict success
    for one in an argument). Control: the same command without it runs."""
    words = PROCESS.split(" ", 1)
    command = (
        f"{words[0][:-1]}\x00{words[0][-1]} {words[1]}"
        if where == "program"
        else f"{words[0]} \x00{words[1]}"
    )
    expect(scenario(config=f"[default]\ncredential_process = {command}\n"), None, "ValueError")
    expect(scenario(config=f"[default]\ncredential_process = {PROCESS}\n"), "custom-process")


def test_extra_role_source_steps_say_where_they_matched() -> None:
    """The role's source profile has keys (credentials file, line 2) and a login session: the
    source step that matched carries that origin, so the login-shadowed fix names the file and
    the section instead of a generic "remove the other settings"."""
    scn = scenario(
        config=f"[default]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = src\n"
        f"[profile src]\nlogin_session = {ARN}\n",
        credentials=f"[src]\n{KEYS}",
        files=LOGIN_CACHE,
    )
    expect(scn, "assume-role")
    with oracle.materialize(scn) as m:
        from awsguard.judge import policy
        from awsguard.predict.resolver import resolve

        res = resolve(list(m.argv), dict(m.env), major=2, crt=True)
        matched = [s for s in res.source_steps if s.status == "matched"]
        assert [(s.provider, s.origin) for s in matched] == [
            ("shared-credentials-file", f"{m.home}/.aws/credentials:2")
        ]
        findings, _ = policy.judge(res, m.env)
    fixes = [f.fix for f in findings if f.rule == "login-shadowed"]
    assert len(fixes) == 1 and "[src]" in fixes[0] and ".aws/credentials" in fixes[0], fixes
