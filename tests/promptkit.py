"""Real shells for the prompt tests: required tools, a sandbox HOME, and a tmux driver.

A tool that is missing skips its tests on a workstation and fails them under ``CI=true``, so a
CI image that lost zsh cannot turn the shell tests into silent skips.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from awsguard.commands import init  # noqa: E402

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Only a hang guard: how long a prompt may take on a busy 2-core CI machine before a test gives
# up and shows the screen.  Nothing is decided by it.
HANG_GUARD = 90.0
# What a Shell sends to the terminal (OSC 7, which tmux keeps as the pane's path) once it has
# drawn prompt number n completely: DRAWN + n.
DRAWN = "file://awsguard-test/drawn/"
# A login session good for two days: its countdown does not tick during a test.
LOGIN_ARN = "arn:aws:iam::999999999999:user/test_user_B"


def need(tool: str) -> str:
    """The path of ``tool``; skip without it, or fail under CI=true."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (apt-get install {tool})"
        if CI:
            pytest.fail(message + " - required under CI=true")
        pytest.skip(message)
    return path


def login_cache(
    home: Path, arn: str = LOGIN_ARN, hours: float = 48.0, now: float | None = None
) -> Path:
    """A cached `aws login` token for ``arn`` expiring ``hours`` after ``now``, as the CLI
    writes it (tests/logincache.py)."""
    import logincache

    start = time.time() if now is None else now
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + hours * 3600))
    doc = logincache.document(
        "999999999999",
        access_key_id="ASIAEXAMPLEEXAMPLE00",
        secret_access_key="x",
        session_token="x",
        expires_at=expires,
        refresh_token="x",
    )
    return logincache.write(home, arn, doc)


class Sandbox:
    """A private HOME with ~/.aws files, and the integration rendered with a counting Python.

    Every run of the fast path goes through ``bin/python``, a wrapper that appends a line to
    ``count`` and execs the real interpreter: the tests count recomputations without any test
    hook in awsguard itself.
    """

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        self.aws = self.home / ".aws"
        self.aws.mkdir(parents=True)
        self.work = tmp / "work"  # the shells' working directory
        self.work.mkdir()
        self.config = self.aws / "config"
        self.credentials = self.aws / "credentials"
        self.config.write_text(
            "[profile dev]\nregion = eu-west-1\n"
            f"login_session = {LOGIN_ARN}\n"
            "[profile other]\nregion = us-east-1\n"
            f"login_session = {LOGIN_ARN}\n"
        )
        self.credentials.write_text("")
        login_cache(self.home)
        self.count_file = tmp / "count"
        self.count_file.write_text("")
        bindir = tmp / "bin"
        bindir.mkdir()
        self.python = bindir / "python"
        self.python.write_text(
            "#!/bin/sh\n"
            f"echo run >> {shlex.quote(str(self.count_file))}\n"
            f'exec {shlex.quote(sys.executable)} "$@"\n'
        )
        self.python.chmod(0o755)
        self.shim_dir = tmp / "shimbin"
        self.shim_dir.mkdir()

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "HOME": str(self.home),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "AWS_EC2_METADATA_DISABLED": "true",
            "XDG_CACHE_HOME": str(self.tmp / "cache"),
        }
        env.update(extra)
        return env

    def script(self, shell: str) -> Path:
        path = self.tmp / f"init.{shell}"
        if not path.exists():
            text = init.render(
                shell, bin_dir=str(self.shim_dir), python=str(self.python), root=str(ROOT)
            )
            path.write_text(text)
        return path

    def count(self) -> int:
        return len(self.count_file.read_text().splitlines())

    def add_keys(self, profile: str) -> None:
        """Append static keys for ``profile`` to the credentials file (bumps its mtime)."""
        with self.credentials.open("a") as fh:
            fh.write(
                f"[{profile}]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                "aws_secret_access_key = x\n"
            )


class Term:
    """One interactive shell in a private tmux server, read back with ``capture-pane``."""

    WIDTH = 160
    HEIGHT = 40

    def __init__(self, tmp: Path, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.tmux = need("tmux")
        self.socket = str(tmp / "tmux.sock")
        self.env = env
        command = " ".join(shlex.quote(a) for a in argv)
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            str(self.WIDTH),
            "-y",
            str(self.HEIGHT),
            "-c",
            str(cwd),
            command,
        )
        self._tmux("set-option", "-g", "remain-on-exit", "on")

    def _tmux(self, *args: str) -> str:
        out = subprocess.run(
            [self.tmux, "-S", self.socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        )
        return out.stdout

    def send(self, text: str, enter: bool = True) -> None:
        if text:
            self._tmux("send-keys", "-l", text)
        if enter:
            self._tmux("send-keys", "Enter")

    def screen(self) -> list[str]:
        return self._tmux("capture-pane", "-p", "-J").splitlines()

    def cursor(self) -> tuple[int, int]:
        x, y = self._tmux("display-message", "-p", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def drawn(self) -> str:
        """The last prompt-drawn marker the shell sent (see ``Shell``), or ``""``."""
        path = self._tmux("display-message", "-p", "#{pane_path}").strip()
        return path[len(DRAWN) :] if path.startswith(DRAWN) else ""

    def wait_prompt(self, n: int, timeout: float = HANG_GUARD, marked: bool = False) -> str:
        """The screen line of prompt number ``n`` (the rc files end each prompt's own part with
        ``<n>> ``), once it is drawn completely; fails with the screen if it never is.

        ``marked``: the shell sends the marker ``DRAWN<n>`` once it has drawn prompt ``n``
        completely (zsh's zle-line-init, see ``Shell``), and tmux reads a pane's output in order:
        when the marker is in, so is every byte of the prompt before it.  zsh needs it: it writes
        the left prompt and RPROMPT in two writes, and a busy machine can show ``4> `` alone for a
        while, through any number of identical captures.  Unmarked (a bare ``Term``), two
        captures in a row that agree stand in for it."""
        mark = re.compile(rf"(^| ){n}> ")
        deadline = time.monotonic() + timeout
        while True:
            # The marker first, the screen after: a capture taken after the marker holds the
            # whole prompt.
            done = self.drawn() == str(n) if marked else True
            lines = self.screen()
            found = next((line for line in reversed(lines) if mark.search(line)), None)
            if found is not None and done and (marked or self.screen() == lines):
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"hang guard: prompt {n} never appeared (drawn marker: {self.drawn()!r}); "
                    "screen:\n" + "\n".join(lines)
                )
            time.sleep(0.03)

    def close(self) -> None:
        subprocess.run(
            [self.tmux, "-S", self.socket, "kill-server"],
            env=self.env,
            capture_output=True,
            check=False,
            timeout=20,
        )


class Shell:
    """An interactive zsh or bash in tmux, set up by an rc file; prompts are numbered."""

    def __init__(
        self,
        sandbox: Sandbox,
        shell: str,
        *,
        rc_before: str = "",
        rc_after: str = "",
        env: dict[str, str] | None = None,
        strace_log: Path | None = None,
        init_line: str | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.shell = shell
        self.n = 0
        binary = need(shell)
        rcdir = sandbox.tmp / f"rc-{shell}"
        rcdir.mkdir(exist_ok=True)
        load = (
            init_line if init_line is not None else f". {shlex.quote(str(sandbox.script(shell)))}"
        )
        if shell == "zsh":
            # psvar carries the prompt number, so the left prompt needs no prompt_subst.
            # zle-line-init runs once zsh has written the left prompt and RPROMPT: it says so
            # with the DRAWN marker, through the terminal, after them (Term.wait_prompt).
            rc = (
                "_t_n=0\n_t_count() { (( _t_n++ )); psvar[1]=$_t_n; }\n"
                "precmd_functions+=(_t_count)\n"
                "PROMPT='%1v> '\nRPROMPT=''\n"
                f"zle-line-init() {{ print -rn -- $'\\e]7;{DRAWN}'$_t_n$'\\a'; }}\n"
                "zle -N zle-line-init\n"
            )
            (rcdir / ".zshrc").write_text(rc + rc_before + "\n" + load + "\n" + rc_after + "\n")
            argv = [binary, "-d", "-i"]
            extra = {"ZDOTDIR": str(rcdir)}
        else:
            rc = "_t_n=0\nPROMPT_COMMAND='_t_n=$((_t_n+1))'\nPS1='${_t_n}> '\n"
            (rcdir / "bashrc").write_text(rc + rc_before + "\n" + load + "\n" + rc_after + "\n")
            argv = [binary, "--noprofile", "--rcfile", str(rcdir / "bashrc"), "-i"]
            extra = {}
        if strace_log is not None:
            argv = [
                need("strace"),
                "-f",
                "-qq",
                "-e",
                "trace=fork,vfork,clone,clone3,execve",
                "-o",
                str(strace_log),
                *argv,
            ]
        full_env = sandbox.env(**extra)
        full_env.update(env or {})
        self.term = Term(sandbox.tmp, argv, full_env, sandbox.work)
        self.marked = shell == "zsh"
        try:
            self.line = self.term.wait_prompt(1, marked=self.marked)
        except BaseException:
            self.term.close()  # no tmux server outlives a failed start
            raise
        self.n = 1

    def run(self, command: str = "") -> str:
        """Type ``command`` and Enter; the line of the next prompt."""
        self.term.send(command)
        self.n += 1
        self.line = self.term.wait_prompt(self.n, marked=self.marked)
        return self.line

    def close(self) -> None:
        self.term.close()
