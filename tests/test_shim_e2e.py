"""The shim end to end: the real `aws` (awscli from PyPI), the installed shim, a real STS.

The field report (docs/credential-chain.md §0) is replayed against moto's server on
127.0.0.1 (tests/stsd.py) with real identities: IAM user test_user_A in account 000000000000
(its keys in ~/.aws/credentials) and test_user_B in 999999999999 (the `aws login` session of
profile ``test_user``, its cache holding B's real moto keys). ``aws sts get-caller-identity``
answers with the identity that signed the request, so every assertion below is about what
actually ran: the account and ARN STS saw, the exit code, the bytes on stdout.

The shim is installed by ``awsguard install`` into a temporary AWSGUARD_HOME; its bin directory
comes first on PATH and the venv's `aws` later, found by the shim's own PATH walk. Runs "without
the shim" use the same PATH minus that directory. The real `aws` only ever talks to loopback:
``AWS_ENDPOINT_URL`` is the local server, IMDS is disabled, and a ``sitecustomize`` on
PYTHONPATH refuses every other connection inside the CLI's interpreter (checked below).
Whether a blocked call reached STS is read from the server's request log.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
import stsd
from stsd import ACCOUNT_A, ACCOUNT_B, PROFILE, AccessKey, StsServer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_external_network")]

VENV_BIN = Path(sys.executable).parent
REAL_AWS = VENV_BIN / "aws"
AWSGUARD = VENV_BIN / "awsguard"
SYSTEM_PATH = [Path("/usr/bin"), Path("/bin")]
BLOCKED = 77
NO_REAL_AWS = 127
HANG_GUARD = 300  # seconds; a guard against a hang (the CI box may be loaded), never a measurement
GET_CALLER_IDENTITY = ("sts", "get-caller-identity", "--output", "json")


def _require(ok: bool, what: str) -> None:
    """Skip without ``what`` locally; fail under CI=true (the CI installs everything)."""
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI", pytrace=False)
    pytest.skip(f"{what} is not available", allow_module_level=True)


_require(os.access(REAL_AWS, os.X_OK), f"the real aws at {REAL_AWS} (make install)")
_require(os.access(AWSGUARD, os.X_OK), f"the awsguard command at {AWSGUARD} (make install)")
# Located, not imported: moto registers botocore hooks on import, and the server runs in a child.
_require(
    all(importlib.util.find_spec(name) for name in ("moto", "flask", "flask_cors", "awscrt")),
    "moto[server] and awscrt in the venv (make install)",
)


# ----------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Stack:
    server: StsServer
    key_a: AccessKey
    key_b: AccessKey
    guard: Path
    root: Path

    def requests_served(self) -> int:
        return self.server.requests_served()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="awsguard-e2e-"))
    with StsServer() as server:
        key_a, key_b = server.field_report_users()
        yield Stack(server, key_a, key_b, stsd.write_network_guard(root / "guard"), root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def shim_dir(stack: Stack) -> Path:
    """``awsguard install`` into a private AWSGUARD_HOME; the directory it prints."""
    home = stack.root / "install-home"
    home.mkdir()
    agh = stack.root / "awsguard-home"
    env = {
        "HOME": str(home),
        "PATH": os.pathsep.join(str(p) for p in [VENV_BIN, *SYSTEM_PATH]),
        "AWSGUARD_HOME": str(agh),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [str(AWSGUARD), "install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert done.returncode == 0, f"awsguard install failed ({done.returncode}): {done.stderr}"
    printed = Path(done.stdout.strip().splitlines()[-1])
    assert printed == agh / "bin", done.stdout
    assert os.access(printed / "aws", os.X_OK), f"no executable aws in {printed}"
    return printed


@pytest.fixture
def home(tmp_path: Path, stack: Stack) -> Path:
    """A fresh sandbox HOME holding the field report's files."""
    stsd.write_field_report(tmp_path, stack.key_a, stack.key_b)
    return tmp_path


@dataclasses.dataclass(frozen=True)
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def identity(self) -> tuple[str, str]:
        """(Account, Arn) from get-caller-identity's JSON, which must be all of stdout."""
        assert self.returncode == 0, f"exit {self.returncode}: {self.err}"
        doc = json.loads(self.stdout)
        return doc["Account"], doc["Arn"]


def aws(
    stack: Stack,
    home: Path,
    args: Sequence[str],
    *,
    shim: Path | None,
    env: Mapping[str, str] | None = None,
    path: Sequence[str | Path] | None = None,
) -> Run:
    """``aws ARGS`` found on PATH as a user's shell would: the shim's directory first when
    ``shim`` is given, then the venv (the real aws), then the system directories."""
    if path is None:
        path = [*([shim] if shim else []), VENV_BIN, *SYSTEM_PATH]
    full_env = stsd.cli_environment(home, stack.server, path=path, guard=stack.guard, extra=env)
    found = shutil.which("aws", path=full_env["PATH"])
    expected = (shim or VENV_BIN) / "aws"
    assert found == str(expected), f"aws on PATH is {found}, expected {expected}"
    done = subprocess.run(
        [found, *args],
        env=full_env,
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=HANG_GUARD,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def env_keys(key: AccessKey) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": key.access_key_id, "AWS_SECRET_ACCESS_KEY": key.secret_access_key}


def remove_profile_keys(home: Path) -> None:
    """The field report's fix: the profile's keys deleted from ~/.aws/credentials."""
    (home / ".aws" / "credentials").write_text(stsd.credentials_text(None))


def section_lines(path: Path, section: str) -> set[int]:
    """1-based numbers of the lines of ``[section]`` in an INI file, its header included."""
    lines: set[int] = set()
    inside = False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("["):
            inside = line.strip() == f"[{section}]"
        if inside:
            lines.add(number)
    return lines


def assert_no_secrets(stack: Stack, *texts: str) -> None:
    for text in texts:
        for key in (stack.key_a, stack.key_b):
            assert key.secret_access_key not in text, "a secret key was printed"
            assert key.access_key_id not in text, "an unmasked access key id was printed"


def assert_blocked(stack: Stack, run: Run) -> None:
    """The block contract: exit 77, nothing on stdout, and a stderr that names what would run
    (account A, with the file and line its keys come from) and what it shadows (B's login
    session and account 999999999999)."""
    assert run.returncode == BLOCKED, f"exit {run.returncode}, stderr: {run.err}"
    assert run.stdout == b""
    assert ACCOUNT_A in run.err and ACCOUNT_B in run.err, run.err
    assert stack.key_b.arn in run.err, run.err
    assert_no_secrets(stack, run.err)
    assert run.err.count("\n") <= 25, f"not a compact message:\n{run.err}"


# ----------------------------------------------------------------------------------------------
# The parts themselves
# ----------------------------------------------------------------------------------------------


def test_sts_answers_with_each_users_true_account(stack: Stack, tmp_path: Path) -> None:
    """The fixture is what the field report needs: two keys, two accounts, as STS sees them."""
    assert stack.key_a.access_key_id != stack.key_b.access_key_id
    for key, account, user in (
        (stack.key_a, ACCOUNT_A, "test_user_A"),
        (stack.key_b, ACCOUNT_B, "test_user_B"),
    ):
        assert key.arn == f"arn:aws:iam::{account}:user/{user}"
        env = {**env_keys(key), "AWS_DEFAULT_REGION": stsd.REGION}  # an empty HOME
        run = aws(stack, tmp_path, GET_CALLER_IDENTITY, shim=None, env=env)
        assert run.identity() == (account, key.arn)


def test_the_cli_interpreter_refuses_non_loopback(stack: Stack, home: Path) -> None:
    """The guard on PYTHONPATH is active in the real aws: an endpoint outside loopback is
    refused before any packet leaves (192.0.2.1 is TEST-NET-1). The patch is seen in place in
    the CLI's interpreter first, so that a missing guard fails here without trying to connect."""
    with open(REAL_AWS, "rb") as fh:
        interpreter = fh.readline().decode().removeprefix("#!").split()[0]
    env = stsd.cli_environment(home, stack.server, path=SYSTEM_PATH, guard=stack.guard)
    check = "import socket; print(socket.getaddrinfo.__module__, socket.socket.connect.__module__)"
    seen = subprocess.run(
        [interpreter, "-c", check], env=env, capture_output=True, text=True, check=False
    )
    assert seen.stdout.split() == ["sitecustomize", "sitecustomize"], seen
    before = stack.requests_served()
    run = aws(
        stack,
        home,
        [*GET_CALLER_IDENTITY, "--profile", PROFILE, "--cli-connect-timeout", "2"],
        shim=None,
        env={"AWS_ENDPOINT_URL_STS": "http://192.0.2.1:9"},
    )
    assert run.returncode != 0
    assert stsd.GUARD_MARKER in run.err, run.err
    assert stack.requests_served() == before


# ----------------------------------------------------------------------------------------------
# The field report
# ----------------------------------------------------------------------------------------------

PROFILE_BY = {
    "--profile": ((*GET_CALLER_IDENTITY, "--profile", PROFILE), {}),
    "AWS_PROFILE": (GET_CALLER_IDENTITY, {"AWS_PROFILE": PROFILE}),
}


@pytest.mark.parametrize("how", PROFILE_BY)
def test_without_the_shim_the_keys_silently_win(stack: Stack, home: Path, how: str) -> None:
    args, env = PROFILE_BY[how]
    run = aws(stack, home, args, shim=None, env=env)
    assert run.identity() == (ACCOUNT_A, stack.key_a.arn)
    assert run.stderr == b""  # silent: nothing says the login session was ignored
    remove_profile_keys(home)
    fixed = aws(stack, home, args, shim=None, env=env)
    assert fixed.identity() == (ACCOUNT_B, stack.key_b.arn)


@pytest.mark.parametrize("how", PROFILE_BY)
def test_the_shim_blocks_the_wrong_identity(
    stack: Stack, shim_dir: Path, home: Path, how: str
) -> None:
    args, env = PROFILE_BY[how]
    before = stack.requests_served()
    run = aws(stack, home, args, shim=shim_dir, env=env)
    assert_blocked(stack, run)
    assert stack.requests_served() == before, "the real aws ran although the shim blocked"
    # What will be used, and where: the credentials file and a line of its [test_user] section.
    credentials = home / ".aws" / "credentials"
    lines = {int(n) for n in re.findall(r"credentials:(\d+)", run.err)}
    assert lines, f"no credentials file:line in\n{run.err}"
    assert lines <= section_lines(credentials, PROFILE), (lines, run.err)


def test_awsguard_off_passes_straight_through(stack: Stack, shim_dir: Path, home: Path) -> None:
    args = (*GET_CALLER_IDENTITY, "--profile", PROFILE)
    plain = aws(stack, home, args, shim=None)
    before = stack.requests_served()
    run = aws(stack, home, args, shim=shim_dir, env={"AWSGUARD": "off"})
    assert run.identity() == (ACCOUNT_A, stack.key_a.arn)
    assert stack.requests_served() > before  # the control of every "no request reached STS"
    assert run.stdout == plain.stdout
    assert run.stderr == b""


def test_warn_mode_runs_the_keys_and_warns(stack: Stack, shim_dir: Path, home: Path) -> None:
    args = (*GET_CALLER_IDENTITY, "--profile", PROFILE)
    plain = aws(stack, home, args, shim=None)
    run = aws(stack, home, args, shim=shim_dir, env={"AWSGUARD_MODE": "warn"})
    assert run.identity() == (ACCOUNT_A, stack.key_a.arn)
    assert run.stdout == plain.stdout  # stdout is the CLI's JSON, nothing else
    assert ACCOUNT_A in run.err and ACCOUNT_B in run.err, run.err
    assert_no_secrets(stack, run.err)


@pytest.mark.parametrize("how", PROFILE_BY)
def test_after_the_fix_the_login_session_runs_and_awsguard_is_silent(
    stack: Stack, shim_dir: Path, home: Path, how: str
) -> None:
    args, env = PROFILE_BY[how]
    remove_profile_keys(home)
    run = aws(stack, home, args, shim=shim_dir, env=env)
    assert run.identity() == (ACCOUNT_B, stack.key_b.arn)
    assert run.stderr == b"", run.err


def test_stdout_is_byte_identical_through_the_shim(
    stack: Stack, shim_dir: Path, home: Path
) -> None:
    remove_profile_keys(home)
    for output in ("json", "text", "table"):
        args = ("sts", "get-caller-identity", "--profile", PROFILE, "--output", output)
        plain = aws(stack, home, args, shim=None)
        run = aws(stack, home, args, shim=shim_dir)
        assert plain.returncode == 0, plain.err
        assert stack.key_b.arn.encode() in plain.stdout
        assert (run.returncode, run.stdout, run.stderr) == (0, plain.stdout, plain.stderr)


# ----------------------------------------------------------------------------------------------
# Environment keys
# ----------------------------------------------------------------------------------------------


def test_aws_profile_with_env_keys_is_caught(stack: Stack, shim_dir: Path, home: Path) -> None:
    """AWS_PROFILE names the logged-in profile, but exported keys of A come first in the chain:
    the CLI runs as A. The login session is shadowed (by the environment this time)."""
    remove_profile_keys(home)
    env = {"AWS_PROFILE": PROFILE, **env_keys(stack.key_a)}
    plain = aws(stack, home, GET_CALLER_IDENTITY, shim=None, env=env)
    assert plain.identity() == (ACCOUNT_A, stack.key_a.arn)
    before = stack.requests_served()
    blocked = aws(stack, home, GET_CALLER_IDENTITY, shim=shim_dir, env=env)
    assert_blocked(stack, blocked)
    assert "AWS_ACCESS_KEY_ID" in blocked.err, blocked.err
    assert stack.requests_served() == before
    warned = aws(
        stack, home, GET_CALLER_IDENTITY, shim=shim_dir, env={**env, "AWSGUARD_MODE": "warn"}
    )
    assert warned.identity() == (ACCOUNT_A, stack.key_a.arn)
    assert warned.stdout == plain.stdout
    assert "AWS_ACCESS_KEY_ID" in warned.err and ACCOUNT_B in warned.err, warned.err


def test_profile_option_with_env_keys_is_not_flagged(
    stack: Stack, shim_dir: Path, home: Path
) -> None:
    """--profile makes the CLI drop the environment keys: the login session (B) runs."""
    remove_profile_keys(home)
    args = (*GET_CALLER_IDENTITY, "--profile", PROFILE)
    env = env_keys(stack.key_a)
    plain = aws(stack, home, args, shim=None, env=env)
    assert plain.identity() == (ACCOUNT_B, stack.key_b.arn)
    run = aws(stack, home, args, shim=shim_dir, env=env)
    assert run.identity() == (ACCOUNT_B, stack.key_b.arn)
    assert run.stderr == b"", run.err


def _add_static_profile(home: Path, key: AccessKey, name: str) -> None:
    """Profile ``name``: ``key`` in the credentials file, a region in the config, no login."""
    with open(home / ".aws" / "credentials", "a") as fh:
        fh.write("\n" + stsd.credentials_text(key, name))
    with open(home / ".aws" / "config", "a") as fh:
        fh.write(f"\n[profile {name}]\nregion = {stsd.REGION}\n")


def test_env_keys_override_a_named_profile_with_a_warning(
    stack: Stack, shim_dir: Path, home: Path
) -> None:
    """No login involved: AWS_PROFILE names a profile with B's keys, the environment holds A's.
    The CLI runs as A; the shim lets it run (env-overrides-profile warns) and says so."""
    _add_static_profile(home, stack.key_b, "keys_b")
    env = {"AWS_PROFILE": "keys_b", **env_keys(stack.key_a)}
    plain = aws(stack, home, GET_CALLER_IDENTITY, shim=None, env=env)
    assert plain.identity() == (ACCOUNT_A, stack.key_a.arn)
    run = aws(stack, home, GET_CALLER_IDENTITY, shim=shim_dir, env=env)
    assert run.identity() == (ACCOUNT_A, stack.key_a.arn)
    assert run.stdout == plain.stdout
    assert "AWS_PROFILE" in run.err and "keys_b" in run.err, run.err
    assert_no_secrets(stack, run.err)
    # The control: --profile keys_b drops the environment keys; B runs and nothing is said.
    args = (*GET_CALLER_IDENTITY, "--profile", "keys_b")
    quiet = aws(stack, home, args, shim=shim_dir, env=env_keys(stack.key_a))
    assert quiet.identity() == (ACCOUNT_B, stack.key_b.arn)
    assert quiet.stderr == b"", quiet.err


# ----------------------------------------------------------------------------------------------
# Pass-through: exit codes, bootstrap commands, finding the real aws
# ----------------------------------------------------------------------------------------------

FAILING = {
    "unknown option": ("sts", "get-caller-identity", "--no-such-option"),
    "unknown command": ("no-such-command",),
    "missing argument": ("sts", "assume-role"),
    "api error": ("iam", "get-user", "--user-name", "nobody"),
    "unknown profile": ("sts", "get-caller-identity", "--profile", "no-such-profile"),
}


@pytest.mark.parametrize("case", FAILING)
def test_exit_codes_of_the_real_aws_pass_through(
    stack: Stack, shim_dir: Path, home: Path, case: str
) -> None:
    remove_profile_keys(home)
    args = FAILING[case]
    if "--profile" not in args:
        args = (*args, "--profile", PROFILE)
    plain = aws(stack, home, args, shim=None)
    assert plain.returncode not in (0, BLOCKED), plain.err
    run = aws(stack, home, args, shim=shim_dir)
    assert run.returncode == plain.returncode, (run.err, plain.err)
    assert run.stdout == plain.stdout
    # The CLI's own message arrives unchanged. awsguard has nothing to say about a command that
    # is allowed; only for a profile that does not exist may it add lines before the CLI's.
    if case == "unknown profile":
        assert run.stderr.endswith(plain.stderr), (run.err, plain.err)
    else:
        assert run.stderr == plain.stderr, (run.err, plain.err)


@pytest.mark.parametrize(
    "args", [("--version",), ("configure", "list", "--profile", PROFILE)], ids=" ".join
)
def test_bootstrap_commands_are_never_judged(
    stack: Stack, shim_dir: Path, home: Path, args: tuple[str, ...]
) -> None:
    """`aws --version` and `aws configure …` run even while the profile would be blocked."""
    plain = aws(stack, home, args, shim=None)
    assert plain.returncode == 0, plain.err
    run = aws(stack, home, args, shim=shim_dir)
    assert (run.returncode, run.stdout) == (0, plain.stdout), run.err
    if args[0] == "configure":
        assert b"shared-credentials-file" in plain.stdout  # the keys are still in place


def test_awsguard_aws_points_at_the_real_cli(stack: Stack, shim_dir: Path, home: Path) -> None:
    """With the real aws off PATH, AWSGUARD_AWS names it; the shim still judges and runs it."""
    path = [shim_dir, *SYSTEM_PATH]
    assert shutil.which("aws", path=os.pathsep.join(map(str, SYSTEM_PATH))) is None
    args = (*GET_CALLER_IDENTITY, "--profile", PROFILE)
    blocked = aws(stack, home, args, shim=shim_dir, path=path, env={"AWSGUARD_AWS": str(REAL_AWS)})
    assert_blocked(stack, blocked)
    remove_profile_keys(home)
    run = aws(stack, home, args, shim=shim_dir, path=path, env={"AWSGUARD_AWS": str(REAL_AWS)})
    assert run.identity() == (ACCOUNT_B, stack.key_b.arn)
    assert run.stderr == b"", run.err


def test_no_real_aws_exits_127(stack: Stack, shim_dir: Path, home: Path) -> None:
    remove_profile_keys(home)
    path = [shim_dir, *SYSTEM_PATH]
    assert shutil.which("aws", path=os.pathsep.join(map(str, SYSTEM_PATH))) is None
    before = stack.requests_served()
    run = aws(stack, home, (*GET_CALLER_IDENTITY, "--profile", PROFILE), shim=shim_dir, path=path)
    assert run.returncode == NO_REAL_AWS, run.err
    assert run.stdout == b""
    assert run.err.startswith("awsguard"), run.err
    assert stack.requests_served() == before


def test_a_credential_process_that_calls_aws_through_the_shim(
    stack: Stack, shim_dir: Path, home: Path
) -> None:
    """aws/aws-cli#4469, segmentio/aws-okta PR #260 (docs/hostile-inputs.md §2): a credential_process
    runs inside the CLI and calls `aws` again, which is the shim again (PATH is inherited). The
    inner shim must run its call (re-entrant, bounded) and the outer one must get the process's
    JSON untouched: the outer call runs as B, from the process's credentials."""
    _add_static_profile(home, stack.key_b, "keys_b")
    process_json = home / "process.json"
    process_json.write_text(
        json.dumps(
            {
                "Version": 1,
                "AccessKeyId": stack.key_b.access_key_id,
                "SecretAccessKey": stack.key_b.secret_access_key,
            }
        )
    )
    inner = home / "inner.json"
    script = home / "process.sh"
    which = home / "which.txt"
    script.write_text(
        "#!/bin/sh\n"
        f"command -v aws > '{which}'\n"
        f"aws sts get-caller-identity --output json --profile keys_b > '{inner}' || exit 1\n"
        f"exec /bin/cat '{process_json}'\n"
    )
    script.chmod(0o700)
    with open(home / ".aws" / "config", "a") as fh:
        fh.write(
            f"\n[profile via_process]\nregion = {stsd.REGION}\ncredential_process = {script}\n"
        )
    args = (*GET_CALLER_IDENTITY, "--profile", "via_process")
    run = aws(stack, home, args, shim=shim_dir)
    assert run.identity() == (ACCOUNT_B, stack.key_b.arn)
    assert run.stderr == b"", run.err
    assert which.read_text().strip() == str(shim_dir / "aws")  # the inner aws was the shim
    assert json.loads(inner.read_text())["Arn"] == stack.key_b.arn


def test_the_real_aws_is_found_past_copies_links_and_relative_entries(
    stack: Stack, shim_dir: Path, home: Path
) -> None:
    """docs/hostile-inputs.md §2 (asdf#2166, pyenv#2696, mise PR #10982, Go os/exec): PATH holds the
    shim's directory again through a symlink, a copy of the launcher, a hard link to it, and the
    empty, ``.`` and relative entries, each of which (from the working directory) offers an
    executable ``aws`` that must never run. The shim skips all of them and runs the venv's aws."""
    remove_profile_keys(home)
    decoys = home / "decoys"
    linked, copied, hardlinked, relative = (
        decoys / "linked",
        decoys / "copied",
        decoys / "hardlinked",
        home / "rel" / "bin",
    )
    for directory in (copied, hardlinked, relative):
        directory.mkdir(parents=True)
    linked.symlink_to(shim_dir, target_is_directory=True)
    shutil.copy2(shim_dir / "aws", copied / "aws")
    os.link(shim_dir / "aws", hardlinked / "aws")
    ran = home / "decoy-ran"
    for fake in (home / "aws", relative / "aws"):  # reached through "", "." and "rel/bin"
        fake.write_text(f"#!/bin/sh\necho \"$0\" >> '{ran}'\nexit 42\n")
        fake.chmod(0o755)
    # The control: a shell's own PATH search does run the decoys.
    for entry in ("", ".", "rel/bin"):
        control = subprocess.run(
            ["/bin/sh", "-c", "aws"],
            env={"PATH": f"{entry}:/usr/bin:/bin"},
            cwd=home,
            capture_output=True,
            timeout=HANG_GUARD,
            check=False,
        )
        assert control.returncode == 42 and ran.exists(), (entry, control)
        ran.unlink()
    path = [shim_dir, linked, copied, hardlinked, "", ".", "rel/bin", VENV_BIN, *SYSTEM_PATH]
    run = aws(stack, home, (*GET_CALLER_IDENTITY, "--profile", PROFILE), shim=shim_dir, path=path)
    assert run.identity() == (ACCOUNT_B, stack.key_b.arn)
    assert not ran.exists(), ran.read_text()
