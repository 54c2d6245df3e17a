"""`awsguard verify` against a real STS: moto's server on 127.0.0.1 (tests/stsd.py).

The field report's two users are real moto identities: test_user_A in 000000000000 (its keys
in ~/.aws/credentials) and test_user_B in 999999999999 (the `aws login` session of profile
``test_user``: the login cache holds B's real moto keys).  A role ``Deployer`` in 999999999999
is assumed from that profile.  GetCallerIdentity answers with whoever signed the request, so
every verdict below is about what actually happened on the wire:

- before the fix, the profile runs as A although it is logged in as B: ``wrong-identity``;
- after the fix (the key lines deleted from the credentials file): ``as-predicted``, as B;
- a deliberately wrong prediction (the test hook) gives ``prediction-wrong``;
- no network, a server that never answers, a missing login token: ``cannot-verify``.

Nothing leaves the loopback network: every endpoint is the local server (or a closed or silent
loopback port), IMDS is off.  No output may contain a secret or a full access key id.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import pty
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import stsd
from stsd import ACCOUNT_A, ACCOUNT_B, PROFILE, AccessKey, StsServer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_external_network")]

VENV_BIN = Path(sys.executable).parent
AWSGUARD = VENV_BIN / "awsguard"
SYSTEM_PATH = [Path("/usr/bin"), Path("/bin")]
HANG_GUARD = 300  # a guard against a hang, never a measurement
ROLE = "Deployer"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_B}:role/{ROLE}"
_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)

if not all(importlib.util.find_spec(n) for n in ("moto", "flask", "flask_cors", "awscrt")):
    if os.environ.get("CI") == "true":
        pytest.fail("moto[server] and awscrt are required under CI", pytrace=False)
    pytest.skip("moto[server] and awscrt are not installed", allow_module_level=True)


@dataclasses.dataclass
class Stack:
    server: StsServer
    key_a: AccessKey
    key_b: AccessKey
    guard: Path

    @property
    def secrets(self) -> list[str]:
        return [
            self.key_a.secret_access_key,
            self.key_b.secret_access_key,
            self.key_a.access_key_id,
            self.key_b.access_key_id,
            "stsd-login-session-token",
            "stsd-refresh-token",
        ]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="awsguard-verify-"))
    with StsServer() as server:
        key_a, key_b = server.field_report_users()
        server.call("iam", "CreateRole", ACCOUNT_B, RoleName=ROLE, AssumeRolePolicyDocument=_TRUST)
        yield Stack(server, key_a, key_b, stsd.write_network_guard(root / "guard"))
    shutil.rmtree(root, ignore_errors=True)


def ci_block(stack: Stack) -> str:
    """Profile `ci` in the credentials file: A's keys and nothing else."""
    return (
        f"[ci]\naws_access_key_id = {stack.key_a.access_key_id}\n"
        f"aws_secret_access_key = {stack.key_a.secret_access_key}\n"
    )


@pytest.fixture
def home(tmp_path: Path, stack: Stack) -> Path:
    """The field report, a role assumed from its profile, and `ci` with A's keys only."""
    stsd.write_field_report(tmp_path, stack.key_a, stack.key_b)
    config = tmp_path / ".aws" / "config"
    config.write_text(
        config.read_text()
        + f"[profile deploy]\nregion = {stsd.REGION}\nrole_arn = {ROLE_ARN}\n"
        + f"source_profile = {PROFILE}\n"
        + f"[profile ci]\nregion = {stsd.REGION}\n"
    )
    with (tmp_path / ".aws" / "credentials").open("a") as fh:
        fh.write(ci_block(stack))
    return tmp_path


def fix(home: Path, stack: Stack) -> None:
    """What `awsguard fix` does for the field report: the profile's key lines are deleted."""
    (home / ".aws" / "credentials").write_text(stsd.credentials_text(None) + ci_block(stack))


@dataclasses.dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, object]:
        doc = json.loads(self.out)
        assert isinstance(doc, dict)
        return doc


def verify(
    home: Path, stack: Stack, *args: str, endpoint: str | None = None, **extra: str
) -> Result:
    env = stsd.cli_environment(
        home,
        stack.server,
        path=[VENV_BIN, *SYSTEM_PATH],
        guard=stack.guard,
        extra={"AWSGUARD_AWS": str(VENV_BIN / "aws"), **extra},
    )
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    done = subprocess.run(
        [str(AWSGUARD), "verify", *args],
        env=env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    for secret in stack.secrets:
        assert secret not in done.stdout + done.stderr, f"…{secret[-4:]} was printed"
    assert "Traceback" not in done.stderr, done.stderr
    return Result(done.returncode, done.stdout, done.stderr)


# ---------------------------------------------------------------------------------------------
# The field report: wrong identity before the fix, as predicted after
# ---------------------------------------------------------------------------------------------


def test_wrong_identity_before_the_fix(home: Path, stack: Stack) -> None:
    got = verify(home, stack, "--profile", PROFILE)
    assert got.code == 1, got.out + got.err
    assert "WRONG IDENTITY" in got.out
    assert stack.key_a.arn in got.out  # what STS said
    assert stack.key_b.arn in got.out  # the logged-in session
    assert "fix: awsguard fix --profile test_user, or delete aws_access_key_id" in got.out
    doc = verify(home, stack, "--profile", PROFILE, "--json").json()
    assert doc["verdict"] == "wrong-identity" and doc["exit"] == 1
    assert doc["sts"] == {
        "account": ACCOUNT_A,
        "arn": stack.key_a.arn,
        "user_id": doc["sts"]["user_id"],  # type: ignore[index]
    }
    assert doc["prediction"]["source"] == "shared-credentials-file"  # type: ignore[index]
    assert doc["prediction"]["account"] == ACCOUNT_A  # type: ignore[index]
    assert doc["used"]["source"] == "shared-credentials-file"  # type: ignore[index]
    assert doc["session"]["account"] == ACCOUNT_B  # type: ignore[index]


def test_as_predicted_after_the_fix(home: Path, stack: Stack) -> None:
    fix(home, stack)
    got = verify(home, stack, "--profile", PROFILE)
    assert got.code == 0, got.out + got.err
    assert "AS PREDICTED" in got.out and stack.key_b.arn in got.out
    doc = verify(home, stack, "--profile", PROFILE, "--json").json()
    assert doc["verdict"] == "as-predicted"
    assert doc["sts"]["arn"] == stack.key_b.arn  # type: ignore[index]
    assert doc["used"]["source"] == "login"  # type: ignore[index]
    assert doc["prediction"]["account"] == ACCOUNT_B  # type: ignore[index]


def test_the_test_hook_makes_the_prediction_wrong(home: Path, stack: Stack) -> None:
    fix(home, stack)
    got = verify(home, stack, "--profile", PROFILE, AWSGUARD_TEST_PREDICTION_ACCOUNT="111111111111")
    assert got.code == 3, got.out + got.err
    assert "PREDICTION WRONG" in got.out and "awsguard bug" in got.out
    assert "predicted account 111111111111, STS says 999999999999" in got.out
    doc = verify(
        home, stack, "--profile", PROFILE, "--json", AWSGUARD_TEST_PREDICTION_ACCOUNT="111111111111"
    ).json()
    assert doc["verdict"] == "prediction-wrong" and doc["exit"] == 3
    bad = verify(home, stack, "--profile", PROFILE, AWSGUARD_TEST_PREDICTION_ACCOUNT="12")
    assert bad.code == 2 and "must be a 12-digit account id" in bad.err


def test_assumed_role_sourced_from_the_login(home: Path, stack: Stack) -> None:
    fix(home, stack)
    doc = verify(home, stack, "--profile", "deploy", "--json").json()
    assert doc["verdict"] == "as-predicted", doc
    assert doc["used"]["source"] == "assume-role"  # type: ignore[index]
    arn = doc["sts"]["arn"]  # type: ignore[index]
    assert isinstance(arn, str) and arn.startswith(f"arn:aws:sts::{ACCOUNT_B}:assumed-role/{ROLE}/")
    assert doc["prediction"]["principal"] == ROLE_ARN  # type: ignore[index]


def test_keys_only_profile(home: Path, stack: Stack) -> None:
    doc = verify(home, stack, "--profile", "ci", "--json").json()
    assert doc["verdict"] == "as-predicted" and doc["session"] is None
    assert doc["sts"]["arn"] == stack.key_a.arn  # type: ignore[index]


# ---------------------------------------------------------------------------------------------
# Exactly the credentials of the same invocation
# ---------------------------------------------------------------------------------------------


def test_environment_keys_win_without_profile_option(home: Path, stack: Stack) -> None:
    fix(home, stack)
    keys = {
        "AWS_PROFILE": PROFILE,
        "AWS_ACCESS_KEY_ID": stack.key_a.access_key_id,
        "AWS_SECRET_ACCESS_KEY": stack.key_a.secret_access_key,
    }
    via_env = verify(home, stack, "--json", **keys).json()
    assert via_env["profile_from"] == "AWS_PROFILE"
    assert via_env["used"]["source"] == "env"  # type: ignore[index]
    assert via_env["sts"]["account"] == ACCOUNT_A  # type: ignore[index]
    assert via_env["verdict"] == "wrong-identity"
    # Negative control: --profile takes the environment's keys out of the chain.
    explicit = verify(home, stack, "--profile", PROFILE, "--json", **keys).json()
    assert explicit["used"]["source"] == "login"  # type: ignore[index]
    assert explicit["verdict"] == "as-predicted"
    # The same through the aws arguments.
    args = verify(home, stack, "--json", "--", "s3", "ls", "--profile", PROFILE, **keys).json()
    assert args["used"]["source"] == "login"  # type: ignore[index]


@pytest.mark.parametrize(
    ("major", "profile", "account"), [("1", "ci", ACCOUNT_A), ("2", PROFILE, ACCOUNT_B)]
)
def test_profile_variables_in_the_order_of_the_cli_major(
    home: Path, stack: Stack, major: str, profile: str, account: str
) -> None:
    """v1 reads AWS_DEFAULT_PROFILE first, v2 AWS_PROFILE: botocore must pick the same."""
    fix(home, stack)
    doc = verify(
        home,
        stack,
        "--json",
        AWS_PROFILE=PROFILE,
        AWS_DEFAULT_PROFILE="ci",
        AWSGUARD_CLI_MAJOR=major,
    ).json()
    assert doc["profile"] == profile
    assert doc["sts"]["account"] == account  # type: ignore[index]
    assert doc["verdict"] == "as-predicted", doc["reasons"]


# ---------------------------------------------------------------------------------------------
# Endpoints, network failures, time limits
# ---------------------------------------------------------------------------------------------


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_no_network_cannot_verify(home: Path, stack: Stack) -> None:
    fix(home, stack)
    got = verify(home, stack, "--profile", PROFILE, "--json", endpoint=_closed_port())
    doc = got.json()
    assert got.code == 2 and doc["verdict"] == "cannot-verify"
    assert doc["error"]["class"] == "EndpointConnectionError"  # type: ignore[index]


def test_sts_endpoint_variable_and_option(home: Path, stack: Stack) -> None:
    fix(home, stack)
    closed = _closed_port()
    # AWS_ENDPOINT_URL_STS beats AWS_ENDPOINT_URL for the STS call (botocore's own rule).
    doc = verify(
        home,
        stack,
        "--profile",
        PROFILE,
        "--json",
        endpoint=closed,
        AWS_ENDPOINT_URL_STS=stack.server.endpoint,
    ).json()
    assert doc["verdict"] == "as-predicted", doc
    # verify's own --endpoint-url beats both.
    doc = verify(
        home,
        stack,
        "--profile",
        PROFILE,
        "--endpoint-url",
        stack.server.endpoint,
        "--json",
        endpoint=closed,
    ).json()
    assert doc["verdict"] == "as-predicted" and doc["endpoint"] == stack.server.endpoint
    # An --endpoint-url among the aws arguments belongs to that command's service, not STS.
    doc = verify(
        home, stack, "--json", "--", "s3", "ls", "--profile", PROFILE, "--endpoint-url", closed
    ).json()
    assert doc["verdict"] == "as-predicted" and doc["endpoint"] is None
    doc = verify(
        home,
        stack,
        "--json",
        "--",
        "sts",
        "get-caller-identity",
        "--profile",
        PROFILE,
        "--endpoint-url",
        closed,
    ).json()
    assert doc["verdict"] == "cannot-verify" and doc["endpoint"] == closed


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        sock.close()


def test_a_server_that_never_answers_is_a_bounded_wait(home: Path, stack: Stack) -> None:
    fix(home, stack)
    with silent_server() as url:
        got = verify(home, stack, "--profile", PROFILE, "--json", endpoint=url)
    doc = got.json()
    assert got.code == 2 and doc["verdict"] == "cannot-verify"
    assert doc["error"]["class"] == "ReadTimeoutError"  # type: ignore[index]


def test_missing_login_token_fails_as_predicted(home: Path, stack: Stack) -> None:
    fix(home, stack)
    stsd.login_cache_path(home, stack.key_b.arn).unlink()
    doc = verify(home, stack, "--profile", PROFILE, "--json").json()
    assert doc["verdict"] == "cannot-verify"
    assert doc["prediction"]["error"]["code"] == "LoginTokenLoadError"  # type: ignore[index]
    assert doc["error"]["class"] == "LoginTokenLoadError"  # type: ignore[index]
    assert any("as awsguard predicted" in r for r in doc["reasons"])  # type: ignore[union-attr]


def test_unknown_profile_and_malformed_files_never_traceback(home: Path, stack: Stack) -> None:
    got = verify(home, stack, "--profile", "nope")
    assert got.code == 2 and "ProfileNotFound" in got.out
    config = home / ".aws" / "config"
    config.write_text(f"[default]\nx = {stack.key_a.secret_access_key}\nx = 2\n")
    got = verify(home, stack, "--profile", PROFILE)
    assert got.code == 2 and "ConfigParseError" in got.out


# ---------------------------------------------------------------------------------------------
# --all
# ---------------------------------------------------------------------------------------------


def test_all_profiles_with_keys_or_login(home: Path, stack: Stack) -> None:
    got = verify(home, stack, "--all", "--json")
    assert got.code == 1, got.out + got.err  # the trap is there
    assert got.err == ""  # no progress bar without a terminal
    rows = {r["profile"]: r for r in json.loads(got.out)}
    assert set(rows) == {PROFILE, "ci"}  # deploy has neither keys nor a login session
    assert rows[PROFILE]["verdict"] == "wrong-identity"
    assert rows["ci"]["verdict"] == "as-predicted"
    fix(home, stack)
    after = verify(home, stack, "--all")
    assert after.code == 0, after.out
    assert "2 as-predicted" in after.out


def test_all_shows_progress_on_a_terminal(home: Path, stack: Stack) -> None:
    fix(home, stack)
    env = stsd.cli_environment(
        home,
        stack.server,
        path=[VENV_BIN, *SYSTEM_PATH],
        guard=stack.guard,
        extra={"AWSGUARD_AWS": str(VENV_BIN / "aws"), "TERM": "xterm"},
    )
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [str(AWSGUARD), "verify", "--all"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=HANG_GUARD,
            check=False,
        )
        os.close(slave)
        slave = -1
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    assert b"2/2 profiles" in seen, seen


# ---------------------------------------------------------------------------------------------
# boto3/botocore belong to verify alone
# ---------------------------------------------------------------------------------------------


def test_only_verify_imports_botocore() -> None:
    import ast

    package = Path(__file__).resolve().parents[1] / "awsguard"
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in ("boto3", "botocore") for n in names):
                importers.add(path.relative_to(package).as_posix())
    assert importers == {"commands/verify.py"}


def test_status_and_doctor_run_without_botocore(tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[profile a]\nregion = eu-west-1\n")
    code = (
        "import io, sys\n"
        "from awsguard.commands import doctor, status, verify\n"
        "env = {'HOME': sys.argv[1], 'PATH': '/usr/bin:/bin', 'AWSGUARD_CLI_MAJOR': '2'}\n"
        "status.run(as_json=False, problems_only=False, environ=env, out=io.StringIO())\n"
        "doctor.run(as_json=True, environ=env, out=io.StringIO())\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')]\n"
        "print('LOADED', bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=True,
    )
    assert "LOADED []" in done.stdout, done.stdout + done.stderr


def test_a_failing_credential_process_is_not_quoted(home: Path, stack: Stack) -> None:
    """botocore quotes a credential_process's stderr in its error; verify never shows it."""
    leak = "processSecretThatMustNotBePrinted000000"
    script = home / "creds.sh"
    script.write_text(f"#!/bin/sh\necho 'oops {leak}' >&2\nexit 1\n")
    script.chmod(0o755)
    with (home / ".aws" / "config").open("a") as fh:
        fh.write(f"[profile proc]\nregion = {stsd.REGION}\ncredential_process = {script}\n")
    got = verify(home, stack, "--profile", "proc", "--json")
    assert leak not in got.out + got.err
    doc = got.json()
    assert got.code == 2 and doc["verdict"] == "cannot-verify"
    assert doc["prediction"]["source"] == "custom-process"  # type: ignore[index]
    assert doc["error"]["class"] == "CredentialRetrievalError"  # type: ignore[index]
    # Negative control: the same process printing good credentials is used and verified.
    script.write_text(
        "#!/bin/sh\n"
        f'printf \'{{"Version": 1, "AccessKeyId": "{stack.key_a.access_key_id}", '
        f'"SecretAccessKey": "{stack.key_a.secret_access_key}"}}\'\n'
    )
    doc = verify(home, stack, "--profile", "proc", "--json").json()
    assert doc["verdict"] == "as-predicted", doc
    assert doc["sts"]["arn"] == stack.key_a.arn  # type: ignore[index]


@contextlib.contextmanager
def counting_proxy() -> Iterator[tuple[str, list[str]]]:
    """An HTTP proxy on loopback that forwards to the target and notes each request line."""
    import http.client
    import urllib.parse
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(f"{self.command} {self.path}")
            url = urllib.parse.urlsplit(self.path)
            assert url.hostname in ("127.0.0.1", "localhost")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
            conn.request("POST", url.path or "/", body=body, headers=headers)
            reply = conn.getresponse()
            data = reply.read()
            self.send_response(reply.status)
            for key, value in reply.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_proxies_and_region_are_respected(home: Path, stack: Stack) -> None:
    fix(home, stack)
    with counting_proxy() as (proxy, seen):
        doc = verify(
            home, stack, "--profile", PROFILE, "--region", "eu-west-1", "--json", HTTP_PROXY=proxy
        ).json()
    assert doc["verdict"] == "as-predicted", doc
    assert doc["region"] == "eu-west-1"
    assert any(stack.server.endpoint in line for line in seen), seen
    # Negative control: NO_PROXY for the endpoint's host sends it straight there.
    with counting_proxy() as (proxy, seen):
        doc = verify(
            home, stack, "--profile", PROFILE, "--json", HTTP_PROXY=proxy, NO_PROXY="127.0.0.1"
        ).json()
    assert doc["verdict"] == "as-predicted" and seen == []


def test_an_expired_login_cannot_be_verified_and_says_how_to_log_in(
    home: Path, stack: Stack
) -> None:
    fix(home, stack)
    cache = stsd.login_cache_path(home, stack.key_b.arn)
    cache.write_text(json.dumps(stsd.login_cache_document(stack.key_b, hours=-1)))
    got = verify(home, stack, "--profile", PROFILE)
    assert got.code == 2, got.out
    assert "the login credentials could not be fetched" in got.out
    assert "fix: aws login --profile test_user" in got.out
    doc = verify(home, stack, "--profile", PROFILE, "--json").json()
    assert doc["error"]["phase"] == "fetch"  # type: ignore[index]
    assert doc["session"]["state"] == "expired"  # type: ignore[index]
