"""The botocore oracle: what the real CLI's credential chain does with a scenario.

awsguard predicts offline which provider the AWS CLI will use and which error it would raise
(docs/ARCHITECTURE.md §6). The truth is botocore itself, so this module runs it:

- A ``Scenario`` is files (relative to a private HOME), an environment and the words after `aws`.
  ``materialize`` writes it into a fresh temporary HOME; paths and the loopback server address are
  written as the placeholders ``@HOME@`` and ``@LOOPBACK@`` and substituted there.
- ``run_botocore`` runs botocore in-process as a service command would: ``os.environ`` is exactly
  the scenario's environment, ``--profile`` and ``--no-sign-request`` are read by the real CLI's
  own argument parser, a fresh ``botocore.session.Session`` (for CLI v2 with AWS_PROFILE read
  before AWS_DEFAULT_PROFILE) creates an ``sts`` client — which raises ``ProfileNotFound``, every
  chain error and the SSO token provider's configuration errors — and the winning credentials'
  ``.method`` is read without a refresh. No credentials on a signed call: ``NoCredentialsError``;
  on an unsigned one (``--no-sign-request``): no error. Outcomes carry the error *class name*
  (``ParserError`` for dateutil's, not ``ValueError``) and the session's effective profile.
- ``run_awsguard`` asks ``awsguard.predict.resolver.resolve`` the same question, with ``os.environ``
  deliberately poisoned so that a resolver that reads the process environment is caught.
- ``network_guard`` refuses every connection outside the loopback network; container and IMDS
  scenarios are answered by ``LoopbackServer``. Deferred providers (assume-role, web identity,
  SSO) make no call because their credentials are never used.

Which botocore runs is chosen in conftest.py (``AWSGUARD_ORACLE_BOTOCORE``): PyPI's package by
default, or the copy awscli vendors (what the real `aws` v1 executes). Only the tests import this
module; botocore and awscli are never imported by awsguard itself.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import datetime
import hashlib
import io
import ipaddress
import json
import os
import shlex
import shutil
import socket
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# conftest.py decides which botocore `import botocore` means before this runs (see there).
import awscli.clidriver
import botocore
import botocore.credentials
import botocore.session
import botocore.tokens
import botocore.utils
import logincache
from botocore import UNSIGNED
from botocore.config import Config

HOME = "@HOME@"
LOOPBACK = "@LOOPBACK@"
LOOPBACK_PORT = "@LOOPBACK_PORT@"

SERVICE_ARGV = ("sts", "get-caller-identity")

# CLI v2 reads AWS_PROFILE before AWS_DEFAULT_PROFILE (docs/credential-chain.md §2). That table entry is the only
# resolution difference between the majors, so v2 is emulated by overriding it on the session.
_V2_SESSION_VARS = {"profile": (None, ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"], None, None)}

# Counters shown in the pytest terminal summary (conftest.py), so each run reports its size.
STATS: Counter[str] = Counter()


# --------------------------------------------------------------------------------------------
# Network safety
# --------------------------------------------------------------------------------------------


def _is_loopback_host(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class NetworkRefused(OSError):
    """Raised instead of connecting anywhere but the loopback network."""


_guard_depth = 0
_guard_lock = threading.Lock()


@contextlib.contextmanager
def network_guard() -> Iterator[None]:
    """Refuse every socket connection outside 127.0.0.0/8 and ::1 (and every DNS lookup of a
    non-loopback name) for the duration. Re-entrant; restores the originals on exit."""
    global _guard_depth
    with _guard_lock:
        _guard_depth += 1
        first = _guard_depth == 1
        if first:
            originals = (
                socket.socket.connect,
                socket.socket.connect_ex,
                socket.create_connection,
                socket.getaddrinfo,
            )
            orig_connect, orig_connect_ex, orig_create, orig_getaddrinfo = originals

            def _check(sock: socket.socket, address: Any) -> None:
                if sock.family == getattr(socket, "AF_UNIX", None):
                    return
                host = address[0] if isinstance(address, tuple) else address
                if not _is_loopback_host(host):
                    raise NetworkRefused(f"test network guard: refused connection to {address!r}")

            def connect(sock: socket.socket, address: Any) -> Any:
                _check(sock, address)
                return orig_connect(sock, address)

            def connect_ex(sock: socket.socket, address: Any) -> Any:
                _check(sock, address)
                return orig_connect_ex(sock, address)

            def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
                if not _is_loopback_host(address[0]):
                    raise NetworkRefused(f"test network guard: refused connection to {address!r}")
                return orig_create(address, *args, **kwargs)

            def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
                if isinstance(host, bytes):
                    host = host.decode("ascii", "replace")
                if host is not None and not _is_loopback_host(host):
                    raise NetworkRefused(f"test network guard: refused DNS lookup of {host!r}")
                return orig_getaddrinfo(host, *args, **kwargs)

            socket.socket.connect = connect  # type: ignore[method-assign]
            socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
            socket.create_connection = create_connection  # type: ignore[assignment]
            socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        with _guard_lock:
            _guard_depth -= 1
            if first:
                socket.socket.connect = orig_connect  # type: ignore[method-assign]
                socket.socket.connect_ex = orig_connect_ex  # type: ignore[method-assign]
                socket.create_connection = orig_create  # type: ignore[assignment]
                socket.getaddrinfo = orig_getaddrinfo  # type: ignore[assignment]


# --------------------------------------------------------------------------------------------
# Loopback container-credentials and IMDS stub
# --------------------------------------------------------------------------------------------


def _iso(dt: datetime.datetime) -> str:
    return dt.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def future_iso(hours: float = 6) -> str:
    return _iso(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours))


class _Handler(BaseHTTPRequestHandler):
    """One server plays both roles:

    - IMDS: ``PUT /latest/api/token``, ``GET /latest/meta-data/iam/security-credentials/[role]``;
    - container endpoint: every other ``GET``; a path containing ``fail`` answers 500;
    - any ``POST``: an AWS query-protocol error (400), recorded with its headers.
    """

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        pass

    def _send(self, status: int, body: str, ctype: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:
        self.server.requests.append(("PUT", self.path, dict(self.headers)))
        if self.path.rstrip("/").endswith("/latest/api/token"):
            self._send(200, "stub-imds-token", "text/plain")
        else:
            self._send(404, "")

    def do_POST(self) -> None:
        # An AWS query-protocol error, so that a request reaching the stub ends in ClientError.
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append(("POST", self.path, dict(self.headers)))
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>StubRefused</Code>"
            "<Message>loopback stub</Message></Error><RequestId>stub</RequestId></ErrorResponse>"
        )
        self._send(400, body, "text/xml")

    def do_GET(self) -> None:
        self.server.requests.append(("GET", self.path, dict(self.headers)))
        creds_prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path == creds_prefix:
            self._send(200, "stub-role", "text/plain")
        elif self.path.startswith(creds_prefix):
            body = {
                "Code": "Success",
                "Type": "AWS-HMAC",
                "AccessKeyId": "ASIAIMDSSTUBEXAMPLE1",
                "SecretAccessKey": "imds-secret",
                "Token": "imds-token",
                "Expiration": future_iso(),
            }
            self._send(200, json.dumps(body))
        elif "fail" in self.path:
            self._send(500, "stub container failure", "text/plain")
        else:
            body = {
                "AccessKeyId": "ASIACONTAINERSTUB001",
                "SecretAccessKey": "container-secret",
                "Token": "container-token",
                "Expiration": future_iso(),
            }
            self._send(200, json.dumps(body))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[tuple[str, str, dict[str, str]]]


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 answering container and IMDS credential requests."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.requests = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def hostport(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        return self._server.requests

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


_server: LoopbackServer | None = None


def loopback_server() -> LoopbackServer:
    global _server
    if _server is None:
        _server = LoopbackServer()
    return _server


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scenario:
    """Everything one `aws` invocation depends on.

    ``files`` maps paths relative to HOME to contents; ``env`` values of ``None`` mean "absent"
    (used to remove the default ``AWS_EC2_METADATA_DISABLED=true``). ``@HOME@`` and ``@LOOPBACK@``
    in file contents and env values are replaced when the scenario is materialized.
    """

    files: tuple[tuple[str, bytes], ...] = ()
    dirs: tuple[str, ...] = ()
    env: tuple[tuple[str, str | None], ...] = ()
    argv: tuple[str, ...] = SERVICE_ARGV

    def describe(self) -> str:
        """The whole scenario as text, for assertion messages."""
        lines = ["argv: aws " + " ".join(shlex.quote(a) for a in self.argv)]
        lines.append("env:")
        for key, value in self.env:
            lines.append(f"  {key}={'<absent>' if value is None else repr(value)}")
        for d in self.dirs:
            lines.append(f"dir: ~/{d}/")
        for relpath, content in self.files:
            lines.append(f"file ~/{relpath} ({len(content)} bytes):")
            text = content.decode("utf-8", "backslashreplace")
            for line in text.split("\n"):
                lines.append("  | " + (line if line.isprintable() else repr(line)))
        return "\n".join(lines)


def scenario(
    config: str | bytes | None = None,
    credentials: str | bytes | None = None,
    *,
    files: Mapping[str, str | bytes] | None = None,
    dirs: Sequence[str] = (),
    env: Mapping[str, str | None] | None = None,
    argv: Sequence[str] = SERVICE_ARGV,
) -> Scenario:
    """Build a Scenario: ``config``/``credentials`` go to ``~/.aws/config``/``~/.aws/credentials``;
    ``AWS_EC2_METADATA_DISABLED=true`` is added unless ``env`` mentions it."""
    all_files: dict[str, bytes] = {}
    if config is not None:
        all_files[".aws/config"] = config.encode() if isinstance(config, str) else config
    if credentials is not None:
        all_files[".aws/credentials"] = (
            credentials.encode() if isinstance(credentials, str) else credentials
        )
    for relpath, content in (files or {}).items():
        all_files[relpath] = content.encode() if isinstance(content, str) else content
    full_env: dict[str, str | None] = dict(env or {})
    full_env.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    return Scenario(
        files=tuple(all_files.items()),
        dirs=tuple(dirs),
        env=tuple(sorted(full_env.items())),
        argv=tuple(argv),
    )


@dataclasses.dataclass
class Materialized:
    """A scenario written to disk: the HOME directory, the exact environment, argv."""

    scenario: Scenario
    home: str
    env: dict[str, str]
    argv: list[str]


def _substitutions(home: str) -> list[tuple[str, str]]:
    hostport = loopback_server().hostport
    return [(HOME, home), (LOOPBACK_PORT, hostport.rsplit(":", 1)[1]), (LOOPBACK, hostport)]


def _substitute(value: str, home: str) -> str:
    for placeholder, actual in _substitutions(home):
        value = value.replace(placeholder, actual)
    return value


@contextlib.contextmanager
def materialize(scn: Scenario) -> Iterator[Materialized]:
    """Write the scenario into a fresh private HOME; remove it afterwards."""
    home = tempfile.mkdtemp(prefix="awsguard-oracle-")
    try:
        home = os.path.realpath(home)
        for d in scn.dirs:
            os.makedirs(os.path.join(home, d), exist_ok=True)
        for relpath, content in scn.files:
            target = os.path.join(home, relpath)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            data = content
            for placeholder, actual in _substitutions(home):
                data = data.replace(placeholder.encode(), actual.encode())
            with open(target, "wb") as f:
                f.write(data)
        env: dict[str, str] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
        for key, value in scn.env:
            if value is None:
                env.pop(key, None)
            else:
                env[key] = _substitute(value, home)
        # IMDS is never allowed to leave the machine: whenever it is enabled it talks to the stub.
        env.setdefault("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://{loopback_server().hostport}/")
        yield Materialized(
            scenario=scn, home=home, env=env, argv=[_substitute(a, home) for a in scn.argv]
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Running botocore
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one side says: the winning method (or None), the error class name (or None), the
    effective profile name, and the error text (for humans only; never compared)."""

    source: str | None
    error: str | None
    message: str | None = None
    profile: str | None = None

    def key(self) -> tuple[str | None, str | None]:
        return (self.source, self.error)

    def full_key(self) -> tuple[str | None, str | None, str | None]:
        return (self.source, self.error, self.profile)

    def __str__(self) -> str:
        text = f"source={self.source!r} error={self.error}"
        if self.error:
            msg = (self.message or "").replace("\n", " ")
            if len(msg) > 400:
                msg = msg[:400] + "…"
            text += f" ({msg})"
        return text + f" profile={self.profile!r}"


@contextlib.contextmanager
def exact_environ(env: Mapping[str, str]) -> Iterator[None]:
    """Make os.environ exactly ``env`` for the duration, then restore it."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class UsageError(Exception):
    """The CLI's own parser rejected argv (it would exit 2 before resolving anything)."""


@dataclasses.dataclass(frozen=True)
class GlobalArgs:
    profile: str | None
    sign_request: bool


_parser: Any = None


def _cli_parser() -> Any:
    """The real CLI's main argument parser, built once per process in an empty HOME (so no
    alias file or plugin of the developer's machine takes part)."""
    global _parser
    if _parser is None:
        empty_home = tempfile.mkdtemp(prefix="awsguard-cli-parser-")
        try:
            with exact_environ(
                {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": empty_home,
                    "AWS_EC2_METADATA_DISABLED": "true",
                    "AWS_DATA_PATH": os.environ.get("AWS_DATA_PATH", ""),
                }
            ):
                driver = awscli.clidriver.create_clidriver()
                command_table = driver._get_command_table()
                parser = driver._create_parser(command_table)
                driver._add_aliases(command_table, parser)
        finally:
            shutil.rmtree(empty_home, ignore_errors=True)
        _parser = parser
    return _parser


def cli_global_args(argv: Sequence[str]) -> GlobalArgs:
    """``--profile`` and ``--no-sign-request`` exactly as `aws` (v1 CLIDriver.main) parses them:
    ``parse_known_args`` over the whole argv, so prefixes, ``--x=y``, last-wins and ``--`` all
    behave as in the CLI. The CLI only applies a truthy profile (``_handle_top_level_args``)."""
    parser = _cli_parser()
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            parsed, _remaining = parser.parse_known_args(list(argv))
    except SystemExit as e:
        raise UsageError(stderr.getvalue().strip().splitlines()[-1:] or str(e)) from None
    return GlobalArgs(profile=parsed.profile or None, sign_request=parsed.sign_request)


_loader: Any = None


def _shared_data_loader() -> Any:
    # The service-model loader reads only botocore's bundled JSON; sharing it between sessions
    # saves ~60 ms per scenario and cannot change credential resolution.
    # It is built outside any scenario: its data_path lookup reads the scoped config.
    global _loader
    if _loader is None:
        empty_home = tempfile.mkdtemp(prefix="awsguard-loader-")
        try:
            with exact_environ(
                {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": empty_home}
            ):
                _loader = botocore.session.Session().get_component("data_loader")
        finally:
            shutil.rmtree(empty_home, ignore_errors=True)
    return _loader


@contextlib.contextmanager
def _patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


@contextlib.contextmanager
def botocore_world(m: Materialized, *, crt: bool = True) -> Iterator[None]:
    """The process state botocore sees for this scenario: exact os.environ, no external network,
    the container fetcher's link-local address pointed at the loopback stub, no retry sleeps,
    and — for ``crt=False`` — botocore as if awscrt were not installed.

    botocore computes the SSO token cache directory from HOME once, at import time; the CLI is
    a fresh process per invocation, so it is re-pointed at this scenario's HOME here."""
    _cli_parser()
    _shared_data_loader()
    sso_cache = os.path.join(m.home, ".aws", "sso", "cache")
    with contextlib.ExitStack() as stack:
        stack.enter_context(network_guard())
        stack.enter_context(exact_environ(m.env))
        fetcher = botocore.utils.ContainerMetadataFetcher
        stack.enter_context(_patched(fetcher, "IP_ADDRESS", loopback_server().hostport))
        stack.enter_context(_patched(fetcher, "SLEEP_TIME", 0))
        stack.enter_context(
            _patched(botocore.credentials.SSOProvider, "_SSO_TOKEN_CACHE_DIR", sso_cache)
        )
        stack.enter_context(
            _patched(botocore.tokens.SSOTokenProvider, "_SSO_TOKEN_CACHE_DIR", sso_cache)
        )
        if not crt:
            stack.enter_context(_patched(botocore.credentials, "EC", None))
        yield


def new_session(major: int) -> botocore.session.Session:
    """A fresh session as CLI ``major`` builds it (only the profile variables differ)."""
    if major not in (1, 2):
        raise ValueError(f"major must be 1 or 2, not {major!r}")
    session = botocore.session.Session(session_vars=_V2_SESSION_VARS if major == 2 else None)
    session.register_component("data_loader", _shared_data_loader())
    return session


Prepare = Callable[[botocore.session.Session], None]


def resolve_in_world(
    m: Materialized, *, major: int = 1, prepare: Prepare | None = None
) -> tuple[Outcome, Any]:
    """Inside ``botocore_world``: resolve credentials as a signed service command of CLI
    ``major`` would, without using them. Returns the outcome and the credentials object (None
    on error or when nothing was found). ``prepare`` may adjust the session first (tests use it
    to emulate v2's SSO file cache). Raises UsageError if the CLI's parser rejects argv."""
    STATS["botocore runs"] += 1
    args = cli_global_args(m.argv)
    session = new_session(major)
    if args.profile:
        session.set_config_variable("profile", args.profile)
    profile = session.get_config_variable("profile")
    profile = "default" if profile is None else profile
    if prepare is not None:
        prepare(session)
    config = None if args.sign_request else Config(signature_version=UNSIGNED)
    try:
        client = session.create_client("sts", region_name="us-east-1", config=config)
    except Exception as e:
        return Outcome(None, type(e).__name__, str(e), profile), None
    credentials = client._request_signer._credentials
    if credentials is None:
        if not args.sign_request:
            return Outcome(None, None, None, profile), None
        return Outcome(None, "NoCredentialsError", "Unable to locate credentials", profile), None
    return Outcome(credentials.method, None, None, profile), credentials


@contextlib.contextmanager
def botocore_resolution(
    m: Materialized, *, major: int = 1, crt: bool = True, prepare: Prepare | None = None
) -> Iterator[tuple[Outcome, Any]]:
    """Resolve, and stay inside the scenario's world so a test may *use* the credentials
    (``get_frozen_credentials``) under the network guard."""
    with botocore_world(m, crt=crt):
        yield resolve_in_world(m, major=major, prepare=prepare)


def run_botocore(m: Materialized, *, major: int = 1, crt: bool = True) -> Outcome:
    with botocore_world(m, crt=crt):
        outcome, _ = resolve_in_world(m, major=major)
    return outcome


def botocore_outcome(scn: Scenario, *, major: int = 1, crt: bool = True) -> Outcome:
    with materialize(scn) as m:
        return run_botocore(m, major=major, crt=crt)


# --------------------------------------------------------------------------------------------
# Running awsguard
# --------------------------------------------------------------------------------------------


def _poison_home() -> str:
    """A HOME full of credentials that no scenario mentions; awsguard must never see it."""
    home = os.path.join(tempfile.gettempdir(), f"awsguard-oracle-poison-{os.getpid()}")
    if not os.path.isdir(home):
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        os.makedirs(os.path.join(home, ".aws", "login", "cache"), exist_ok=True)
        with open(os.path.join(home, ".aws", "credentials"), "w") as f:
            f.write(
                "[default]\naws_access_key_id = AKIAPOISONPOISONPOIS\naws_secret_access_key = p\n"
                "[poison]\naws_access_key_id = AKIAPOISONPOISONPOIS\naws_secret_access_key = p\n"
            )
        with open(os.path.join(home, ".aws", "config"), "w") as f:
            f.write("[profile poison]\ncredential_process = /bin/false\n")
        with open(os.path.join(home, ".boto"), "w") as f:
            f.write("[Credentials]\naws_access_key_id = AKIAPOISON\naws_secret_access_key = p\n")
    return home


def poisoned_environ() -> dict[str, str]:
    home = _poison_home()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "AWS_PROFILE": "poison",
        "AWS_DEFAULT_PROFILE": "poison",
        "AWS_ACCESS_KEY_ID": "AKIAPOISONPOISONPOIS",
        "AWS_SECRET_ACCESS_KEY": "poison",
        "AWS_CONFIG_FILE": os.path.join(home, ".aws", "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, ".aws", "credentials"),
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/poison",
        "AWS_EC2_METADATA_DISABLED": "false",
    }


def _describe_error(err: Any) -> tuple[str | None, str | None]:
    if err is None:
        return None, None
    return getattr(err, "code", repr(err)), getattr(err, "message", None)


def run_awsguard(
    m: Materialized, *, major: int = 1, crt: bool = True, poison: bool = True
) -> tuple[Outcome, Any]:
    """awsguard's prediction for the same scenario. ``os.environ`` is poisoned (different HOME,
    keys, profile) unless ``poison=False``: the resolver must use only the environ it is given.
    Returns the outcome and the raw resolution (None if awsguard crashed)."""
    from awsguard.predict.resolver import resolve

    STATS["awsguard runs"] += 1
    with network_guard(), exact_environ(poisoned_environ() if poison else m.env):
        try:
            res = resolve(list(m.argv), dict(m.env), major=major, crt=crt)
        except Exception as e:
            return Outcome(None, f"awsguard crashed: {type(e).__name__}", str(e)), None
    code, message = _describe_error(res.error)
    return Outcome(res.source, code, message, getattr(res, "profile", None)), res


def awsguard_resolution(scn: Scenario, *, major: int = 1, crt: bool = True) -> Any:
    """The raw awsguard resolution object for a scenario (for chain assertions)."""
    with materialize(scn) as m:
        outcome, res = run_awsguard(m, major=major, crt=crt)
    if res is None:
        raise AssertionError(f"awsguard crashed: {outcome}")
    return res


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Comparison:
    major: int
    crt: bool
    oracle: Outcome
    awsguard: Outcome
    clean_env_awsguard: Outcome | None = None

    @property
    def agree(self) -> bool:
        return self.oracle.full_key() == self.awsguard.full_key()


def compare(
    m: Materialized, *, major: int, crt: bool = True, oracle: Outcome | None = None
) -> Comparison:
    if oracle is None:
        oracle = run_botocore(m, major=major, crt=crt)
    predicted, _ = run_awsguard(m, major=major, crt=crt)
    cmp = Comparison(major=major, crt=crt, oracle=oracle, awsguard=predicted)
    if not cmp.agree:
        # Was it os.environ leaking into awsguard? Ask again with the scenario's own environ.
        cmp.clean_env_awsguard, _ = run_awsguard(m, major=major, crt=crt, poison=False)
    return cmp


def disagreement_report(
    scn: Scenario, m: Materialized | None, comparisons: Sequence[Comparison]
) -> str:
    lines = ["awsguard disagrees with botocore", ""]
    for c in comparisons:
        if c.agree:
            continue
        lines.append(f"CLI v{c.major} (crt={c.crt}):")
        lines.append(f"  botocore: {c.oracle}")
        lines.append(f"  awsguard: {c.awsguard}")
        if (
            c.clean_env_awsguard is not None
            and c.clean_env_awsguard.full_key() != c.awsguard.full_key()
        ):
            lines.append(
                "  awsguard with os.environ == scenario env: "
                f"{c.clean_env_awsguard}  <- awsguard reads os.environ (or ~) instead of environ"
            )
    lines.append("")
    lines.append("scenario (HOME = a fresh temporary directory, shown as ~):")
    lines.append(scn.describe())
    if m is not None:
        lines.append("")
        lines.append("materialized env: " + json.dumps(m.env, sort_keys=True))
        lines.append("python: " + repr(scn))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Small helpers shared by tests
# --------------------------------------------------------------------------------------------


def login_cache_relpath(login_session: str, cache_dir: str = logincache.DEFAULT_DIR) -> str:
    """Where `aws login` caches the session (tests/logincache.py)."""
    return logincache.relpath(login_session, cache_dir)


def sso_cache_relpath(session_name_or_start_url: str) -> str:
    return (
        f".aws/sso/cache/{hashlib.sha1(session_name_or_start_url.encode('utf-8')).hexdigest()}.json"
    )


_dpop_pem: str | None = None


def dpop_key_pem() -> str:
    """A PEM SEC1 EC P-256 private key, as `aws login` stores in ``dpopKey`` (one per process)."""
    global _dpop_pem
    if _dpop_pem is None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        _dpop_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
    return _dpop_pem


def login_token(
    account_id: str = "999999999999",
    *,
    access_key_id: str = "ASIAQ2LOGINSESSION01",
    expires_at: str | None = None,
    drop: Sequence[str] = (),
    drop_access: Sequence[str] = (),
) -> dict[str, Any]:
    """A login cache document (tests/logincache.py) with a real dpop key, for botocore to load
    (``drop`` removes top-level fields, ``drop_access`` fields of ``accessToken``)."""
    return logincache.document(
        account_id,
        access_key_id=access_key_id,
        expires_at=expires_at or future_iso(hours=0.25 + 1 / 60),
        dpop_key=dpop_key_pem(),
        drop=drop,
        drop_access=drop_access,
    )


def process_command(
    *, version: int = 1, access_key_id: str = "ASIAPROCESSSTUB00001", expiration: str | None = None
) -> str:
    """A ``credential_process`` value: ``/bin/echo '<json>'`` (shlex-split by botocore, no shell)."""
    doc: dict[str, Any] = {
        "Version": version,
        "AccessKeyId": access_key_id,
        "SecretAccessKey": "process-secret",
        "SessionToken": "process-token",
    }
    if expiration:
        doc["Expiration"] = expiration
    return "/bin/echo '" + json.dumps(doc, separators=(",", ":")) + "'"


def botocore_flavour() -> str:
    """``"cli"`` when this process resolves with the copy vendored in awscli (what the real `aws`
    v1 runs), ``"pypi"`` for PyPI's botocore package (see conftest.py)."""
    return "cli" if os.sep + "awscli" + os.sep in botocore.__file__ else "pypi"
