"""The ``awsguard`` command line as a person meets it: help as written, usage errors that name
the fix, nothing on stdout that a script could mistake for output, completions that work."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from awsguard import app

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, home: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1", **env}
    if home is not None:
        environ["HOME"] = str(home)
        environ["AWS_EC2_METADATA_DISABLED"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "awsguard", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
        timeout=120,
    )


ROOT_APP = app.AwsGuard("awsguard")
COMMANDS = sorted(ROOT_APP._subcommands)


def test_every_command_is_listed():
    assert {"explain", "init", "install", "prompt", "fix", "verify", "status", "doctor"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_printed_as_written(command):
    cls = ROOT_APP._subcommands[command].get()
    doc = inspect.cleandoc(cls.__doc__)
    result = run(command, "--help")
    assert result.returncode == 0 and result.stderr == ""
    # Every line of the docstring stands in the help unchanged: examples are not run together.
    for line in doc.splitlines():
        assert line in result.stdout.splitlines(), line
    assert result.stdout.startswith(f"usage: awsguard {command}")


def test_internal_switches_are_not_in_the_help():
    shown = run("prompt", "--help").stdout
    assert "--format" in shown  # negative control: the listing itself works
    assert "--hook" not in shown and "--session" not in shown
    assert "--help-all" not in run("--help").stdout


def test_awsguard_alone_is_a_usage_error_on_stderr():
    result = run()
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage: awsguard COMMAND" in result.stderr and "explain" in result.stderr


def test_init_without_a_shell_names_the_choices():
    result = run("init")
    assert result.returncode == 2 and result.stdout == ""
    assert "zsh" in result.stderr and "bash" in result.stderr
    assert "positional argument" not in result.stderr
    assert "unknown shell 'fish'" in run("init", "fish").stderr


def test_an_aws_option_before_the_separator_gets_the_hint(tmp_path):
    result = run("explain", "--profile", "x", "sts", "get-caller-identity", home=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "Unknown switch --profile" in result.stderr
    assert "awsguard explain [OPTIONS] -- AWS-ARGS" in result.stderr
    # ... and with the separator it works.
    ok = run("explain", "--", "--profile", "x", "sts", "get-caller-identity", home=tmp_path)
    assert ok.returncode == 0 and "profile      x" in ok.stdout


def test_json_after_the_aws_words_is_awsguards(tmp_path):
    after = run("explain", "sts", "get-caller-identity", "--json", home=tmp_path)
    assert after.returncode == 0
    assert json.loads(after.stdout)["schema"] == 1
    # After an explicit `--` every word is aws's: plain text, and --json reaches the argv.
    literal = run("explain", "--", "sts", "get-caller-identity", "--json", home=tmp_path)
    assert literal.returncode == 0 and not literal.stdout.startswith("{")


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed")
        pytest.skip(f"{tool} is not installed")


def test_bash_completion_completes_commands_and_options():
    _need("bash")
    script = run("--completions", "bash")
    assert script.returncode == 0
    probe = (
        f"{script.stdout}\n"
        'COMP_WORDS=(awsguard ex); COMP_CWORD=1; _awsguard; echo "${COMPREPLY[*]}"\n'
        'COMP_WORDS=(awsguard fix --dr); COMP_CWORD=2; _awsguard; echo "${COMPREPLY[*]}"\n'
        'COMP_WORDS=(awsguard init z); COMP_CWORD=2; _awsguard; echo "${COMPREPLY[*]}"\n'
    )
    out = subprocess.run(
        ["bash", "-c", probe], capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    assert out == ["explain", "--dry-run", "zsh"]


def test_zsh_completion_completes_in_a_real_zsh(tmp_path):
    """Typed into an interactive zsh under tmux: Tab completes a command, then an option."""
    from promptkit import Term

    _need("zsh")
    _need("tmux")
    script = tmp_path / "awsguard.zsh-completion"
    script.write_text(run("--completions", "zsh").stdout)
    subprocess.run(["zsh", "-n", str(script)], check=True, timeout=60)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "TERM": "xterm"}
    term = Term(tmp_path, ["zsh", "-f", "-i"], env, tmp_path)
    try:
        term.send(f"autoload -Uz compinit; compinit -u; source {script}; PS1='zsh 1> '")
        term.wait_prompt(1)
        term.send("awsguard fix --dry", enter=False)
        term._tmux("send-keys", "Tab")
        wait_for(lambda: any("awsguard fix --dry-run" in line for line in term.screen()), term)
        term._tmux("send-keys", "C-u")
        term.send("awsguard expl", enter=False)
        term._tmux("send-keys", "Tab")
        wait_for(lambda: any("awsguard explain" in line for line in term.screen()), term)
    finally:
        term.close()


def wait_for(condition, term, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("never completed; screen:\n" + "\n".join(term.screen()))
        time.sleep(0.05)


def test_bash_completion_script_passes_shellcheck():
    _need("shellcheck")
    script = run("--completions", "bash").stdout
    subprocess.run(["shellcheck", "-s", "bash", "-"], input=script, text=True, check=True)


def _closed(*fds: int, args: tuple[str, ...], home: Path) -> subprocess.CompletedProcess[bytes]:
    """Run awsguard with ``fds`` closed (`>&-`, `2>&-`); what is left open is captured."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_COLOR": "1",
    }

    def close() -> None:
        for fd in fds:
            os.close(fd)

    return subprocess.run(
        [sys.executable, "-m", "awsguard", *args],
        capture_output=True,
        cwd=ROOT,
        env=environ,
        timeout=120,
        preexec_fn=close,
    )


@pytest.mark.parametrize(
    "args",
    [("status",), ("explain", "sts", "get-caller-identity"), ("doctor",), ("bogus",), ("--help",)],
    ids=" ".join,
)
def test_closed_standard_streams_are_not_internal_errors(tmp_path, args):
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[default]\nregion = eu-west-1\n")
    open_ = _closed(args=args, home=tmp_path)  # control: the same command with both streams
    no_stdout = _closed(1, args=args, home=tmp_path)
    assert no_stdout.returncode == 1, no_stdout
    assert no_stdout.stderr == b"awsguard: standard output is closed; nothing done\n"
    no_stderr = _closed(2, args=args, home=tmp_path)
    assert (no_stderr.returncode, no_stderr.stdout) == (open_.returncode, open_.stdout)
    assert b"internal error" not in open_.stderr
