"""A local STS and IAM on 127.0.0.1 for the end-to-end tests and `make demo`: moto's server.

The field report (docs/credential-chain.md §0) needs two real identities: IAM user
``test_user_A`` in account 000000000000, whose keys sit in ~/.aws/credentials, and
``test_user_B`` in account 999999999999, the identity `aws login` signed in as. Here they are
real moto users with real moto access keys, so ``aws sts get-caller-identity`` answers with the
identity that actually signed the request:

- moto takes the account of a *creating* request from the ``x-moto-account-id`` header
  (moto/core/responses.py ``get_current_account``, priority 2 after ``MOTO_ACCOUNT_ID``, which the
  server's environment never carries);
- an access key created in an account encodes that account the way AWS does (moto/iam/utils.py
  ``generate_access_key_id_from_account_id``), and a request signed with it is served in that
  account (``get_account_id_from``, priority 3); ``GetCallerIdentity`` then returns the key's
  user ARN and account (moto/sts/models.py ``get_caller_identity``).

The server runs in a child interpreter (moto registers botocore hooks on import; the test
process's own botocore, the oracle, must stay untouched), bound to 127.0.0.1 on a port the kernel
picks; it reports ``READY <host> <port>`` on stdout and exits when its stdin closes, so it never
outlives its owner. Requests to it are raw HTTP from the standard library: no boto3 session that
could read the real ~/.aws.

Also here, shared by tests/test_shim_e2e.py and tests/demo/demo.py (which loads this file by
path): the ``aws login`` cache document, a ``sitecustomize`` that refuses every non-loopback
connection inside the real `aws`, and the environment the real `aws` runs in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import ipaddress
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import textwrap
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path

import logincache  # tests/: the one writer of login caches

ACCOUNT_A = "000000000000"
ACCOUNT_B = "999999999999"
USER_A = "test_user_A"
USER_B = "test_user_B"
PROFILE = "test_user"
REGION = "ap-northeast-1"

# How long the server may take to say READY before it is treated as broken (a hang guard, not a
# timing assertion).
_START_TIMEOUT = 300.0
_REQUEST_TIMEOUT = 30.0

_SERVER = textwrap.dedent(
    """\
    import ipaddress, sys
    from moto.server import ThreadedMotoServer

    host = sys.argv[1]
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit("stsd: refusing to bind the non-loopback address " + host)
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    bound, port = server.get_host_and_port()
    if not ipaddress.ip_address(bound).is_loopback:
        server.stop()
        sys.exit("stsd: bound a non-loopback address " + bound)
    print("READY", bound, port, flush=True)
    sys.stdin.read()  # until the owner closes the pipe (or dies)
    server.stop()
    """
)


@dataclasses.dataclass(frozen=True)
class AccessKey:
    """An IAM user's access key as moto created it."""

    user: str
    account: str
    arn: str
    access_key_id: str
    secret_access_key: str = dataclasses.field(repr=False)

    @property
    def masked(self) -> str:
        """The key id as awsguard shows it (docs/ARCHITECTURE.md §8): never a secret, never the whole id."""
        return f"{self.access_key_id[:4]}…{self.access_key_id[-4:]}"


class StsServer:
    """moto's server on 127.0.0.1, in a child interpreter. Use as a context manager."""

    def __init__(self, python: str = sys.executable) -> None:
        self._python = python
        self._proc: subprocess.Popen[str] | None = None
        self._workdir = Path(tempfile.mkdtemp(prefix="awsguard-stsd-"))
        self.host = ""
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log(self) -> Path:
        """The server's stderr (werkzeug's request log), for failure reports."""
        return self._workdir / "server.log"

    def start(self) -> StsServer:
        # A minimal environment: nothing of the caller's AWS_* / MOTO_* settings (MOTO_ACCOUNT_ID
        # would override the per-request account), HOME inside the server's own directory.
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self._workdir),
            "LANG": "C.UTF-8",
        }
        with open(self.log, "w") as log:
            self._proc = subprocess.Popen(
                [self._python, "-c", _SERVER, "127.0.0.1"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=self._workdir,
                text=True,
            )
        assert self._proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            ready = sel.select(_START_TIMEOUT)
        line = self._proc.stdout.readline().split() if ready else []
        if len(line) != 3 or line[0] != "READY":
            tail = self.log_tail()
            self.stop()
            raise RuntimeError(f"moto's server did not start (said {line!r}); its log:\n{tail}")
        self.host, self.port = line[1], int(line[2])
        if not ipaddress.ip_address(self.host).is_loopback:  # the child checks too
            self.stop()
            raise RuntimeError(f"moto's server bound {self.host}, not a loopback address")
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin:
                proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
        # Its directory (HOME and the request log) goes with it: nothing is left in /tmp.
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> StsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_served(self) -> int:
        """How many requests the server has answered: werkzeug logs one line per request, before
        the response is sent, so a caller that got its answer finds its line already here."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if '"POST ' in line or '"GET ' in line)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- requests ------------------------------------------------------------------------------

    def call(self, service: str, action: str, account: str, **params: str) -> ET.Element:
        """A query-protocol request (IAM, STS) made in ``account``; the parsed XML response.

        The Authorization header only names the service for moto's dispatcher (the credential
        scope); moto does not verify signatures unless IAM authorization is switched on.
        """
        body = urllib.parse.urlencode(
            {"Action": action, "Version": _API_VERSIONS[service], **params}
        ).encode()
        request = urllib.request.Request(
            self.endpoint + "/",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "x-moto-account-id": account,
                "Authorization": (
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/"
                    f"{service}/aws4_request, SignedHeaders=host, Signature=0"
                ),
            },
        )
        # Only ever the loopback server: build an opener without proxy handlers (an http_proxy in
        # the environment must not reroute these requests).
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=_REQUEST_TIMEOUT) as response:
            return ET.fromstring(response.read())

    def create_user(self, account: str, user: str) -> AccessKey:
        """Create IAM user ``user`` in ``account`` and one access key for it."""
        created = self.call("iam", "CreateUser", account, UserName=user)
        arn = _text(created, "Arn")
        key = self.call("iam", "CreateAccessKey", account, UserName=user)
        return AccessKey(
            user=user,
            account=account,
            arn=arn,
            access_key_id=_text(key, "AccessKeyId"),
            secret_access_key=_text(key, "SecretAccessKey"),
        )

    def field_report_users(self) -> tuple[AccessKey, AccessKey]:
        """test_user_A in 000000000000 and test_user_B in 999999999999, with their keys."""
        return self.create_user(ACCOUNT_A, USER_A), self.create_user(ACCOUNT_B, USER_B)


_API_VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15"}


def _text(root: ET.Element, tag: str) -> str:
    node = root.find(f".//{{*}}{tag}")
    if node is None or not node.text:
        raise RuntimeError(f"no <{tag}> in moto's response: {ET.tostring(root)[:300]!r}")
    return node.text


# ----------------------------------------------------------------------------------------------
# The sandbox HOME of the field report
# ----------------------------------------------------------------------------------------------


def login_cache_path(home: Path, login_session: str) -> Path:
    """Where `aws login` caches a session (tests/logincache.py)."""
    return logincache.path(home, login_session)


def login_cache_document(key: AccessKey, *, hours: float = 6) -> dict[str, object]:
    """The cache file `aws login` writes (tests/logincache.py), holding ``key``.

    The expiry is hours ahead: botocore refreshes credentials within 15 minutes of expiry
    (an advisory refresh would call the signin service), so the CLI uses these as they are.
    moto ignores the session token and serves the request as the key's user.
    """
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours)
    return logincache.document(
        key.account,
        access_key_id=key.access_key_id,
        secret_access_key=key.secret_access_key,
        session_token="stsd-login-session-token",
        expires_at=expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        refresh_token="stsd-refresh-token",
    )


def credentials_text(key: AccessKey | None, profile: str = PROFILE) -> str:
    """~/.aws/credentials with ``key`` under ``[profile]`` (or the section emptied: the fix)."""
    if key is None:
        return f"[{profile}]\n"
    return (
        f"# keys of IAM user {key.user}, account {key.account} (kept from before aws login)\n"
        f"[{profile}]\n"
        f"aws_access_key_id = {key.access_key_id}\n"
        f"aws_secret_access_key = {key.secret_access_key}\n"
    )


def config_text(login_session: str, profile: str = PROFILE) -> str:
    """~/.aws/config after `aws login --profile <profile>` recorded the session."""
    return f"[profile {profile}]\nregion = {REGION}\nlogin_session = {login_session}\n"


def write_field_report(home: Path, key_a: AccessKey, key_b: AccessKey) -> None:
    """The field report's files under ``home``: A's keys in the credentials file, B's login
    session in the config and its cache."""
    aws_dir = home / ".aws"
    aws_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (aws_dir / "credentials").write_text(credentials_text(key_a))
    (aws_dir / "credentials").chmod(0o600)
    (aws_dir / "config").write_text(config_text(key_b.arn))
    cache = login_cache_path(home, key_b.arn)
    cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    cache.write_text(json.dumps(login_cache_document(key_b), indent=2))
    cache.chmod(0o600)


# ----------------------------------------------------------------------------------------------
# The real `aws`: loopback only
# ----------------------------------------------------------------------------------------------

GUARD_MARKER = "AWSGUARD-STSD-NETWORK-GUARD"


def network_guard_source(marker: str, purpose: str) -> str:
    """A ``sitecustomize.py`` that refuses every non-loopback connection and DNS lookup in the
    Python that loads it (the real `aws`), writing ``marker`` to stderr when it does."""
    return textwrap.dedent(
        f'''\
    """Loaded by {purpose}: loopback network only."""
    import ipaddress
    import socket
    import sys


    def _loopback(host):
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if not isinstance(host, str):
            return False
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
        except ValueError:
            return False


    def _refuse(what):
        sys.stderr.write("{marker} refused " + what + "\\n")
        sys.stderr.flush()
        raise ConnectionRefusedError("{marker}: " + what)


    _connect = socket.socket.connect
    _connect_ex = socket.socket.connect_ex
    _getaddrinfo = socket.getaddrinfo


    def _check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else address
            if not _loopback(host):
                _refuse("connection to " + repr(address))


    def connect(self, address):
        _check(self, address)
        return _connect(self, address)


    def connect_ex(self, address):
        _check(self, address)
        return _connect_ex(self, address)


    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _loopback(host):
            _refuse("DNS lookup of " + repr(host))
        return _getaddrinfo(host, *args, **kwargs)


    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo
    '''
    )


_SITECUSTOMIZE = network_guard_source(
    GUARD_MARKER, "every Python started with this PYTHONPATH (the real `aws`)"
)


def write_network_guard(directory: Path) -> Path:
    """Write the guard ``sitecustomize.py`` into ``directory``; put that on PYTHONPATH."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return directory


def cli_environment(
    home: Path,
    server: StsServer,
    *,
    path: Sequence[str | Path],
    guard: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """A complete environment for `aws` (or the shim) in the sandbox ``home``.

    Every endpoint the CLI could use is the loopback server (``AWS_ENDPOINT_URL`` covers every
    service client, the login refresh's ``signin`` included); IMDS is off; one attempt, short
    timeouts come from the caller's argv if wanted. awsguard's own files (policy, caches, the
    shim's home) live under ``home`` too.
    """
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join(os.fspath(p) for p in path),
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": server.endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
        "AWS_PAGER": "",
        "AWS_CLI_AUTO_PROMPT": "off",
        "PYTHONPATH": str(guard),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }
    env.update(extra or {})
    return env
