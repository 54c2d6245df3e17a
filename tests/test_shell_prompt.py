"""The prompt in real interactive zsh and bash under tmux: what the screen shows, when awsguard
runs, and that hostile profile names (docs/hostile-inputs.md §7 items 1-12) are shown, not run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from promptkit import Sandbox, Shell, need

pytestmark = pytest.mark.slow


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def setter(values: dict[str, str]) -> str:
    """rc lines defining `u<name>` functions that export AWS_PROFILE to each value: the tests
    type short words; the hostile bytes never pass through the keyboard."""
    lines = []
    for name, value in values.items():
        if "\0" in value:
            raise ValueError("no NUL in a shell string")
        # $'...' with every byte escaped: bash and zsh read it alike, and it is never evaluated.
        escaped = "".join(f"\\x{b:02x}" for b in value.encode("utf-8", "surrogateescape"))
        lines.append(f"u{name}() {{ export AWS_PROFILE=$'{escaped}'; }}")
    return "\n".join(lines)


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_segment_appears_and_follows_aws_profile(sandbox, shell):
    sh = Shell(sandbox, shell, rc_before=setter({"dev": "dev", "other": "other"}))
    try:
        assert "aws:" not in sh.line  # no profile named, no credentials: hidden
        assert "aws:dev login …9999 eu-west-1 1d23h" in sh.run("udev")
        assert "aws:other login …9999 us-east-1" in sh.run("uother")
        runs = sandbox.count()
        # Negative control: a variable the segment does not read changes nothing, runs nothing.
        line = sh.run("export SOMETHING_ELSE=1")
        assert "aws:other login" in line
        assert sandbox.count() == runs
    finally:
        sh.close()


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_keys_added_for_the_profile_turn_the_segment_into_a_block(sandbox, shell):
    sh = Shell(sandbox, shell, rc_before=setter({"dev": "dev"}))
    try:
        assert "aws:dev login" in sh.run("udev")
        sandbox.add_keys("other")  # control: another profile's keys shadow nothing here
        line = sh.run()
        assert "aws:dev login …9999" in line
        assert "!!" not in line
        sandbox.add_keys("dev")
        line = sh.run()
        assert "aws:dev keys eu-west-1 1d23h !! login shadowed by keys" in line
    finally:
        sh.close()


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_steady_state_prompts_start_no_process(sandbox, shell, tmp_path):
    """strace counts every fork/clone of the shell; the counting Python wrapper every run of
    awsguard.  Both must stay still over ten prompts - and move for a change (control)."""
    log = tmp_path / "strace.log"
    sh = Shell(sandbox, shell, rc_before=setter({"dev": "dev"}), strace_log=log)
    try:
        sh.run("udev")
        sh.run()
        shell_pid = log.read_text().split(" ", 1)[0]

        def forks() -> int:
            pattern = re.compile(rf"^{shell_pid} +(clone|clone3|fork|vfork)\(", re.M)
            return len(pattern.findall(log.read_text()))

        before_forks, before_runs = forks(), sandbox.count()
        for _ in range(10):
            assert "aws:dev login" in sh.run()
        assert (forks(), sandbox.count()) == (before_forks, before_runs)
        sandbox.add_keys("dev")
        assert "keys" in sh.run()
        assert forks() == before_forks + 1
        assert sandbox.count() == before_runs + 1
    finally:
        sh.close()


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_auto_off_leaves_the_prompt_alone_but_sets_the_variables(sandbox, shell):
    show = (
        'print -r -- "[$AWSGUARD_PROMPT_RAW]"'
        if shell == "zsh"
        else 'echo "[$AWSGUARD_PROMPT_RAW]"'
    )
    sh = Shell(sandbox, shell, rc_before="AWSGUARD_PROMPT_AUTO=0\nexport AWS_PROFILE=dev")
    try:
        assert "aws:" not in sh.line
        sh.run(show)
        screen = "\n".join(sh.term.screen())
        assert "[aws:dev login …9999 eu-west-1 1d23h]" in screen
        # Control: turning it on shows it.
        assert "aws:dev login" in sh.run("AWSGUARD_PROMPT_AUTO=1")
        assert "aws:dev login" not in sh.run("AWSGUARD_PROMPT_AUTO=0")
    finally:
        sh.close()


def test_zsh_keeps_an_existing_rprompt_and_other_precmd_hooks(sandbox):
    rc = (
        "RPROMPT='[%n]'\n_theme() { psvar[2]=themed; }\nprecmd_functions+=(_theme)\n"
        "PROMPT='%2v %1v> '\nexport AWS_PROFILE=dev\n"
    )
    sh = Shell(sandbox, "zsh", rc_before=rc)
    try:
        line = sh.run()
        assert "themed" in line
        assert re.search(r"\[\w+\] aws:dev login", line)
    finally:
        sh.close()


def test_bash_keeps_a_theme_that_rebuilds_ps1_every_prompt(sandbox):
    # Set after the init line, as many rc files do; the theme rewrites PS1 from scratch.
    rc_after = (
        "_theme() { PS1='[t] ${_t_n}> '; }\nPROMPT_COMMAND=\"_theme;$PROMPT_COMMAND\"\n"
        "export AWS_PROFILE=dev\n"
    )
    sh = Shell(sandbox, "bash", rc_after=rc_after)
    try:
        line = sh.run()
        assert line.startswith("aws:dev login …9999 eu-west-1 1d23h [t] ")
    finally:
        sh.close()


@pytest.mark.parametrize("shell", ["zsh", "bash"])
def test_colours_do_not_count_towards_the_width(sandbox, shell):
    sandbox.add_keys("dev")  # a block: the segment is coloured
    sh = Shell(sandbox, shell, rc_before="export AWS_PROFILE=dev")
    try:
        line = sh.run()
        segment = "aws:dev keys eu-west-1 1d23h !! login shadowed by keys"
        assert segment in line
        x, _ = sh.term.cursor()
        if shell == "bash":
            assert x == len(f"{segment} {sh.n}> ")
        else:
            assert x == len(f"{sh.n}> ")
            # zsh right-aligns RPROMPT one column from the edge only if it measured it right.
            assert len(line.rstrip()) == sh.term.WIDTH - 1
    finally:
        sh.close()


# -- hostile profile names ---------------------------------------------------------------------

# name -> what the screen must show instead (None: the name itself, exactly).
HOSTILE: dict[str, tuple[str, str | None]] = {
    "subst": ("$(touch pwned1)", None),
    "backtick": ("`touch pwned2`", None),
    "home": ("${HOME}", None),
    "fcolour": ("%F{red}x%f", None),
    "date": ("%D", None),
    "pct20": ("p%20q", None),
    "zbrace": ("%{x%}", None),
    "cve": ("%F{$(touch pwned3)}", None),
    "bang": ("a!b", None),
    "bashu": ("\\u\\$", None),
    "bashbr": ("a\\[b", None),
    "trail": ("b\\", None),
    "osc": ("t\x1b]0;title\x07x", "t^[]0;title^Gx"),
    "clip": ("\x1b]52;c;aGk=\x07", "^[]52;c;aGk=^G"),
    "clear": ("\x1b[2Jz", "^[[2Jz"),
    "csi8": ("a\x9bb", "a\\x9bb"),
    "del": ("a\x7fb", "a^?b"),
    "cr": ("a\rb", "a…"),  # a line break: the first line only (clean() never shows the rest)
    "lf": ("a\nb", "a…"),
    "bidi": ("a\u202eb", "a<U+202E>b"),
    "zw": ("a\u200bb", "a<U+200B>b"),
    "cyr": ("pr\u043ed", None),
    "at": ("admin@prod", None),
    "plus": ("Admin+dev", None),
    "slash": ("a/b", None),
    "colon": ("a:b", None),
    "off": ("50%off", None),
    "role": ("Co-[prod]/Role", None),
    "long": ("L" * 10_000, "L" * 31 + "…"),
    "badutf8": ("a\udcffb", "a<U+DCFF>b"),
}

# (shell, rc lines): every way the prompt is drawn that changes what is special.
DRAWING = [
    ("zsh", ""),
    ("zsh", "setopt prompt_subst"),
    ("zsh", "setopt prompt_bang prompt_subst"),
    ("zsh", "setopt prompt_bang"),
    ("zsh", "setopt prompt_subst hist_subst_pattern"),
    ("bash", ""),
    ("bash", "shopt -u promptvars"),
]


@pytest.mark.parametrize(("shell", "options"), DRAWING)
def test_hostile_profile_names_render_literally_and_run_nothing(sandbox, shell, options):
    if shell == "bash" and "promptvars" in options:
        # Without promptvars PS1 cannot hold ${_t_n}: number prompts by the command count.
        options += "\nPS1='\\#> '"
    names = {key: value for key, (value, _) in HOSTILE.items()}
    sh = Shell(sandbox, shell, rc_before=setter(names) + "\n" + options)
    try:
        for key, (value, shown) in HOSTILE.items():
            expected = value if shown is None else shown
            line = sh.run(f"u{key}")
            assert f"aws:{expected} ? ? no such profile" in line, (key, line)
        assert "title" not in sh.term._tmux("display-message", "-p", "#{pane_title}")
    finally:
        sh.close()
    assert sorted(p.name for p in sandbox.work.iterdir()) == []


def test_hostile_names_negative_control(sandbox):
    """The same harness does catch a prompt that expands its text: put the raw value into a
    prompt_subst PROMPT ourselves and the command runs, %D turns into a date."""
    rc = setter({"subst": "$(touch pwned9)", "date": "%D"}) + (
        "\nsetopt prompt_subst\nAWSGUARD_PROMPT_AUTO=0\n"
        '_unsafe() { PROMPT="$AWSGUARD_PROMPT_RAW %1v> "; }\nprecmd_functions+=(_unsafe)\n'
    )
    sh = Shell(sandbox, "zsh", rc_after=rc)
    try:
        sh.run("usubst")
        sh.run()
        assert (sandbox.work / "pwned9").exists()
        line = sh.run("udate")
        assert "aws:%D" not in line
    finally:
        sh.close()


# -- prompt engines: `awsguard prompt --format=…` pasted into a prompt -------------------------


def test_format_bash_survives_being_pasted_into_ps1(sandbox):
    """Starship-style: PS1 rebuilt from the command's output at each prompt (a process per
    prompt - the integration avoids that; engines choose it)."""
    need("bash")
    cmd = f"{shlex.quote(str(sandbox.python))} -m awsguard prompt --format=bash"
    names = {k: HOSTILE[k][0] for k in ("subst", "backtick", "home", "bashu", "trail", "off")}
    rc = setter(names) + f"\nPROMPT_COMMAND='_t_n=$((_t_n+1)); PS1=\"$({cmd}) ${{_t_n}}> \"'\n"
    sh = Shell(sandbox, "bash", rc_after=rc, init_line="")
    try:
        for key, value in names.items():
            line = sh.run(f"u{key}")
            assert f"aws:{value} ? ? no such profile" in line, (key, line)
    finally:
        sh.close()
    assert list(sandbox.work.iterdir()) == []


def test_format_zsh_survives_prompt_subst(sandbox):
    cmd = f"{shlex.quote(str(sandbox.python))} -m awsguard prompt --format=zsh"
    names = {k: HOSTILE[k][0] for k in ("subst", "cve", "date", "off", "zbrace")}
    rc = setter(names) + f"\nsetopt prompt_subst\nPROMPT='$({cmd}) %1v> '\n"
    sh = Shell(sandbox, "zsh", rc_after=rc, init_line="")
    try:
        for key, value in names.items():
            line = sh.run(f"u{key}")
            assert f"aws:{value} ? ? no such profile" in line, (key, line)
    finally:
        sh.close()
    assert list(sandbox.work.iterdir()) == []
