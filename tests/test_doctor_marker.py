"""Between runs of `awsguard doctor`: the prompt says when, in this shell, another `aws` has come
before the shim (a later pyenv/mise/conda activation), in real zsh and bash under tmux.

The shells find out without starting anything - zsh from ``$commands[aws]``, bash from its hash
table or a walk of PATH - so strace sees no fork and the counting Python wrapper no run of
awsguard while the marker comes and goes.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from promptkit import Sandbox, Shell, need

from awsguard.present.segment import PATH_MARKER

pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    sb = Sandbox(tmp_path)
    shim = sb.shim_dir / "aws"  # where the init line looks for its own shim
    shim.write_text("#!/bin/sh\nexit 0\n")
    shim.chmod(0o755)
    return sb


def other_aws(tmp: Path) -> Path:
    directory = tmp / "pyenv" / "shims"
    directory.mkdir(parents=True)
    (directory / "aws").write_text("#!/bin/sh\nexit 0\n")
    (directory / "aws").chmod(0o755)
    return directory


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_marker_follows_path_without_a_process(
    sandbox: Sandbox, shell: str, tmp_path: Path
) -> None:
    other = other_aws(tmp_path)
    log = tmp_path / "strace.log"
    need("strace")
    sh = Shell(sandbox, shell, rc_before="export AWS_PROFILE=dev", strace_log=log)
    try:
        line = sh.run()
        assert "aws:dev login" in line and PATH_MARKER not in line
        shell_pid = log.read_text().split(" ", 1)[0]

        def forks() -> int:
            pattern = re.compile(rf"^{shell_pid} +(clone|clone3|fork|vfork)\(", re.M)
            return len(pattern.findall(log.read_text()))

        before = (forks(), sandbox.count())
        line = sh.run(f"PATH={shlex.quote(str(other))}:$PATH")
        assert "aws:dev login" in line and PATH_MARKER in line, line
        line = sh.run()  # it stays while the other aws is first
        assert PATH_MARKER in line
        line = sh.run("PATH=${PATH#*:}")  # the activation undone
        assert "aws:dev login" in line and PATH_MARKER not in line, line
        assert (forks(), sandbox.count()) == before
    finally:
        sh.close()


@pytest.mark.parametrize(
    ("shell", "pin"),
    [("zsh", "hash aws={}"), ("bash", "hash -p {} aws")],
)
def test_marker_reads_the_shells_own_command_table(
    sandbox: Sandbox, shell: str, pin: str, tmp_path: Path
) -> None:
    """A command hashed to another aws is what the shell runs, whatever PATH says."""
    other = other_aws(tmp_path) / "aws"
    sh = Shell(sandbox, shell, rc_before="export AWS_PROFILE=dev")
    try:
        assert PATH_MARKER not in sh.run()
        assert PATH_MARKER in sh.run(pin.format(shlex.quote(str(other))))
        assert PATH_MARKER not in sh.run("hash -r")  # negative control: the table forgotten
    finally:
        sh.close()


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_marker_shows_even_when_the_segment_is_hidden(
    sandbox: Sandbox, shell: str, tmp_path: Path
) -> None:
    other = other_aws(tmp_path)
    sh = Shell(sandbox, shell)
    try:
        line = sh.run()
        assert "aws:" not in line and PATH_MARKER not in line  # nothing AWS in play
        line = sh.run(f"PATH={shlex.quote(str(other))}:$PATH")
        assert PATH_MARKER in line and "aws:" not in line
    finally:
        sh.close()


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_marker_is_in_the_variable_for_custom_prompts(
    sandbox: Sandbox, shell: str, tmp_path: Path
) -> None:
    other = other_aws(tmp_path)
    sh = Shell(
        sandbox,
        shell,
        rc_before="export AWS_PROFILE=dev\nexport AWSGUARD_PROMPT_AUTO=0",
    )
    try:
        assert PATH_MARKER not in sh.run()  # the prompt itself is left alone...
        sh.run(f"PATH={shlex.quote(str(other))}:$PATH")
        show = 'printf "<%s>\\n" "$AWSGUARD_PROMPT"'
        sh.run(show)
        screen = "\n".join(sh.term.screen())
        assert re.search(r"<aws:dev login .*" + re.escape(PATH_MARKER), screen), screen
    finally:
        sh.close()
