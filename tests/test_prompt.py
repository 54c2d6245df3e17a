"""The prompt segment in-process: fields, layout, escaping, verdict markers, the hook report,
and the fast path's imports.  The real shells are in test_shell_load.py / test_shell_prompt.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from promptkit import LOGIN_ARN, ROOT, login_cache

from awsguard.commands import prompt as prompt_cmd
from awsguard.present import segment

NOW = time.time()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "config").write_text(
        "[profile dev]\nregion = eu-west-1\n"
        f"login_session = {LOGIN_ARN}\n"
        "[profile keys]\nregion = us-east-1\n"
    )
    (aws / "credentials").write_text(
        "[keys]\naws_access_key_id = ASIAY34FZKBOKMUTVV7A\naws_secret_access_key = x\n"
    )
    login_cache(tmp_path, hours=2.5, now=NOW)
    return tmp_path


def env(home: Path, **extra: str) -> dict[str, str]:
    base = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    base.update(extra)
    return base


def segment_text(environ: dict[str, str]) -> str:
    seg, _ = segment.compute(environ, NOW)
    return segment.text(seg, environ)


# -- what the segment says ------------------------------------------------------------------


def test_login_profile_shows_source_short_account_region_and_time_left(home):
    text = segment_text(env(home, AWS_PROFILE="dev"))
    assert text == "aws:dev login …9999 eu-west-1 2h29m"


def test_full_account_on_request(home):
    text = segment_text(env(home, AWS_PROFILE="dev", AWSGUARD_PROMPT_ACCOUNT="full"))
    assert "999999999999" in text
    assert "…9999" not in text


def test_region_from_the_environment_wins_over_the_profile(home):
    assert " ap-south-1 " in segment_text(env(home, AWS_PROFILE="dev", AWS_REGION="ap-south-1"))
    # v1 ignores AWS_REGION (docs/credential-chain.md §12 item 10).
    v1 = env(home, AWS_PROFILE="dev", AWS_REGION="ap-south-1", AWSGUARD_CLI_MAJOR="1")
    assert " eu-west-1 " in segment_text(v1)


def test_keys_shadowing_the_login_session_are_marked_block(home):
    (home / ".aws" / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
    )
    seg, _ = segment.compute(env(home, AWS_PROFILE="dev"), NOW)
    assert (seg.source, seg.verdict) == ("keys", "block")
    assert segment.text(seg, env(home)).endswith("!! login shadowed by keys")


def test_control_keys_for_another_profile_leave_the_login_alone(home):
    (home / ".aws" / "credentials").write_text(
        "[other]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
    )
    seg, _ = segment.compute(env(home, AWS_PROFILE="dev"), NOW)
    assert (seg.source, seg.verdict, seg.marker) == ("login", "allow", "")


def test_env_keys_overriding_aws_profile_are_marked_warn(home):
    seg, _ = segment.compute(
        env(
            home,
            AWS_PROFILE="keys",
            AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
            AWS_SECRET_ACCESS_KEY="x",
        ),
        NOW,
    )
    assert (seg.source, seg.verdict, seg.marker) == ("env", "warn", "! env keys override profile")


def test_a_pinned_account_that_differs_is_marked(home):
    policy = home / "policy.toml"
    policy.write_text('[profiles.keys]\nexpect_account = "111111111111"\n')
    seg, _ = segment.compute(env(home, AWS_PROFILE="keys", AWSGUARD_CONFIG=str(policy)), NOW)
    assert seg.verdict == "block"
    assert seg.alert == "unexpected account"
    # Control: the account the key id decodes to.
    policy.write_text('[profiles.keys]\nexpect_account = "609629065308"\n')
    seg, _ = segment.compute(env(home, AWS_PROFILE="keys", AWSGUARD_CONFIG=str(policy)), NOW)
    assert seg.verdict == "allow"


def test_a_read_only_profile_is_not_blocked_at_the_prompt(home):
    """read-only judges an operation; a prompt has none (it would always look mutating)."""
    policy = home / "policy.toml"
    policy.write_text("[profiles.keys]\nread_only = true\n")
    seg, _ = segment.compute(env(home, AWS_PROFILE="keys", AWSGUARD_CONFIG=str(policy)), NOW)
    assert seg.verdict == "allow"


def test_a_bad_policy_file_shows_a_question_mark_not_a_traceback(home):
    policy = home / "policy.toml"
    policy.write_text("mode = 'sideways'\n")
    seg, _ = segment.compute(env(home, AWS_PROFILE="keys", AWSGUARD_CONFIG=str(policy)), NOW)
    assert seg.marker == "? bad policy file"


def test_the_error_the_cli_would_raise_is_a_question_mark(home):
    seg, _ = segment.compute(env(home, AWS_PROFILE="nope"), NOW)
    assert (seg.source, seg.marker) == ("?", "? no such profile")


def test_hidden_without_aws_context_and_shown_on_request(home):
    (home / ".aws" / "config").write_text("")
    (home / ".aws" / "credentials").write_text("")
    quiet = env(home)
    assert segment_text(quiet) == ""
    assert segment_text({**quiet, "AWSGUARD_PROMPT_SHOW": "always"}).startswith("aws:default ?")
    # Control: naming a profile is context.
    assert segment_text({**quiet, "AWS_PROFILE": "dev"}) != ""


def test_alert_mode_shows_only_trouble(home):
    assert segment_text(env(home, AWS_PROFILE="dev", AWSGUARD_PROMPT_SHOW="alert")) == ""
    assert segment_text(env(home, AWS_PROFILE="nope", AWSGUARD_PROMPT_SHOW="alert")) != ""


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("big", "? config too large"),
        ("fifo", "? config not a file"),
        ("zero", "? config not a file"),
    ],
)
def test_hostile_config_files_give_a_question_mark_without_reading(home, kind, expected):
    """docs/hostile-inputs.md §7 item 11: a 100 MB file, a FIFO, /dev/zero."""
    config = home / "huge"
    if kind == "big":
        with config.open("wb") as fh:
            fh.truncate(100 << 20)  # sparse: 100 MB that costs nothing to make
    elif kind == "fifo":
        os.mkfifo(config)
    else:
        config = Path("/dev/zero")
    start = time.monotonic()
    seg, _ = segment.compute(env(home, AWS_PROFILE="dev", AWS_CONFIG_FILE=str(config)), NOW)
    assert seg.marker == expected
    assert time.monotonic() - start < 5  # a hang would not come back at all


def test_dev_null_is_the_usual_way_to_say_no_file(home):
    seg, _ = segment.compute(env(home, AWS_PROFILE="keys", AWS_CONFIG_FILE="/dev/null"), NOW)
    assert seg.verdict == "allow"
    assert seg.source == "keys"


# -- layout -----------------------------------------------------------------------------------


def seg_with(**fields: str) -> segment.Segment:
    seg = segment.Segment()
    for name, value in fields.items():
        setattr(seg, name, value)
    return seg


def test_an_empty_field_takes_one_space_with_it():
    seg = seg_with(profile="p", source="keys", account="", region="r")
    assert segment.layout(seg, "{profile} {source} {account} {region} {expires}") == "p keys r"
    assert segment.layout(seg, "[{account}|{profile}]") == "[|p]"


def test_unknown_fields_and_braces_stay_literal():
    seg = seg_with(profile="p")
    assert segment.layout(seg, "{{x}} {nope} {profile") == "{x} {nope} {profile"


def test_long_names_are_cut():
    seg, _ = segment.compute({"HOME": "/nonexistent", "AWS_PROFILE": "x" * 10_000}, NOW)
    assert len(seg.profile) == 32
    assert seg.profile.endswith("…")


def test_control_and_bidi_characters_are_made_visible():
    seg, _ = segment.compute(
        {"HOME": "/nonexistent", "AWS_PROFILE": "a\x1b]0;t\x07\u202eb\r\n"}, NOW
    )
    # Controls and bidi visible; a line break ends the value (what follows is never shown).
    assert seg.profile == "a^[]0;t^G<U+202E>b…"


def test_invalid_utf8_from_the_environment_does_not_raise():
    seg, _ = segment.compute({"HOME": "/nonexistent", "AWS_PROFILE": "a\udcffb"}, NOW)
    assert seg.profile == "a<U+DCFF>b"


# -- escaping (each rule has a named test: starship lost its bash escaping once, #884 → #2404) --


def test_zsh_escaping_doubles_percent_and_under_prompt_bang_the_bang():
    assert segment.escape_zsh("50%off!") == "50%%off!"
    assert segment.escape_zsh("50%off!", bang=True) == "50%%off!!"


@pytest.mark.parametrize("value", ["$(echo PWN)", "`echo PWN`", "${HOME}", "\\u\\$", "a\\\\b"])
def test_bash_ps1_escaping_round_trips_through_bash_prompt_expansion(value):
    """What bash itself makes of the pasted text (``${PS1@P}``: decoding plus expansion)."""
    from promptkit import need

    shown = subprocess.run(
        [
            need("bash"),
            "--norc",
            "-c",
            'PS1=$1; printf %s "${PS1@P}"',
            "x",
            segment.escape_bash_ps1(value),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert shown == value
    # Control: unescaped, the same text is expanded (or its backslashes eaten).
    raw = subprocess.run(
        [need("bash"), "--norc", "-c", 'PS1=$1; printf %s "${PS1@P}"', "x", value],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert raw != value


def test_bash_literal_escaping_doubles_only_backslashes():
    assert segment.escape_bash_literal("a\\u$x") == "a\\\\u$x"


def test_colour_wraps_only_awsguards_own_codes(home):
    environ = env(home)
    coloured = segment.colour("x", "block", "bash-ref", environ)
    assert coloured == "\001\033[1;31m\002x\001\033[0m\002"
    assert segment.colour("x", "block", "zsh", environ) == "%{\033[1;31m%}x%{\033[0m%}"
    assert segment.colour("x", "allow", "zsh", environ) == "x"
    assert segment.colour("x", "block", "zsh", {**environ, "NO_COLOR": "1"}) == "x"


# -- the hook's report --------------------------------------------------------------------------


def hook(environ: dict[str, str], shell: str = "bash", session: str = "4242") -> list[str]:
    seg, inputs = segment.compute(environ, NOW)
    data = segment.hook_report(seg, inputs, environ, shell, session, NOW)
    return data.decode().split("\n")


def test_hook_report_lists_what_the_segment_depends_on(home):
    lines = hook(env(home, AWS_PROFILE="dev"))
    assert lines[0] == segment.HOOK_MAGIC
    assert lines[-2:] == [".", ""]
    names = {line[2:] for line in lines if line.startswith("n ")}
    assert {"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "HOME", "AWSGUARD_PROMPT_FORMAT"} <= names
    files = [line[2:] for line in lines if line.startswith("f ")]
    aws = home / ".aws"
    cache = next((aws / "login" / "cache").iterdir())
    for path in (aws / "config", aws / "credentials", cache):
        assert f"1 {path}" in files
    assert f"0 {home}/.config/awsguard/config.toml" in files


def test_hook_stamps_carry_the_mtime_of_each_file(home):
    lines = hook(env(home, AWS_PROFILE="dev"))
    stamp_dir = Path(lines[2])
    assert stamp_dir == home / "cache" / "awsguard" / "prompt" / "4242"
    assert stamp_dir.stat().st_mode & 0o777 == 0o700
    files = [line[2:] for line in lines if line.startswith("f ")]
    for index, entry in enumerate(files):
        present, path = entry.split(" ", 1)
        if present == "1":
            assert (stamp_dir / str(index)).stat().st_mtime_ns == os.stat(path).st_mtime_ns


def test_hook_report_countdown_ttl(home):
    lines = hook(env(home, AWS_PROFILE="dev"))
    # 2h29m and some seconds left: the text changes within the next minute.
    assert 0 < int(lines[1]) <= 60
    # Control: static keys have no countdown.
    assert hook(env(home, AWS_PROFILE="keys"))[1] == "0"


def test_hook_report_escapes_for_the_shell_that_shows_it(home):
    environ = env(home, AWS_PROFILE="50%off!", NO_COLOR="1", AWSGUARD_PROMPT_SHOW="always")
    zsh = hook(environ, "zsh")
    assert zsh[3].startswith("aws:50%%off! ")
    assert zsh[4].startswith("aws:50%%off!! ")
    assert zsh[5].startswith("aws:50%off! ")
    bash = hook({**environ, "AWS_PROFILE": "a\\u$(x)"}, "bash")
    assert bash[3].startswith("aws:a\\u$(x) ")
    assert bash[4].startswith("aws:a\\\\u$(x) ")


def test_a_session_id_that_is_not_a_pid_gets_no_stamp_directory(home):
    lines = hook(env(home, AWS_PROFILE="dev"), session="../../etc")
    assert lines[2] == ""
    assert 0 < int(lines[1]) <= segment.BLIND_RETRY


def test_stamp_directories_of_dead_shells_are_pruned(home):
    parent = home / "cache" / "awsguard" / "prompt"
    dead = parent / "999999999"  # beyond pid_max: no such process
    dead.mkdir(parents=True)
    (dead / "0").write_text("")
    alive = parent / str(os.getpid())
    alive.mkdir()
    hook(env(home, AWS_PROFILE="dev"), session="4243")
    assert not dead.exists()
    assert alive.exists()


# -- the command ----------------------------------------------------------------------------------


def run_cmd(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "awsguard", "prompt", *args],
        env=environ,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )


def test_prompt_command_formats(home):
    # The command reads the clock itself: the session must end 2.5 h from *now*, not from when
    # the module was imported (the run may be minutes old by then).
    login_cache(home, hours=2.5, now=time.time())
    environ = env(home, AWS_PROFILE="dev")
    assert run_cmd(environ).stdout == "aws:dev login …9999 eu-west-1 2h29m\n"
    data = json.loads(run_cmd(environ, "--format=json").stdout)
    assert data["source"] == "login"
    assert data["verdict"] == "allow"
    assert data["text"] == "aws:dev login …9999 eu-west-1 2h29m"
    bad = run_cmd(environ, "--format=fish")
    assert bad.returncode == 2
    assert "fish" in bad.stderr


def test_prompt_command_hides_output_without_context(home):
    (home / ".aws" / "config").write_text("")
    (home / ".aws" / "credentials").write_text("")
    result = run_cmd(env(home))
    assert (result.stdout, result.returncode) == ("", 0)


def test_run_rejects_an_unknown_hook():
    from awsguard import errors

    with pytest.raises(errors.AwsGuardError):
        prompt_cmd.run(hook="fish", environ={}, out=None)


FORBIDDEN = ("plumbum", "boto3", "botocore", "dateutil", "awscli", "subprocess", "enum")
PROBE = r"""
import io, json, sys
sys.path.append(sys.argv[1])
before = set(sys.modules)
from awsguard.cli import main
sys.stdout = io.TextIOWrapper(io.BytesIO())
code = main(["prompt", "--hook=bash", "--session=1"])
out = sys.stdout.buffer.getvalue().decode()
loaded = sorted(set(sys.modules) - before)
sys.stdout = sys.__stdout__
print(json.dumps({"code": code, "first": out.split("\n")[0], "loaded": loaded}))
"""


def _probe(home: Path, code: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(ROOT)],
        env=env(home, AWS_PROFILE="dev"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_the_prompt_fast_path_imports_only_the_standard_library(home):
    result = _probe(home, PROBE)
    assert (result["code"], result["first"]) == (0, segment.HOOK_MAGIC)
    loaded = result["loaded"]
    assert isinstance(loaded, list)
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert bad == [], f"the prompt fast path imported {bad}"
    assert "awsguard.present.segment" in loaded  # the probe sees imports at all


def test_import_probe_negative_control(home):
    """The same probe does see a forbidden module when something imports it."""
    probe = PROBE.replace(
        "from awsguard.cli import main", "import subprocess; from awsguard.cli import main"
    )
    assert "subprocess" in _probe(home, probe)["loaded"]


def test_the_prompt_follows_the_cli_major_the_shim_has_learnt(home, tmp_path):
    """AWS_PROFILE and AWS_DEFAULT_PROFILE differ: CLI v2 uses the first, v1 the second.  The
    prompt never runs the CLI, but once the shim has probed it (cached), it follows that major."""
    from awsguard.host import realcli

    (home / ".aws" / "config").write_text(
        "[profile a]\nregion = eu-west-1\n[profile b]\nregion = us-east-1\n"
    )
    real = tmp_path / "bin" / "aws"
    real.parent.mkdir()
    real.write_text("#!/bin/sh\necho 'aws-cli/1.46.3 Python/3.11.7 Linux/6.1 botocore/1.43.62'\n")
    real.chmod(0o755)
    environ = env(
        home, AWS_PROFILE="a", AWS_DEFAULT_PROFILE="b", PATH=f"{real.parent}:/usr/bin:/bin"
    )
    seg, _ = segment.compute(environ, NOW)
    assert seg.profile == "a"  # nothing learnt yet: v2 rules, and no CLI was started to learn
    assert not (home / "cache" / "awsguard" / realcli.CACHE_FILE).exists()
    info = realcli.cli_info(str(real), environ, cache_dir=str(home / "cache" / "awsguard"))
    assert info.major == 1  # what the shim's first call does
    seg, _ = segment.compute(environ, NOW)
    assert seg.profile == "b"


@pytest.mark.parametrize("level", ["base", "prompt", "shell"])
def test_stamps_are_kept_only_in_directories_nobody_else_can_write(home, level):
    """The stamps decide when the prompt is computed again; in a directory others can write
    they could be kept matching an edited file, so the prompt would keep an old answer."""
    environ = env(home, AWS_PROFILE="dev")
    base = home / "cache" / "awsguard"
    assert hook(environ)[2] == str(base / "prompt" / "4242")  # control: private ones are used
    target = {"base": base, "prompt": base / "prompt", "shell": base / "prompt" / "4242"}[level]
    target.chmod(0o777)
    assert hook(environ)[2] == ""


def test_stamp_directories_are_private_under_a_group_writable_umask(home):
    old = os.umask(0o002)  # Ubuntu's default for users: new directories are group-writable
    try:
        lines = hook(env(home, AWS_PROFILE="dev"))
    finally:
        os.umask(old)
    base = home / "cache" / "awsguard"
    assert lines[2] == str(base / "prompt" / "4242")
    for directory in (base, base / "prompt", base / "prompt" / "4242"):
        assert directory.stat().st_mode & 0o777 == 0o700
