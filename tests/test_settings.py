"""awsguard's own settings (docs/ARCHITECTURE.md §5.3): where the policy file is, ``AWSGUARD=off``,
``AWSGUARD_MODE``, every key of the TOML file valid and invalid, what a bad setting says (its
name, the accepted values, never a secret), and the marshal cache of the parsed file.

Every case reads a real file written by the test; the cache is proven by behaviour: a planted
entry is served only when it is trustworthy and still describes the file."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import time
from pathlib import Path

import pytest

from awsguard import errors
from awsguard.host import memo
from awsguard.judge import settings

RULES = (
    "login-shadowed",
    "account-mismatch",
    "expected-account",
    "env-overrides-profile",
    "profile-env-disagree",
    "read-only",
    "login-expired",
)  # docs/ARCHITECTURE.md §5.3
SEVERITIES = ("off", "info", "warn", "block")
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"  # secret-access-key shaped, 40 chars
HANG_GUARD = 60  # seconds; only a guard against a hang, never a measurement


def home_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), **extra}


def with_policy(tmp_path: Path, text: str | bytes, **extra: str) -> dict[str, str]:
    """An environment whose AWSGUARD_CONFIG names a file holding ``text``."""
    path = tmp_path / "policy.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    settle(path)
    return home_env(tmp_path, AWSGUARD_CONFIG=str(path), **extra)


def settle(path: Path) -> Path:
    """Date ``path``'s mtime a minute back: the cache keeps nothing about a file written in the
    last two seconds (memo.settled)."""
    stamp = time.time_ns() - 60 * 10**9
    os.utime(path, ns=(stamp, stamp))
    return path


def load_error(env: dict[str, str], cache_dir: str | None = None) -> str:
    """The rendered message of the SettingsError that ``load`` raises."""
    with pytest.raises(settings.SettingsError) as info:
        settings.load(env, cache_dir=cache_dir)
    assert isinstance(info.value, errors.AwsGuardError)
    text = info.value.render()
    assert text.startswith("awsguard: ") and "Traceback" not in text
    return text


# -- where the policy file is ------------------------------------------------------------------


def test_default_path_is_under_the_home_config_dir(tmp_path):
    env = home_env(tmp_path)
    expected = f"{env['HOME']}/.config/awsguard/config.toml"
    assert settings.policy_file(env) == expected
    assert settings.load(env).file is None  # nothing there yet
    Path(expected).parent.mkdir(parents=True)
    Path(expected).write_text('mode = "strict"\n')
    loaded = settings.load(env)
    assert (loaded.file, loaded.mode) == (expected, "strict")


@pytest.mark.parametrize("xdg", ["{tmp}/xdg", "{tmp}/xdg/"])
def test_xdg_config_home_replaces_dot_config(tmp_path, xdg):
    xdg_dir = tmp_path / "xdg" / "awsguard"
    xdg_dir.mkdir(parents=True)
    (xdg_dir / "config.toml").write_text('mode = "warn"\n')
    # A file at the default place must not be read when XDG_CONFIG_HOME points elsewhere.
    default = tmp_path / "home" / ".config" / "awsguard"
    default.mkdir(parents=True)
    (default / "config.toml").write_text('mode = "strict"\n')
    env = home_env(tmp_path, XDG_CONFIG_HOME=xdg.format(tmp=tmp_path))
    loaded = settings.load(env)
    assert loaded.file == str(xdg_dir / "config.toml") and loaded.mode == "warn"
    # Control: an empty XDG_CONFIG_HOME counts as unset.
    assert settings.load(env | {"XDG_CONFIG_HOME": ""}).mode == "strict"


def test_relative_xdg_config_home_is_ignored(tmp_path):
    env = home_env(tmp_path, XDG_CONFIG_HOME="relative/config")
    assert settings.policy_file(env) == f"{env['HOME']}/.config/awsguard/config.toml"


def test_awsguard_config_wins_over_xdg_and_default(tmp_path):
    chosen = tmp_path / "chosen.toml"
    chosen.write_text('mode = "warn"\n')
    xdg = tmp_path / "xdg" / "awsguard"
    xdg.mkdir(parents=True)
    (xdg / "config.toml").write_text('mode = "strict"\n')
    env = home_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg"), AWSGUARD_CONFIG=str(chosen))
    loaded = settings.load(env)
    assert (loaded.file, loaded.mode) == (str(chosen), "warn")
    # Control: an empty AWSGUARD_CONFIG counts as unset.
    assert settings.load(env | {"AWSGUARD_CONFIG": ""}).mode == "strict"


def test_awsguard_config_expands_tilde_from_the_given_home(tmp_path):
    env = home_env(tmp_path, AWSGUARD_CONFIG="~/policies/aws.toml")
    target = Path(env["HOME"]) / "policies" / "aws.toml"
    assert settings.policy_file(env) == str(target)
    target.parent.mkdir()
    target.write_text('mode = "strict"\n')
    assert settings.load(env).mode == "strict"
    # ~user is that user's home from the password database.
    root_home = pwd.getpwuid(0).pw_dir.rstrip("/")
    name = pwd.getpwuid(0).pw_name
    assert settings.policy_file({"AWSGUARD_CONFIG": f"~{name}/p.toml"}) == f"{root_home}/p.toml"


def test_awsguard_config_expands_variables(tmp_path):
    env = home_env(tmp_path, AWSGUARD_CONFIG="$HOME/${POLICY_NAME}.toml", POLICY_NAME="team")
    assert settings.policy_file(env) == f"{env['HOME']}/team.toml"


# -- AWSGUARD and AWSGUARD_MODE ----------------------------------------------------------------


def test_awsguard_off_does_not_read_the_file(tmp_path):
    env = with_policy(tmp_path, "this is [not toml")
    assert "policy.toml" in load_error(env)  # control: the file is broken
    for off_env in (env | {"AWSGUARD": "off"}, env | {"AWSGUARD": "off", "AWSGUARD_MODE": "no"}):
        loaded = settings.load(off_env, cache_dir=str(tmp_path / "cache"))
        assert loaded.off is True and loaded.file is None
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("value", ["", "on"])
def test_awsguard_on_or_unset_reads_the_file(tmp_path, value):
    loaded = settings.load(with_policy(tmp_path, 'mode = "strict"\n', AWSGUARD=value))
    assert loaded.off is False and loaded.mode == "strict"


@pytest.mark.parametrize("value", ["0", "OFF", "false", "disable", "off "])
def test_awsguard_with_another_value_is_a_bad_setting(tmp_path, value):
    text = load_error(home_env(tmp_path, AWSGUARD=value))
    assert "AWSGUARD=" in text and "off" in text


@pytest.mark.parametrize(("env_mode", "file_mode", "expected"), [
    ("warn", None, "warn"),
    ("strict", None, "strict"),
    ("", None, None),
    ("", "strict", "strict"),
    ("warn", "strict", "warn"),
    ("strict", "warn", "strict"),
])  # fmt: skip
def test_awsguard_mode_is_stronger_than_the_file(tmp_path, env_mode, file_mode, expected):
    text = f'mode = "{file_mode}"\n' if file_mode else ""
    assert settings.load(with_policy(tmp_path, text, AWSGUARD_MODE=env_mode)).mode == expected


@pytest.mark.parametrize("value", ["WARN", "block", "off", "strict,warn", "1"])
def test_awsguard_mode_invalid_names_the_variable_and_the_values(tmp_path, value):
    text = load_error(home_env(tmp_path, AWSGUARD_MODE=value))
    assert "AWSGUARD_MODE" in text and "warn" in text and "strict" in text


# -- the TOML file: valid keys -----------------------------------------------------------------


def test_no_file_gives_the_defaults(tmp_path):
    loaded = settings.load(home_env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "nothing-here")))
    assert (loaded.off, loaded.mode, loaded.rules, loaded.profiles, loaded.file) == (
        False,
        None,
        {},
        {},
        None,
    )


def test_an_empty_file_is_read_and_changes_nothing(tmp_path):
    env = with_policy(tmp_path, "# nothing yet\n")
    loaded = settings.load(env)
    assert loaded.file == env["AWSGUARD_CONFIG"]
    assert (loaded.mode, loaded.rules, loaded.profiles) == (None, {}, {})


@pytest.mark.parametrize("mode", ["warn", "strict"])
def test_mode_in_the_file(tmp_path, mode):
    assert settings.load(with_policy(tmp_path, f'mode = "{mode}"\n')).mode == mode


@pytest.mark.parametrize("severity", SEVERITIES)
@pytest.mark.parametrize("rule", RULES)
def test_every_rule_takes_every_severity(tmp_path, rule, severity):
    loaded = settings.load(with_policy(tmp_path, f'[rules]\n{rule} = "{severity}"\n'))
    assert loaded.rules == {rule: severity}


def test_all_rules_in_one_table(tmp_path):
    lines = [f'{rule} = "{SEVERITIES[i % 4]}"' for i, rule in enumerate(RULES)]
    loaded = settings.load(with_policy(tmp_path, "[rules]\n" + "\n".join(lines) + "\n"))
    assert loaded.rules == {rule: SEVERITIES[i % 4] for i, rule in enumerate(RULES)}


def test_profile_tables(tmp_path):
    text = (
        '[profiles.prod]\nexpect_account = "012345678901"\nread_only = true\nconfirm = true\n'
        "[profiles.dev]\nread_only = false\nconfirm = false\n"
        '[profiles."team.billing admin"]\nexpect_account = "999999999999"\n'
    )
    loaded = settings.load(with_policy(tmp_path, text))
    got = {
        name: (rules.expect_account, rules.read_only, rules.confirm)
        for name, rules in loaded.profiles.items()
    }
    assert got == {
        "prod": ("012345678901", True, True),  # a leading zero is part of the id
        "dev": (None, False, False),
        "team.billing admin": ("999999999999", False, False),
    }
    # A profile without a table gets the defaults.
    unnamed = loaded.profile("other")
    assert (unnamed.expect_account, unnamed.read_only, unnamed.confirm) == (None, False, False)
    assert loaded.profile("prod").read_only is True


def test_inline_tables_are_the_same_settings(tmp_path):
    text = 'mode = "warn"\nrules = { read-only = "warn" }\nprofiles = { prod = { read_only = true } }\n'
    loaded = settings.load(with_policy(tmp_path, text))
    assert loaded.mode == "warn" and loaded.rules == {"read-only": "warn"}
    assert loaded.profile("prod").read_only is True


# -- the TOML file: bad settings name the setting and the accepted values ------------------------

PROFILE_KEYS = ("expect_account", "read_only", "confirm")
BAD = [
    # (file text, the setting's name as shown, words every accepted value is shown as)
    ('mode = "loud"\n', "mode", ("warn", "strict")),
    ('mode = "WARN"\n', "mode", ("warn", "strict")),
    ('mode = "off"\n', "mode", ("warn", "strict")),
    ("mode = 1\n", "mode", ("warn", "strict")),
    ("mode = true\n", "mode", ("warn", "strict")),
    ('mode = ["warn"]\n', "mode", ("warn", "strict")),
    ("[mode]\nvalue = 1\n", "mode", ("warn", "strict")),
    ('[rules]\nlogin-shadowed = "error"\n', "rules.login-shadowed", SEVERITIES),
    ('[rules]\nread-only = "Block"\n', "rules.read-only", SEVERITIES),
    ("[rules]\nexpected-account = true\n", "rules.expected-account", SEVERITIES),
    ("[rules]\nlogin-expired = 2\n", "rules.login-expired", SEVERITIES),
    ('[rules.login-shadowed]\nseverity = "warn"\n', "rules.login-shadowed", SEVERITIES),
    ('[rules]\nlogin-shadowd = "warn"\n', "login-shadowd", RULES),
    ('[rules]\nread_only = "warn"\n', "read_only", RULES),
    ('rules = "off"\n', "rules", ("[rules]",)),
    ('rules = ["login-shadowed"]\n', "rules", ("[rules]",)),
    ("profiles = 1\n", "profiles", ("[profiles.",)),
    ("profiles = { prod = 1 }\n", "profiles.prod", ("[profiles.prod]",)),
    ("[profiles.prod]\nexpect_account = 123456789012\n", "profiles.prod.expect_account", ("12",)),
    ('[profiles.prod]\nexpect_account = "12345678901"\n', "profiles.prod.expect_account", ("12",)),
    ('[profiles.prod]\nexpect_account = "1234567890123"\n', "profiles.prod.expect_account", ("12",)),
    ('[profiles.prod]\nexpect_account = "12345678901a"\n', "profiles.prod.expect_account", ("12",)),
    ('[profiles.prod]\nexpect_account = "1234-5678-9012"\n', "profiles.prod.expect_account", ("12",)),
    ('[profiles.prod]\nexpect_account = " 123456789012"\n', "profiles.prod.expect_account", ("12",)),
    ('[profiles.prod]\nexpect_account = ""\n', "profiles.prod.expect_account", ("12",)),
    # Fullwidth digits are digits to str.isdigit, but not an account id.
    ('[profiles.prod]\nexpect_account = "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10\uff11\uff12"\n', "profiles.prod.expect_account", ("12",)),
    ('[profiles.prod]\nread_only = "true"\n', "profiles.prod.read_only", ("true", "false")),
    ("[profiles.prod]\nread_only = 1\n", "profiles.prod.read_only", ("true", "false")),
    ('[profiles.prod]\nconfirm = "yes"\n', "profiles.prod.confirm", ("true", "false")),
    ("[profiles.prod]\nconfirm = 0\n", "profiles.prod.confirm", ("true", "false")),
    ('[profiles.prod]\nregion = "us-east-1"\n', "profiles.prod.region", PROFILE_KEYS),
    ("[profiles.prod]\nreadonly = true\n", "profiles.prod.readonly", PROFILE_KEYS),
    ("[profiles.prod.nested]\nread_only = true\n", "profiles.prod.nested", PROFILE_KEYS),
    ('colour = "auto"\n', "colour", ("mode", "rules", "profiles")),
    ("[profile.prod]\nread_only = true\n", "profile", ("mode", "rules", "profiles")),
    ('[settings]\nmode = "warn"\n', "settings", ("mode", "rules", "profiles")),
]  # fmt: skip


@pytest.mark.parametrize(("text", "name", "accepted"), BAD)
def test_bad_setting_names_the_setting_and_the_accepted_values(tmp_path, text, name, accepted):
    env = with_policy(tmp_path, text)
    message = load_error(env)
    first_line = message.splitlines()[0]
    assert name in first_line, message
    assert env["AWSGUARD_CONFIG"] in first_line  # where it is
    missing = [value for value in accepted if value not in message]
    assert not missing, message


def test_a_bad_setting_is_a_usage_error(tmp_path):
    with pytest.raises(settings.SettingsError) as info:
        settings.load(with_policy(tmp_path, 'mode = "loud"\n'))
    assert info.value.code == errors.USAGE


def test_the_first_bad_setting_does_not_hide_a_valid_file(tmp_path):
    """Control for the table above: the same keys with valid values load."""
    text = (
        'mode = "warn"\n[rules]\nlogin-shadowed = "warn"\n'
        '[profiles.prod]\nexpect_account = "123456789012"\nread_only = true\nconfirm = false\n'
    )
    loaded = settings.load(with_policy(tmp_path, text))
    assert loaded.mode == "warn" and loaded.rules == {"login-shadowed": "warn"}
    assert loaded.profile("prod").expect_account == "123456789012"


@pytest.mark.parametrize(
    "text",
    ["mode = \n", 'mode = "warn"\nmode = "strict"\n', "[rules\n", 'mode = "warn" junk\n'],
)
def test_invalid_toml_names_the_file(tmp_path, text):
    env = with_policy(tmp_path, text)
    message = load_error(env)
    assert env["AWSGUARD_CONFIG"] in message and "TOML" in message


def test_a_file_that_is_not_utf8_names_the_file(tmp_path):
    env = with_policy(tmp_path, b'mode = "w\xffarn"\n')
    message = load_error(env)
    assert env["AWSGUARD_CONFIG"] in message and "UTF-8" in message


def test_a_directory_at_the_path_is_an_error(tmp_path):
    env = home_env(tmp_path, AWSGUARD_CONFIG=str(tmp_path / "policy.toml"))
    (tmp_path / "policy.toml").mkdir()
    message = load_error(env)
    assert str(tmp_path / "policy.toml") in message and "directory" in message


def test_a_symlink_to_the_file_is_followed(tmp_path):
    real = tmp_path / "real.toml"
    real.write_text('mode = "strict"\n')
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    assert settings.load(home_env(tmp_path, AWSGUARD_CONFIG=str(link))).mode == "strict"


def _load_in_child(env: dict[str, str], cache_dir: str | None = None) -> str:
    """``settings.load`` in a fresh interpreter, so that a hang fails the test instead of
    stopping the run. Returns what it printed: the mode and the file, or the error."""
    code = (
        "import sys\nfrom awsguard.judge import settings\n"
        "try:\n"
        "    s = settings.load(dict(HOME=sys.argv[1], AWSGUARD_CONFIG=sys.argv[2]),"
        " cache_dir=sys.argv[3] or None)\n"
        "    print(s.mode, s.file)\n"
        "except settings.SettingsError as e:\n"
        "    print(e.render())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, env["HOME"], env["AWSGUARD_CONFIG"], cache_dir or ""],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("with_cache", [False, True])
def test_a_fifo_named_by_awsguard_config_is_an_error_and_never_opened(tmp_path, with_cache):
    """Opening a FIFO for reading blocks until a writer comes: the file must not be opened.
    Named explicitly, it is an error (the user asked for a policy that cannot be read)."""
    fifo = tmp_path / "policy.toml"
    os.mkfifo(fifo)
    env = home_env(tmp_path, AWSGUARD_CONFIG=str(fifo))
    cache = str(tmp_path / "cache") if with_cache else None
    out = _load_in_child(env, cache)
    assert out.startswith("awsguard: ") and "not a regular file" in out and str(fifo) in out


@pytest.mark.parametrize("with_cache", [False, True])
def test_a_fifo_at_the_default_path_is_treated_as_absent_and_never_opened(tmp_path, with_cache):
    home = tmp_path / "home"
    (home / ".config" / "awsguard").mkdir(parents=True)
    os.mkfifo(home / ".config" / "awsguard" / "config.toml")
    code = (
        "import sys\nfrom awsguard.judge import settings\n"
        "s = settings.load(dict(HOME=sys.argv[1]), cache_dir=sys.argv[2] or None)\n"
        "print(s.mode, s.file)\n"
    )
    cache = str(tmp_path / "cache") if with_cache else ""
    done = subprocess.run(
        [sys.executable, "-c", code, str(home), cache],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=True,
    )
    assert done.stdout.strip() == "None None"


def test_a_missing_file_named_by_awsguard_config_is_an_error(tmp_path):
    """A typo in AWSGUARD_CONFIG must not silently drop the policy the user asked for."""
    message = load_error(home_env(tmp_path, AWSGUARD_CONFIG=str(tmp_path / "absent.toml")))
    assert "AWSGUARD_CONFIG" in message and "does not exist" in message


def test_a_character_device_at_the_path_is_treated_as_absent(tmp_path):
    assert settings.load(home_env(tmp_path, AWSGUARD_CONFIG="/dev/null")).file is None


# -- what a bad setting shows: never a secret, never raw control characters ----------------------


@pytest.mark.parametrize(
    "text",
    [
        f'mode = "{SECRET}{SECRET}"\n',  # the value itself is long and secret-looking
        f'[profiles.prod]\nexpect_account = "{SECRET}{SECRET}"\n',
        f'[rules]\nlogin-shadowed = "{SECRET}{SECRET}"\n',
        f'"{SECRET}{SECRET}" = "x"\n',  # as a key
        f'[rules]\n"{SECRET}{SECRET}" = "warn"\n',
    ],
)
def test_a_long_value_is_cut_short(tmp_path, text):
    message = load_error(with_policy(tmp_path, text))
    assert (SECRET + SECRET)[:61] not in message  # at most the short cleaned form


@pytest.mark.parametrize(
    "text",
    [
        f"# aws_secret_access_key = {SECRET}\nmode = 1\n",  # a comment elsewhere in the file
        f'mode = "warn"\n[profiles.prod]\nread_only = "{SECRET}" junk\n',  # TOML error on it
        f"aws_secret_access_key = {SECRET}\n",  # unquoted: invalid TOML on that line
        f'[profiles.prod]\nexpect_account = "1"\n# {SECRET}\n',
    ],
)
def test_no_other_line_of_the_file_is_echoed(tmp_path, text):
    message = load_error(with_policy(tmp_path, text))
    assert SECRET not in message and SECRET[:12] not in message


@pytest.mark.parametrize(
    "text",
    [
        'mode = "\\u001b]0;owned\\u0007"\n',
        '[rules]\n"\\u001b[31mred" = "warn"\n',
        '[profiles."\\u001b[2J"]\nconfirm = 1\n',
        'mode = "warn\\u202eevil"\n',
    ],
)
def test_control_characters_are_not_echoed_raw(tmp_path, text):
    message = load_error(with_policy(tmp_path, text))
    assert "\x1b" not in message and "\x07" not in message and "\u202e" not in message


# -- the marshal cache -------------------------------------------------------------------------


def cache_files(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.iterdir() if not p.name.endswith(".tmp"))


@pytest.fixture
def cached(tmp_path):
    """A policy file (mode warn) loaded once through an empty cache directory."""
    env = with_policy(tmp_path, 'mode = "warn"\n[profiles.prod]\nread_only = true\n')
    cache_dir = tmp_path / "cache"
    first = settings.load(env, cache_dir=str(cache_dir))
    assert first.mode == "warn"
    (entry,) = cache_files(cache_dir)
    return env, cache_dir, entry


def plant_other_payload(tmp_path: Path, entry: Path) -> None:
    """Replace the cached answer for the policy file with the parsed form of another file
    (mode strict, prod expects 111111111111), keeping the entry's record of which file it
    describes. A load served from this entry says so by returning strict."""
    other = tmp_path / "other.toml"
    other.write_text('mode = "strict"\n[profiles.prod]\nexpect_account = "111111111111"\n')
    settle(other)
    other_cache = tmp_path / "other-cache"
    settings.load(home_env(tmp_path, AWSGUARD_CONFIG=str(other)), cache_dir=str(other_cache))
    (other_entry,) = cache_files(other_cache)
    identity, _ = memo.read_marshal(str(entry))  # type: ignore[misc]
    _, payload = memo.read_marshal(str(other_entry))  # type: ignore[misc]
    memo.write_marshal(str(entry), (identity, payload))


def test_the_cache_is_private(cached):
    _, cache_dir, entry = cached
    assert entry.stat().st_uid == os.getuid() and entry.stat().st_mode & 0o077 == 0
    assert cache_dir.stat().st_mode & 0o077 == 0


def test_a_second_load_is_served_from_the_cache(tmp_path, cached):
    env, cache_dir, entry = cached
    plant_other_payload(tmp_path, entry)
    served = settings.load(env, cache_dir=str(cache_dir))
    assert served.mode == "strict"
    assert served.profile("prod").expect_account == "111111111111"
    # Control: without the cache the file itself is read.
    assert settings.load(env).mode == "warn"


def test_editing_the_file_is_seen(tmp_path, cached):
    env, cache_dir, _ = cached
    path = Path(env["AWSGUARD_CONFIG"])
    path.write_text('mode = "strict"\n[profiles.prod]\nread_only = true\n')
    assert settings.load(env, cache_dir=str(cache_dir)).mode == "strict"


def test_an_edit_of_the_same_size_with_the_old_mtime_is_seen(tmp_path, cached):
    env, cache_dir, _ = cached
    path = Path(env["AWSGUARD_CONFIG"])
    before = path.stat()
    with open(path, "r+b") as fh:  # same inode, same size: only read_only's value changes
        data = fh.read().replace(b"read_only = true\n", b"confirm   = true\n")
        fh.seek(0)
        fh.write(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    loaded = settings.load(env, cache_dir=str(cache_dir))
    assert (loaded.profile("prod").read_only, loaded.profile("prod").confirm) == (False, True)


def test_a_file_replaced_by_rename_is_seen(tmp_path, cached):
    env, cache_dir, _ = cached
    path = Path(env["AWSGUARD_CONFIG"])
    new = tmp_path / "new.toml"
    new.write_text(path.read_text().replace('"warn"', '"strict"').replace("true", "true "))
    os.replace(new, path)
    assert settings.load(env, cache_dir=str(cache_dir)).mode == "strict"


def test_a_symlink_pointed_elsewhere_is_seen(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('mode = "warn"\n')
    b.write_text('mode = "strict"\n')
    link = tmp_path / "policy.toml"
    link.symlink_to(a)
    env = home_env(tmp_path, AWSGUARD_CONFIG=str(link))
    cache_dir = str(tmp_path / "cache")
    assert settings.load(env, cache_dir=cache_dir).mode == "warn"
    link.unlink()
    link.symlink_to(b)
    assert settings.load(env, cache_dir=cache_dir).mode == "strict"


def test_a_removed_file_is_no_longer_in_force(tmp_path, cached):
    env, cache_dir, _ = cached
    Path(env["AWSGUARD_CONFIG"]).unlink()
    # Named by AWSGUARD_CONFIG, a missing file is an error; at the default place, "no policy".
    assert "does not exist" in load_error(env, str(cache_dir))
    default = Path(env["HOME"]) / ".config" / "awsguard" / "config.toml"
    default.parent.mkdir(parents=True, exist_ok=True)
    default.write_text('mode = "strict"\n')
    plain = {k: v for k, v in env.items() if k != "AWSGUARD_CONFIG"}
    assert settings.load(plain, cache_dir=str(cache_dir)).mode == "strict"
    default.unlink()
    loaded = settings.load(plain, cache_dir=str(cache_dir))
    assert loaded.mode is None and loaded.file is None


def test_an_entry_made_invalid_by_an_edit_raises(tmp_path, cached):
    env, cache_dir, _ = cached
    Path(env["AWSGUARD_CONFIG"]).write_text('mode = "loud"\n')
    assert "mode" in load_error(env, str(cache_dir))


def test_a_cache_file_owned_by_someone_else_is_ignored(tmp_path, cached):
    env, cache_dir, entry = cached
    plant_other_payload(tmp_path, entry)
    nobody = pwd.getpwnam("nobody")
    os.chown(entry, nobody.pw_uid, nobody.pw_gid)
    if os.getuid() == nobody.pw_uid:  # pragma: no cover - the suite runs as root here
        pytest.skip("running as nobody")
    assert settings.load(env, cache_dir=str(cache_dir)).mode == "warn"
    # The answer is stored again, now by us: the next load is served from it.
    (entry,) = cache_files(cache_dir)
    assert entry.stat().st_uid == os.getuid() and entry.stat().st_mode & 0o022 == 0


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_a_cache_file_writable_by_others_is_ignored(tmp_path, cached, mode):
    env, cache_dir, entry = cached
    plant_other_payload(tmp_path, entry)
    assert settings.load(env, cache_dir=str(cache_dir)).mode == "strict"  # control: trusted
    plant_other_payload(tmp_path, entry)
    os.chmod(entry, mode)
    assert settings.load(env, cache_dir=str(cache_dir)).mode == "warn"


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00garbage\xff" * 10, b"\xe3", b"a str, not the entry"],
)
def test_a_corrupt_cache_file_is_ignored(cached, content):
    env, cache_dir, entry = cached
    entry.write_bytes(content)
    os.chmod(entry, 0o600)
    assert settings.load(env, cache_dir=str(cache_dir)).mode == "warn"


@pytest.mark.parametrize("value", [None, (1, 2, 3), ("key", "payload"), ["list"], {"a": 1}])
def test_a_cache_file_of_another_shape_is_ignored(cached, value):
    env, cache_dir, entry = cached
    memo.write_marshal(str(entry), value)
    assert settings.load(env, cache_dir=str(cache_dir)).mode == "warn"


def test_a_truncated_cache_file_is_ignored(cached):
    env, cache_dir, entry = cached
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    assert settings.load(env, cache_dir=str(cache_dir)).mode == "warn"


def test_a_fifo_or_directory_at_the_cache_path_is_ignored(tmp_path, cached):
    env, cache_dir, entry = cached
    entry.unlink()
    os.mkfifo(entry)
    assert _load_in_child(env, str(cache_dir)) == f"warn {env['AWSGUARD_CONFIG']}"
    entry.unlink(missing_ok=True)
    entry.mkdir()
    assert settings.load(env, cache_dir=str(cache_dir)).mode == "warn"


def test_an_unusable_cache_dir_does_not_stop_the_load(tmp_path):
    env = with_policy(tmp_path, 'mode = "strict"\n')
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    assert settings.load(env, cache_dir=str(blocker)).mode == "strict"
    assert settings.load(env, cache_dir=str(blocker / "sub")).mode == "strict"


def test_two_policy_files_do_not_share_an_entry(tmp_path):
    cache_dir = str(tmp_path / "cache")
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('mode = "warn"\n')
    b.write_text('mode = "strict"\n')
    env_a = home_env(tmp_path, AWSGUARD_CONFIG=str(a))
    env_b = home_env(tmp_path, AWSGUARD_CONFIG=str(b))
    for _ in range(2):
        assert settings.load(env_a, cache_dir=cache_dir).mode == "warn"
        assert settings.load(env_b, cache_dir=cache_dir).mode == "strict"


def test_marshal_helpers_round_trip_and_refuse_untrusted_files(tmp_path):
    path = tmp_path / "deep" / "x.marshal"
    value = ("k", {"a": (1, True, None)}, [b"bytes"])
    memo.write_marshal(str(path), value)
    assert memo.read_marshal(str(path)) == value
    assert path.stat().st_mode & 0o777 == 0o600
    os.chmod(path, 0o644)  # readable by others is fine: only writable matters
    assert memo.read_marshal(str(path)) == value
    os.chmod(path, 0o646)
    assert memo.read_marshal(str(path)) is None
    assert memo.read_marshal(str(tmp_path / "absent")) is None
    # Something marshal cannot store leaves no file behind.
    memo.write_marshal(str(tmp_path / "bad.marshal"), object())
    assert not (tmp_path / "bad.marshal").exists()
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["x.marshal"]


@pytest.mark.parametrize("opener, closer", [("[", "]"), ("{a = ", "}")])
def test_a_deeply_nested_policy_file_is_a_bad_setting(tmp_path, opener, closer):
    """tomllib recurses into nested values: a hostile file must be a clear error, never an
    internal error (which the shim would turn into running aws unchecked)."""
    path = tmp_path / "config.toml"
    path.write_text("x = " + opener * 5000 + "1" + closer * 5000 + "\n")
    environ = {"HOME": str(tmp_path), "AWSGUARD_CONFIG": str(path)}
    with pytest.raises(settings.SettingsError, match="nests arrays or tables too deeply"):
        settings.load(environ)
    # Negative control: the same shape, shallow, gets as far as the unknown setting.
    path.write_text("x = " + opener * 3 + "1" + closer * 3 + "\n")
    with pytest.raises(settings.SettingsError, match="unknown setting x"):
        settings.load(environ)


def test_a_huge_policy_file_is_refused(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("# padding\n" * 200_000 + 'mode = "warn"\n')
    with pytest.raises(settings.SettingsError, match="larger than 1 MiB"):
        settings.load({"HOME": str(tmp_path), "AWSGUARD_CONFIG": str(path)})
