"""The generated shell code, checked the way zoxide checks its own: linted as it is, loaded in
strict mode for every option combination (nothing on stdout or stderr), and its hook driven
directly in a non-interactive shell.  Interactive behaviour is in test_shell_prompt.py."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest
from promptkit import ROOT, Sandbox, need

from awsguard.commands import init

SHELL_DIR = ROOT / "shell"


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def bash(sandbox: Sandbox, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    argv = [need("bash"), "--noprofile", "--norc", "-e", "-u", "-o", "pipefail", "-c", code]
    return run(argv, sandbox.env(**env), sandbox.work)


def zsh(sandbox: Sandbox, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    argv = [need("zsh"), "--no-globalrcs", "--no-rcs", "-e", "-u", "-c", code]
    return run(argv, sandbox.env(**env), sandbox.work)


# -- static -----------------------------------------------------------------------------------


def test_shellcheck_on_the_bash_file_and_its_rendering(sandbox):
    shellcheck = need("shellcheck")
    for path in (SHELL_DIR / "awsguard.bash", sandbox.script("bash")):
        result = run([shellcheck, "-s", "bash", "-S", "style", str(path)], sandbox.env(), ROOT)
        assert result.returncode == 0, result.stdout


def test_shellcheck_negative_control(sandbox):
    """shellcheck does report a mistake of the kind it is here for."""
    bad = sandbox.tmp / "bad.bash"
    bad.write_text("f() { echo $1; }\n")
    result = run([need("shellcheck"), "-s", "bash", str(bad)], sandbox.env(), ROOT)
    assert "SC2086" in result.stdout


def test_zsh_parses_the_zsh_file_and_its_rendering(sandbox):
    for path in (SHELL_DIR / "awsguard.zsh", sandbox.script("zsh")):
        result = run([need("zsh"), "-n", str(path)], sandbox.env(), ROOT)
        assert (result.returncode, result.stderr) == (0, "")
    broken = sandbox.tmp / "broken.zsh"
    broken.write_text("f() { if true; then; }\n")
    assert run([need("zsh"), "-n", str(broken)], sandbox.env(), ROOT).returncode != 0


@pytest.mark.parametrize("shell", init.SHELLS)
def test_one_placeholder_and_values_quoted_for_the_shell(tmp_path, shell):
    text = (SHELL_DIR / f"awsguard.{shell}").read_text()
    assert text.count(init.PLACEHOLDER) == 1
    odd = "/tmp/it's a $(dir) `x`"
    rendered = init.render(shell, bin_dir=odd, python="/py", root="/root dir")
    assert init.PLACEHOLDER not in rendered
    script = tmp_path / "s"
    script.write_text(rendered)
    show = 'print -r -- "$path[1]"' if shell == "zsh" else 'printf "%s\\n" "${PATH%%:*}"'
    result = run(
        [need(shell), "-c", f". {script}; {show}"],
        {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        tmp_path,
    )
    assert result.stdout == odd + "\n"
    assert not (tmp_path / "x").exists()


# -- strict load, every combination -----------------------------------------------------------

PROMPT_COMMANDS = {
    "unset": "",
    "string": "PROMPT_COMMAND='history -a;'\n",
    "array": "PROMPT_COMMAND=('history -a' 'true')\n",
}


@pytest.mark.parametrize(("pc", "auto"), list(itertools.product(PROMPT_COMMANDS, ("", "0", "1"))))
def test_bash_loads_silently_under_set_u_and_registers_once(sandbox, pc, auto):
    script = sandbox.script("bash")
    code = (
        PROMPT_COMMANDS[pc]
        + (f"AWSGUARD_PROMPT_AUTO={auto}\n" if auto else "")
        + f'before="${{PROMPT_COMMAND[*]-}}"\n. {script}\n'
        + 'once="${PROMPT_COMMAND[*]}"; path1=$PATH\n'
        + f". {script}\n"
        + '[[ "${PROMPT_COMMAND[*]}" == "$once" && $PATH == "$path1" ]] || exit 3\n'
        + '[[ $PATH == "$SHIM":/usr/local/bin:/usr/bin:/bin ]] || exit 4\n'
        + 'n=0; for c in "${PROMPT_COMMAND[@]}"; do case $c in *_awsguard_hook*) n=$((n+1));; esac; done\n'
        + "[[ $n == 1 ]] || exit 5\n"
        + '[[ -z $before || "$once" == "$before"* ]] || exit 6\n'
    )
    result = bash(sandbox, code, SHIM=str(sandbox.shim_dir))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert sandbox.count() == 0  # loading computes nothing: the first prompt does


ZSH_OPTIONS = list(
    itertools.product(("prompt_subst", ""), ("prompt_bang", ""), ("ksh_arrays", ""), ("", "0"))
)


@pytest.mark.parametrize(("subst", "bang", "ksh", "auto"), ZSH_OPTIONS)
def test_zsh_loads_silently_under_nounset_and_registers_once(sandbox, subst, bang, ksh, auto):
    script = sandbox.script("zsh")
    opts = " ".join(o for o in (subst, bang, ksh) if o)
    code = (
        (f"setopt {opts}\n" if opts else "")
        + (f"AWSGUARD_PROMPT_AUTO={auto}\n" if auto else "")
        + "precmd_functions=(omz_like_hook)\n"
        + f". {script}\n. {script}\n"
        + '[[ $PATH == "$SHIM":/usr/local/bin:/usr/bin:/bin ]] || exit 4\n'
        + '[[ "${precmd_functions[*]}" == "omz_like_hook _awsguard_hook" ]] || exit 5\n'
    )
    result = zsh(sandbox, code, SHIM=str(sandbox.shim_dir))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert sandbox.count() == 0


def test_the_shim_directory_moves_to_the_front_without_duplicates(sandbox):
    shim = str(sandbox.shim_dir)
    path = f"/usr/bin:{shim}:/bin:{shim}"
    code = f". {sandbox.script('bash')}\nprintf '%s' \"$PATH\""
    assert bash(sandbox, code, PATH=path).stdout == f"{shim}:/usr/bin:/bin"
    code = f". {sandbox.script('zsh')}\nprint -rn -- $PATH"
    assert zsh(sandbox, code, PATH=path).stdout == f"{shim}:/usr/bin:/bin"


# -- the hook, driven directly -----------------------------------------------------------------

BASH_STEADY = r"""
. {script}
PS1='\$ '
export AWS_PROFILE=dev
_awsguard_hook
printf 'ps1=%s\n' "$PS1"
printf 'raw=%s\n' "$AWSGUARD_PROMPT_RAW"
PATH=/nonexistent
set +e; false; _awsguard_hook; echo "status=$?"; set -e
for i in 1 2 3 4 5; do _awsguard_hook; done
{control}
"""


def test_bash_hook_keeps_a_reference_in_ps1_and_runs_nothing_in_steady_state(sandbox):
    code = BASH_STEADY.format(script=sandbox.script("bash"), control="")
    result = bash(sandbox, code)
    assert result.stderr == ""
    assert "ps1=${_awsguard_ps1}\\$ \n" in result.stdout  # git-prompt pattern, t9903-style
    assert "raw=aws:dev login …9999 eu-west-1 1d23h\n" in result.stdout
    assert "status=1\n" in result.stdout
    # One computation at the first hook; then PATH is gone and nothing ran, not even Python.
    assert sandbox.count() == 1


def test_bash_steady_state_checks_can_fail(sandbox):
    """Negative controls: under the same broken PATH an external command is noticed, and a
    changed input does recompute (Python runs by absolute path)."""
    control = "date || true\nexport AWS_PROFILE=other\n_awsguard_hook\n"
    result = bash(sandbox, BASH_STEADY.format(script=sandbox.script("bash"), control=control))
    assert "date" in result.stderr
    assert sandbox.count() == 2


ZSH_STEADY = r"""
{opts}
. {script}
RPROMPT='%T'
export AWS_PROFILE=dev
_awsguard_hook
print -r -- "rprompt=$RPROMPT"
print -r -- "raw=$AWSGUARD_PROMPT_RAW"
path=(/nonexistent)
setopt no_err_exit; false; _awsguard_hook; print "status=$?"; setopt err_exit
repeat 5 _awsguard_hook
{control}
"""


@pytest.mark.parametrize("subst", [True, False])
def test_zsh_hook_rprompt_and_steady_state(sandbox, subst):
    code = ZSH_STEADY.format(
        opts="setopt prompt_subst" if subst else "", script=sandbox.script("zsh"), control=""
    )
    result = zsh(sandbox, code)
    assert result.stderr == ""
    if subst:
        assert "rprompt=%T${_awsguard_rps1}\n" in result.stdout
    else:
        assert "rprompt=%T aws:dev login …9999 eu-west-1 1d23h\n" in result.stdout
    assert "status=1\n" in result.stdout
    assert sandbox.count() == 1


def test_zsh_steady_state_checks_can_fail(sandbox):
    control = "date || true\nexport AWS_PROFILE=other\n_awsguard_hook\n"
    code = ZSH_STEADY.format(opts="", script=sandbox.script("zsh"), control=control)
    result = zsh(sandbox, code)
    assert "date" in result.stderr
    assert sandbox.count() == 2


@pytest.mark.parametrize("shell", init.SHELLS)
def test_the_hook_sees_files_change_appear_and_vanish(sandbox, shell):
    script = sandbox.script(shell)
    creds = sandbox.credentials
    code = (
        f". {script}\nexport AWS_PROFILE=dev\n_awsguard_hook\n"
        "_awsguard_hook\n"  # steady
        f"printf '[other]\\n' >> {creds}\n_awsguard_hook\n"  # edited
        f"mv {creds} {creds}.gone\n_awsguard_hook\n"  # vanished
        f"mv {creds}.gone {creds}\n_awsguard_hook\n"  # back (same mtime, but it had vanished)
        "_awsguard_hook\n"  # steady
        "AWSGUARD_UNRELATED=1\n_awsguard_hook\n"  # not an input: steady
    )
    result = (zsh if shell == "zsh" else bash)(sandbox, code)
    assert result.stderr == ""
    assert sandbox.count() == 4


@pytest.mark.parametrize("shell", init.SHELLS)
def test_a_file_replaced_by_an_older_copy_is_seen(sandbox, shell):
    """mv of a backup (older mtime) into place: -ot catches what -nt alone would miss."""
    script = sandbox.script(shell)
    creds = sandbox.credentials
    code = (
        f"cp -p {creds} {creds}.old\n"
        f". {script}\nexport AWS_PROFILE=dev\n"
        f"printf '[x]\\n' >> {creds}\n_awsguard_hook\n"
        f"mv {creds}.old {creds}\n_awsguard_hook\n"
    )
    result = (zsh if shell == "zsh" else bash)(sandbox, code)
    assert result.stderr == ""
    assert sandbox.count() == 2


@pytest.mark.parametrize("shell", init.SHELLS)
def test_a_failing_fast_path_shows_a_question_mark_and_does_not_retry_at_every_prompt(
    sandbox, shell
):
    sandbox.python.write_text(f"#!/bin/sh\necho run >> {sandbox.count_file}\nexit 1\n")
    show = "print -r -- $AWSGUARD_PROMPT_RAW" if shell == "zsh" else 'echo "$AWSGUARD_PROMPT_RAW"'
    code = f". {sandbox.script(shell)}\n_awsguard_hook\n_awsguard_hook\n{show}\n"
    result = (zsh if shell == "zsh" else bash)(sandbox, code)
    assert (result.stdout, result.stderr) == ("aws:?\n", "")
    assert sandbox.count() == 1
