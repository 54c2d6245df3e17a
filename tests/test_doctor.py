"""`awsguard doctor`: the checklist, in real shells and real environments.

Interactive zsh and bash (tmux, tests/promptkit.py) with and without `eval "$(awsguard init …)"`
run `awsguard doctor --json` themselves, so "first on PATH in this shell" and "the prompt hook is
active here" are about the very shell that started doctor.  The other shells doctor starts
(`sh -c`, `bash -c`, `zsh -c`, login shells, `env -i`, cron-like) are steered through their real
startup files in a sandbox HOME.  Every positive check has a negative control.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from promptkit import Sandbox, Shell, login_cache, need

pytestmark = pytest.mark.slow

VENV_BIN = Path(sys.executable).parent
AWSGUARD = VENV_BIN / "awsguard"
SECRET = "doctorTestSecretNeverPrinted000000000000"
HANG_GUARD = 120


class Home:
    """A sandbox HOME with the shim installed (AWSGUARD_HOME inside it) and tidy AWS files."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        (self.home / ".aws").mkdir(parents=True)
        (self.home / ".aws").chmod(0o700)
        self.config = self.home / ".aws" / "config"
        self.credentials = self.home / ".aws" / "credentials"
        self.config.write_text("[profile dev]\nregion = eu-west-1\n")
        self.credentials.write_text(
            f"[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {SECRET}\n"
        )
        self.credentials.chmod(0o600)
        self.agh = tmp / "awsguard-home"
        self.shim_dir = self.agh / "bin"
        done = subprocess.run(
            [str(AWSGUARD), "install"],
            env={"HOME": str(self.home), "PATH": "/usr/bin:/bin", "AWSGUARD_HOME": str(self.agh)},
            capture_output=True,
            text=True,
            timeout=HANG_GUARD,
            check=True,
        )
        assert done.stdout.strip() == str(self.shim_dir)

    def env(self, path: list[Path | str] | None = None, **extra: str) -> dict[str, str]:
        dirs = path if path is not None else [self.shim_dir, VENV_BIN, "/usr/bin", "/bin"]
        env = {
            "HOME": str(self.home),
            "PATH": os.pathsep.join(str(p) for p in dirs),
            "LANG": "C.UTF-8",
            "SHELL": "/bin/zsh",
            "AWSGUARD_HOME": str(self.agh),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        env.update(extra)
        return env

    def stub_aws(self, name: str, version: str = "2.31.0") -> Path:
        """Another `aws` in its own directory: prints a v2 version line, nothing else."""
        directory = self.tmp / name
        directory.mkdir(exist_ok=True)
        stub = directory / "aws"
        stub.write_text(
            f"#!/bin/sh\necho 'aws-cli/{version} Python/3.13.7 Linux/6.8.0 exe/x86_64'\n"
        )
        stub.chmod(0o755)
        return directory


def doctor(h: Home, env: dict[str, str]) -> tuple[int, dict[str, object], str]:
    done = subprocess.run(
        [str(AWSGUARD), "doctor", "--json"],
        env=env,
        cwd=h.home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert SECRET not in done.stdout + done.stderr
    text = subprocess.run(
        [str(AWSGUARD), "doctor"],
        env=env,
        cwd=h.home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert text.returncode == done.returncode
    assert SECRET not in text.stdout + text.stderr
    return done.returncode, json.loads(done.stdout), text.stdout


def checks(doc: dict[str, object], id: str) -> list[dict[str, str]]:
    found = [c for c in doc["checks"] if c["id"] == id]  # type: ignore[attr-defined,index]
    assert found, f"no {id} check in {[c['id'] for c in doc['checks']]}"  # type: ignore[attr-defined,index]
    return found


def status(doc: dict[str, object], id: str) -> str:
    (check,) = checks(doc, id)
    return check["status"]


@pytest.fixture
def h(tmp_path: Path) -> Home:
    need("zsh")
    need("bash")
    return Home(tmp_path)


# ---------------------------------------------------------------------------------------------
# A tidy set-up, then one thing broken at a time
# ---------------------------------------------------------------------------------------------


def test_a_tidy_setup_has_no_broken_line(h: Home) -> None:
    code, doc, text = doctor(h, h.env())
    failed = [c for c in doc["checks"] if c["status"] == "fail"]  # type: ignore[attr-defined]
    assert code == 0 and failed == [], failed
    for id in ("shim-installed", "shim-current", "shim-executable", "path-here", "path-sh"):
        assert status(doc, id) == "ok", id
    assert status(doc, "private-credentials") == "ok"
    assert "✓ first on PATH in this shell" in text
    assert text.rstrip().endswith("0 broken")


def test_shim_second_on_path(h: Home) -> None:
    other = h.stub_aws("other")
    code, doc, text = doctor(h, h.env(path=[other, h.shim_dir, VENV_BIN, "/usr/bin", "/bin"]))
    assert code == 1
    (here,) = checks(doc, "path-here")
    assert here["status"] == "fail" and f"{other}/aws comes before the shim" in here["message"]
    assert 'eval "$(awsguard init zsh)"' in here["fix"]
    assert status(doc, "path-sh") == "fail"  # a child shell inherits the same PATH
    assert "✗" in text and "fix:" in text


def test_shim_missing_or_stale(h: Home) -> None:
    shim = h.shim_dir / "aws"
    shim.write_bytes(shim.read_bytes().replace(b"awsguard 0", b"awsguard 9"))
    code, doc, _ = doctor(h, h.env())
    assert status(doc, "shim-current") == "warn"
    shim.chmod(0o644)
    code, doc, _ = doctor(h, h.env())
    assert code == 1 and status(doc, "shim-executable") == "fail"
    shim.unlink()
    code, doc, _ = doctor(h, h.env())
    assert code == 1 and status(doc, "shim-installed") == "fail"
    assert "awsguard install" in checks(doc, "shim-installed")[0]["fix"]


def test_two_clis_and_an_old_v2(h: Home) -> None:
    first = h.stub_aws("old-v2", "2.32.5")
    _, doc, _ = doctor(h, h.env(path=[h.shim_dir, first, VENV_BIN, "/usr/bin", "/bin"]))
    (found,) = checks(doc, "cli-found")
    assert found["status"] == "ok" and "aws-cli 2.32.5 (v2)" in found["message"]
    (login,) = checks(doc, "cli-login")
    assert login["status"] == "warn" and "older than 2.32.32" in login["message"]
    (second,) = checks(doc, "cli-second")
    assert second["status"] == "warn" and str(VENV_BIN / "aws") in second["message"]
    # Negative controls: one CLI only, and a v2 that refuses at `aws login`.
    new = h.stub_aws("new-v2", "2.33.1")
    _, doc, _ = doctor(h, h.env(path=[h.shim_dir, new, "/usr/bin", "/bin"]))
    assert status(doc, "cli-second") == "ok"
    assert status(doc, "cli-login") == "ok"


def test_startup_files_of_other_shells(h: Home) -> None:
    other = h.stub_aws("other")
    # zsh reads ~/.zshenv for every zsh, even `zsh -c`; bash -l reads ~/.bash_profile.
    (h.home / ".zshenv").write_text(f"path=({shlex.quote(str(other))} $path)\n")
    (h.home / ".bash_profile").write_text(f"PATH={shlex.quote(str(other))}:$PATH\n")
    code, doc, _ = doctor(h, h.env())
    assert code == 1
    (zsh_c,) = checks(doc, "path-zsh")
    assert zsh_c["status"] == "fail" and ".zshenv" in zsh_c["fix"]
    (bash_l,) = checks(doc, "path-bash-login")
    assert bash_l["status"] == "warn" and "~/.bash_profile" in bash_l["fix"]
    assert status(doc, "path-sh") == "ok" and status(doc, "path-bash") == "ok"
    # cron and env -i see no aws at all here: nothing runs unguarded.
    assert status(doc, "path-cron") == "ok" and status(doc, "path-env-i") == "ok"


def test_a_hanging_startup_file_is_cut_short(h: Home) -> None:
    (h.home / ".zshenv").write_text("sleep 600\n")
    _, doc, _ = doctor(h, h.env())
    (zsh_c,) = checks(doc, "path-zsh")
    assert zsh_c["status"] == "warn" and "did not answer in time" in zsh_c["message"]


def test_files_that_do_not_parse_name_line_and_reason_only(h: Home) -> None:
    h.config.write_text(f"[profile dev]\nregion = x\nsecret = {SECRET}\nsecret = again\n")
    code, doc, _ = doctor(h, h.env())
    assert code == 1
    (parse,) = checks(doc, "parse-config")
    assert parse["status"] == "fail"
    assert parse["message"].startswith("~/.aws/config:4: duplicate option")
    assert status(doc, "parse-credentials") == "ok"
    assert "not checked" in checks(doc, "profiles")[0]["message"]


@pytest.mark.parametrize(("mode", "want"), [(0o600, "ok"), (0o640, "warn"), (0o644, "fail")])
def test_credentials_readable_by_others(h: Home, mode: int, want: str) -> None:
    h.credentials.chmod(mode)
    code, doc, _ = doctor(h, h.env())
    assert status(doc, "private-credentials") == want
    assert (code == 1) == (want == "fail")


def test_writable_cache_and_config(h: Home) -> None:
    cache = h.home / ".aws" / "login" / "cache"
    cache.mkdir(parents=True)
    code, doc, _ = doctor(h, h.env())
    assert status(doc, "dir-login-cache") == "ok"
    cache.chmod(0o777)
    h.config.chmod(0o666)
    code, doc, _ = doctor(h, h.env())
    assert code == 1
    assert status(doc, "dir-login-cache") == "fail"
    (writable,) = checks(doc, "writable-config")
    assert writable["status"] == "fail" and writable["fix"] == "chmod go-w ~/.aws/config"


def test_awsguards_own_cache(h: Home) -> None:
    own = h.home / ".cache" / "awsguard"
    own.mkdir(parents=True, exist_ok=True)
    # A file of awsguard's that no run rewrites (a rewrite would make it private again).
    (own / "old.marshal").write_bytes(b"x")
    _, doc, _ = doctor(h, h.env())
    assert status(doc, "own-cache") == "ok"
    (own / "old.marshal").chmod(0o666)
    code, doc, _ = doctor(h, h.env())
    assert code == 1 and status(doc, "own-cache") == "fail"
    assert "old.marshal is writable by others" in checks(doc, "own-cache")[0]["message"]


def test_profiles_with_problems_and_the_policy(h: Home) -> None:
    arn = "arn:aws:iam::999999999999:user/test_user_B"
    h.config.write_text(f"[profile dev]\nregion = eu-west-1\nlogin_session = {arn}\n")
    policy = h.home / ".config" / "awsguard" / "config.toml"
    policy.parent.mkdir(parents=True)
    policy.write_text('[profiles.prod]\nexpect_account = "123456789012"\n')
    _code, doc, _ = doctor(h, h.env())
    (profile,) = checks(doc, "profile")
    assert profile["status"] == "fail" and "login-shadowed" in profile["message"]
    assert "delete aws_access_key_id" in profile["fix"]
    (named,) = checks(doc, "policy-profile")
    assert named["status"] == "warn" and "[profiles.prod]" in named["message"]
    policy.write_text('mode = "loud"\n')
    _, doc, _ = doctor(h, h.env())
    (valid,) = checks(doc, "policy-valid")
    assert valid["status"] == "fail" and "mode" in valid["message"]
    # Negative control: the profile's keys gone, its login token there, the policy sound.
    h.credentials.write_text("")
    login_cache(h.home, arn)
    policy.write_text('[profiles.dev]\nexpect_account = "999999999999"\n')
    _, doc, _ = doctor(h, h.env())
    assert status(doc, "profiles") == "ok" and status(doc, "policy-valid") == "ok"
    assert not [c for c in doc["checks"] if c["id"] == "policy-profile"]  # type: ignore[attr-defined]


def test_rc_files_that_run_init(h: Home) -> None:
    _code, doc, _ = doctor(h, h.env())
    assert status(doc, "rc-init") == "warn"
    (h.home / ".zshrc").write_text('export EDITOR=vi\n# eval "$(awsguard init zsh)" later\n')
    _, doc, _ = doctor(h, h.env())
    assert status(doc, "rc-init") == "warn"  # a comment does not count
    (h.home / ".zshrc").write_text('export EDITOR=vi\neval "$(awsguard init zsh)"\n')
    _, doc, _ = doctor(h, h.env())
    (rc,) = checks(doc, "rc-init")
    assert rc["status"] == "ok" and rc["message"] == "~/.zshrc:2 runs awsguard init"


# ---------------------------------------------------------------------------------------------
# Interactive shells: doctor run by the shell itself
# ---------------------------------------------------------------------------------------------


def in_shell(tmp: Path, shell: str, *, with_init: bool, after: str = "") -> dict[str, object]:
    """Start an interactive ``shell`` (with or without the init line), run doctor in it."""
    sandbox = Sandbox(tmp)
    agh = tmp / "awsguard-home"
    out = tmp / f"doctor-{shell}.json"
    env = {
        "AWSGUARD_HOME": str(agh),
        "SHELL": need(shell),
        "XDG_CONFIG_HOME": str(sandbox.home / ".config"),
    }
    init = f'eval "$({shlex.quote(str(AWSGUARD))} init {shell})"' if with_init else ":"
    term = Shell(
        sandbox,
        shell,
        rc_before=f"PATH={shlex.quote(str(VENV_BIN))}:$PATH",
        init_line=init,
        rc_after=after,
        env=env,
    )
    try:
        term.run(f"{shlex.quote(str(AWSGUARD))} doctor --json > {shlex.quote(str(out))}")
        term.run("")  # one more prompt: the file is complete
    finally:
        term.close()
    doc = json.loads(out.read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_interactive_shell_with_the_init_line(tmp_path: Path, shell: str) -> None:
    doc = in_shell(tmp_path, shell, with_init=True)
    assert status(doc, "path-here") == "ok"
    (hook,) = checks(doc, "prompt-hook")
    assert hook["status"] == "ok" and "active in this shell" in hook["message"]
    if shell == "zsh":  # ZDOTDIR/.zshrc is the rc file of the sandbox's zsh
        assert status(doc, "rc-init") == "ok"


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_interactive_shell_without_the_init_line(tmp_path: Path, shell: str) -> None:
    doc = in_shell(tmp_path, shell, with_init=False)
    assert status(doc, "prompt-hook") == "warn"
    assert status(doc, "rc-init") == "warn"
    assert doc["ok"] is False  # the shim is not installed: nothing guards this shell


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_interactive_shell_where_a_later_activation_comes_first(tmp_path: Path, shell: str) -> None:
    other = tmp_path / "pyenv-shims"
    other.mkdir()
    (other / "aws").write_text("#!/bin/sh\nexit 0\n")
    (other / "aws").chmod(0o755)
    doc = in_shell(tmp_path, shell, with_init=True, after=f"PATH={shlex.quote(str(other))}:$PATH")
    (here,) = checks(doc, "path-here")
    assert here["status"] == "fail" and "comes before the shim" in here["message"]
    assert status(doc, "prompt-hook") == "ok"
