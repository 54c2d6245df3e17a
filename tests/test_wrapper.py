"""An `aws` that may run CLI v1 on one call and v2 on the next is judged under both CLIs' rules
(awsguard.host.wrapper, docs/ARCHITECTURE.md §10.3).

The behavioural tests put a wrapper of the kind people write in front of the real CLI v1 (awscli
from PyPI) and a v2 stand-in, pick between them by ``FAKEV``, and check what `explain` and the
installed shim do when the choice differs from the one the version probe saw.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import shimkit
from shimkit import BLOCKED, Sandbox

from awsguard.host import memo, realcli, wrapper
from awsguard.host.realcli import cli_info, semantics

REAL_AWS = os.path.join(os.path.dirname(sys.executable), "aws")  # awscli v1 from PyPI
V2_LINE = shimkit.V2_VERSION_LINE


def write_exe(path: Path, text: str, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def examine(path: Path) -> str | None:
    return wrapper.examine(str(path), {"PATH": "/usr/bin:/bin"})[0]


# --- Reading scripts ---------------------------------------------------------------------------

FIXED_TARGET = "/bin/true"  # a program: the end of any chain that reaches it

# (name, script text, expected reason or None).  {T} is a fixed absolute program.
SCRIPTS = [
    # Wrappers that choose: each must be judged under both CLIs.
    (
        "branch on a variable",
        '#!/bin/sh\nif [ "$FAKEV" = 2 ]; then exec /opt/v2/aws "$@"; fi\nexec /opt/v1/aws "$@"\n',
        wrapper.CHOOSES,
    ),
    (
        "variable in the path",
        '#!/bin/bash\nexec "/opt/aws-v${FAKEV:-1}/bin/aws" "$@"\n',
        wrapper.CHOOSES,
    ),
    (
        "case on a variable",
        '#!/bin/sh\ncase "$FAKEV" in 2) real=/v2/aws;; *) real=/v1/aws;; esac\nexec "$real" "$@"\n',
        wrapper.CHOOSES,
    ),
    ("by the directory", '#!/bin/sh\nexec "$(cat .aws-version)" "$@"\n', wrapper.CHOOSES),
    ("a name found on PATH", '#!/bin/sh\nexport X=1\nexec aws "$@"\n', wrapper.CHOOSES),
    ("without exec", '#!/bin/sh\n/opt/v1/aws "$@"\n/opt/v2/aws "$@"\n', wrapper.CHOOSES),
    ("eval", '#!/bin/sh\neval "$AWS_CMD" "$@"\n', wrapper.CHOOSES),
    ("source", '#!/bin/sh\n. "$HOME/.aws-pick" "$@"\n', wrapper.CHOOSES),
    ("env then a name", '#!/bin/sh\nexec /usr/bin/env AWS_PAGER= aws2 "$@"\n', wrapper.CHOOSES),
    ("backquotes", '#!/bin/sh\nexec `pick-aws` "$*"\n', wrapper.CHOOSES),
    (
        "a function that branches",
        '#!/bin/bash\nrun() {\n  if [ -e .v2 ]; then exec /opt/v2/aws "$@"; else exec /opt/v1/aws "$@"; fi\n}\nrun "$@"\n',
        wrapper.CHOOSES,
    ),
    ("perl", '#!/usr/bin/perl\nexec("/opt/v$ENV{FAKEV}/aws", @ARGV);\n', wrapper.FOREIGN),
    (
        "python, not the CLI",
        '#!/usr/bin/python3\nimport os, sys\nos.execv("/opt/aws", sys.argv)\n',
        wrapper.NOT_THE_CLI,
    ),
    (
        "python naming awscli in a string only",
        '#!/usr/bin/python3\nimport os\nos.execv("/opt/awscli-v2/aws", [])\n',
        wrapper.NOT_THE_CLI,
    ),
    (
        "pyenv's shim",
        '#!/usr/bin/env bash\nset -e\nprogram="${0##*/}"\nexport PYENV_ROOT="/r"\nexec "/r/libexec/pyenv" exec "$program" "$@"\n',
        wrapper.MANAGER,
    ),
    (
        "asdf's shim",
        '#!/usr/bin/env bash\n# asdf-plugin: awscli 2.15.0\nexec /home/u/.asdf/bin/asdf exec "aws" "$@"\n',
        wrapper.MANAGER,
    ),
    ("mise's script shim", '#!/bin/sh\nexec mise x -- aws "$@"\n', wrapper.MANAGER),
    # The CLI itself, or wrappers whose program is fixed: one major.
    (
        "pip's v1 script",
        "#!/usr/bin/python3\nimport sys\nimport awscli.clidriver\nsys.exit(awscli.clidriver.main())\n",
        None,
    ),
    (
        "pip's console script",
        "#!/usr/bin/python3\nimport sys\nfrom awscli.clidriver import main\nsys.exit(main())\n",
        None,
    ),
    (
        "pip's launcher for a long path",
        "#!/bin/sh\n'''exec' \"/usr/bin/python3\" \"$0\" \"$@\"\n' '''\nfrom awscli.clidriver import main\nmain()\n",
        None,
    ),
    ("fixed program", '#!/bin/sh\nexport AWS_PAGER=\nexec {T} "$@"\n', None),
    (
        "Nix's makeWrapper",
        "#! /bin/bash -e\nPATH=${PATH:+':'$PATH':'}\nPATH=${PATH/':''/nix/store/x-groff/bin'':'/':'}\n"
        'PATH=${PATH#\':\'}\nexport PATH\nexec -a "$0" "{T}"  "$@" \n',
        None,
    ),
    ("a function", '#!/bin/sh\nmain() {\n  exec {T} "$@"\n}\nmain "$@"\n', None),
    ("ksh function", '#!/bin/bash\nfunction go { exec {T} "$@"; }\ngo "$@"\n', None),
    ("nice and nohup", '#!/bin/sh\nexec nice -n 5 nohup {T} "$@"\n', None),
    (
        "no argument is handed on",
        '#!/bin/sh\nfor a in "$@"; do printf "%s" "$a"; done\n[ "$1" = x ] && echo y\n',
        None,
    ),
    ("the test suite's stub aws", shimkit.STUB, None),
]


@pytest.mark.parametrize(("name", "text", "expected"), SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_which_scripts_may_choose(
    tmp_path: Path, name: str, text: str, expected: str | None
) -> None:
    script = write_exe(tmp_path / "aws", text.replace("{T}", FIXED_TARGET))
    assert examine(script) == expected


def test_a_fixed_wrapper_is_read_through_to_what_it_runs(tmp_path: Path) -> None:
    """A wrapper of a wrapper is judged by the last one: fixed → fixed → choosing = choosing."""
    chooser = write_exe(tmp_path / "pick", '#!/bin/sh\nexec "/opt/v$FAKEV/aws" "$@"\n')
    middle = write_exe(tmp_path / "middle", f'#!/bin/sh\nexec "{chooser}" "$@"\n')
    outer = write_exe(tmp_path / "aws", f'#!/bin/sh\nexec {middle} "$@"\n')
    why, read = wrapper.examine(str(outer), {"PATH": "/usr/bin:/bin"})
    assert why == wrapper.CHOOSES
    assert [p for p in read if p.startswith(str(tmp_path))] == [
        str(outer),
        str(middle),
        str(chooser),
    ]
    # Control: the same chain ending in a program is fixed.
    chooser.write_text(f'#!/bin/sh\nexec {FIXED_TARGET} "$@"\n')
    assert examine(outer) is None


def test_chains_and_loops_of_wrappers_are_bounded(tmp_path: Path) -> None:
    last = write_exe(tmp_path / "w0", f'#!/bin/sh\nexec {FIXED_TARGET} "$@"\n')
    for i in range(1, wrapper.MAX_HOPS):
        last = write_exe(tmp_path / f"w{i}", f'#!/bin/sh\nexec {last} "$@"\n')
    assert examine(last) is None  # MAX_HOPS wrappers in front of a program: read through
    longer = write_exe(tmp_path / "w-more", f'#!/bin/sh\nexec {last} "$@"\n')
    assert examine(longer) == wrapper.TOO_DEEP
    a, b = tmp_path / "a", tmp_path / "b"
    write_exe(a, f'#!/bin/sh\nexec {b} "$@"\n')
    write_exe(b, f'#!/bin/sh\nexec {a} "$@"\n')
    assert examine(a) == wrapper.TOO_DEEP


def test_a_python_found_through_env_may_be_a_managers_shim(tmp_path: Path) -> None:
    """`#!/usr/bin/env python3` finds whatever python3 comes first on PATH: a pyenv shim there
    picks the interpreter (and with it the awscli it imports) by the directory."""
    shims = tmp_path / "shims"
    write_exe(
        shims / "python3", '#!/usr/bin/env bash\nexec "/r/libexec/pyenv" exec "python3" "$@"\n'
    )
    script = write_exe(
        tmp_path / "aws", "#!/usr/bin/env python3\nfrom awscli.clidriver import main\nmain()\n"
    )
    assert (
        wrapper.examine(str(script), {"PATH": f"{shims}:/usr/bin:/bin"})[0] == wrapper.INTERPRETER
    )
    assert wrapper.examine(str(script), {"PATH": "/usr/bin:/bin"})[0] is None  # control


def test_manager_programs_are_known_by_name(tmp_path: Path) -> None:
    for name in sorted(wrapper.MANAGER_PROGRAMS):
        program = write_exe(tmp_path / name / name, "\x7fELF not really")
        link = tmp_path / name / "aws"
        link.symlink_to(program)
        assert examine(link) == wrapper.MANAGER
    assert examine(Path(FIXED_TARGET)) is None  # control: a program of another name


def test_scripts_too_long_to_read_may_choose(tmp_path: Path) -> None:
    body = (
        "#!/bin/sh\n" + "# padding\n" * (wrapper.SCRIPT_MAX // 10) + f'exec {FIXED_TARGET} "$@"\n'
    )
    assert examine(write_exe(tmp_path / "aws", body)) == wrapper.UNREAD
    assert (
        examine(write_exe(tmp_path / "short", body[-200:].replace("ng\n", "#!/bin/sh\n", 1)))
        is None
    )


@pytest.mark.parametrize(
    "text",
    [
        "#!/bin/sh\nexec " + "$(" * 100_000 + ' "$@"\n',
        "#!/bin/sh\nexec " + "${" * 100_000 + ' "$@"\n',
        "#!/bin/sh\nexec " + '"$(' * 30_000 + ' "$@"\n',
        "#!/bin/sh\nexec '" + 'unterminated "$@"\n',
        "#!/bin/sh\nexec " + "\\" * 50_001,
        "#!/bin/sh\n" + "(" * 60_000 + "\n",
    ],
    ids=["nested $(", "nested ${", "quoted $(", "open quote", "backslashes", "parens"],
)
def test_hostile_scripts_are_read_in_bounded_time_and_depth(tmp_path: Path, text: str) -> None:
    # No RecursionError, no hang: whatever cannot be read for sure counts as a choice or as
    # handing on nothing, never an error.
    why = examine(write_exe(tmp_path / "aws", text[: wrapper.SCRIPT_MAX]))
    assert why in (None, wrapper.CHOOSES)


# --- What the decision does with it --------------------------------------------------------------

CONFIG = (
    "[profile shadowed]\nlogin_session = arn:aws:iam::999999999999:user/test_user_B\n"
    "[profile clean]\nregion = eu-west-1\n"
)
CREDENTIALS = (
    "[shadowed]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
    "[clean]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
)
# CLI v2 follows AWS_PROFILE (the shadowed profile: block); v1 AWS_DEFAULT_PROFILE (clean: the
# env-overrides-profile warning only).  docs/credential-chain.md §2.
PROFILES = {"AWS_PROFILE": "shadowed", "AWS_DEFAULT_PROFILE": "clean"}


def fakev_wrapper(path: Path, v1: str, v2: str) -> Path:
    """The issue's wrapper: CLI v2 when FAKEV=2, else v1."""
    return write_exe(
        path,
        f'#!/bin/sh\nif [ "$FAKEV" = 2 ]; then\n  exec "{v2}" "$@"\nfi\nexec "{v1}" "$@"\n',
    )


@pytest.fixture
def world(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(CONFIG)
    (home / ".aws" / "credentials").write_text(CREDENTIALS)
    v2 = write_exe(tmp_path / "v2" / "aws", f"#!/bin/sh\necho '{V2_LINE}'\n")
    fakev_wrapper(tmp_path / "wrap" / "aws", REAL_AWS, str(v2))
    return {
        "HOME": str(home),
        "PATH": f"{tmp_path / 'wrap'}:/usr/bin:/bin",
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        **PROFILES,
    }


def explain(env: dict[str, str]) -> dict[str, object]:
    from awsguard.commands import explain as explain_cmd

    out = io.StringIO()
    explain_cmd.run(["sts", "get-caller-identity"], as_json=True, environ=env, out=out)
    doc: dict[str, object] = json.loads(out.getvalue())
    return doc


def test_a_wrapper_that_picks_by_a_variable_is_judged_under_both_clis(
    world: dict[str, str],
) -> None:
    # The probe runs with FAKEV=1 and learns CLI v1; the call then runs with FAKEV=2.
    probed = semantics(
        dict(world, FAKEV="1"), probe=True, cache_dir=world["XDG_CACHE_HOME"] + "/awsguard"
    )
    assert probed.info is not None and probed.info.major == 1 and probed.majors == (1, 2)
    doc = explain(dict(world, FAKEV="2"))
    cli = doc["cli"]
    assert isinstance(cli, dict)
    assert cli["rules"] == "both" and cli["rules_reason"] == wrapper.CHOOSES and cli["major"] == 1
    # v1 would only warn about `clean`; v2 runs the shadowed profile: the stricter verdict.
    assert (doc["verdict"], doc["profile"], doc["semantics"]) == ("block", "shadowed", 2)
    # Negative control (what judging by the probed major alone gave): v1 rules, only a warning.
    pinned = explain(dict(world, FAKEV="2", AWSGUARD_CLI_MAJOR="1"))
    assert (pinned["verdict"], pinned["profile"]) == ("warn", "clean")


def test_explain_says_which_rules_and_why(world: dict[str, str]) -> None:
    from awsguard.commands import explain as explain_cmd

    out = io.StringIO()
    explain_cmd.run(
        ["sts", "get-caller-identity"], as_json=False, environ=world, out=out, color=False
    )
    text = out.getvalue()
    assert "v1 and v2 rules" in text and wrapper.CHOOSES in text
    assert "AWSGUARD_CLI_MAJOR=1 or 2" in text


def test_a_wrapper_that_always_runs_one_cli_keeps_its_rules(
    world: dict[str, str], tmp_path: Path
) -> None:
    write_exe(tmp_path / "wrap" / "aws", f'#!/bin/sh\nexport AWS_PAGER=\nexec "{REAL_AWS}" "$@"\n')
    doc = explain(world)
    cli = doc["cli"]
    assert isinstance(cli, dict)
    assert (cli["rules"], cli["rules_reason"], cli["major"]) == ("v1", None, 1)
    assert (doc["verdict"], doc["profile"]) == ("warn", "clean")


def test_an_aws_whose_version_is_unknown_is_judged_under_both(
    world: dict[str, str], tmp_path: Path
) -> None:
    """A probe that learns nothing (a broken or silent --version) is no reason to judge by v2's
    rules alone."""
    write_exe(tmp_path / "wrap" / "aws", "#!/bin/sh\nexit 3\n")
    doc = explain(world)
    cli = doc["cli"]
    assert isinstance(cli, dict)
    assert cli["major"] is None and cli["rules"] == "both"
    assert "could not be learnt" in str(cli["rules_reason"])
    assert doc["verdict"] == "block"


def test_an_aws_of_another_major_is_judged_under_both(
    world: dict[str, str], tmp_path: Path
) -> None:
    """A version that is neither 1.x nor 2.x (a future CLI, a spoof) gets no one major's rules."""
    write_exe(
        tmp_path / "wrap" / "aws",
        '#!/bin/sh\n[ "$1" = --version ] && echo "aws-cli/3.0.0 Python/3.12.1 Linux/6"\nexit 0\n',
    )
    doc = explain(world)
    cli = doc["cli"]
    assert isinstance(cli, dict)
    assert (cli["version"], cli["major"], cli["rules"]) == ("3.0.0", None, "both")
    assert cli["rules_reason"] == "an aws whose version is neither 1.x nor 2.x"
    assert doc["verdict"] == "block"


# --- The probe's cache: what a failed probe depended on --------------------------------------------


def counting_stub(path: Path, counter: Path, output: str) -> Path:
    return write_exe(path, f"#!/bin/sh\necho run >> '{counter}'\nprintf '%s\\n' '{output}'\n")


def runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def test_a_failed_probe_is_made_again_when_what_it_ran_changes(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    real = counting_stub(tmp_path / "real", counter, "no version here")
    aws = write_exe(tmp_path / "bin" / "aws", f'#!/bin/sh\nexec "{real}" "$@"\n')
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    cache = str(tmp_path / "cache")
    assert cli_info(str(aws), env, cache_dir=cache).major is None
    assert cli_info(str(aws), env, cache_dir=cache).major is None
    assert runs(counter) == 1  # cached: a failing --version is not run on every call
    # What the wrapper runs is fixed (now a working CLI): the next call learns it at once.
    counting_stub(real, counter, V2_LINE)
    os.utime(real, ns=(os.stat(real).st_atime_ns, os.stat(real).st_mtime_ns + 10**9))
    assert cli_info(str(aws), env, cache_dir=cache).major == 2
    assert runs(counter) == 2
    # A successful answer does not depend on PATH; a failed one does (a relative name in it).
    assert cli_info(str(aws), dict(env, PATH="/bin:/usr/bin"), cache_dir=cache).major == 2
    assert runs(counter) == 2


def test_a_failed_probe_is_made_again_when_path_changes(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    aws = counting_stub(tmp_path / "aws", counter, "no version here")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    cache = str(tmp_path / "cache")
    cli_info(str(aws), env, cache_dir=cache)
    cli_info(str(aws), env, cache_dir=cache)
    assert runs(counter) == 1
    cli_info(str(aws), dict(env, PATH="/usr/local/bin:/usr/bin:/bin"), cache_dir=cache)
    assert runs(counter) == 2


def test_a_probe_that_timed_out_is_retried_soon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realcli, "PROBE_TIMEOUT", 0.2)
    counter = tmp_path / "count"
    aws = write_exe(tmp_path / "aws", f"#!/bin/sh\necho run >> '{counter}'\nexec /bin/sleep 60\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    cache = str(tmp_path / "cache")
    assert cli_info(str(aws), env, cache_dir=cache).major is None
    path = os.path.join(cache, realcli.CACHE_FILE)
    data = memo.read_marshal(path, derived=True)
    entry = data["entries"][os.path.realpath(aws)]
    assert entry["retry"] == realcli._RETRY_TIMED_OUT_AFTER < realcli._RETRY_FAILED_AFTER
    cli_info(str(aws), env, cache_dir=cache)
    assert runs(counter) == 1
    entry["at"] -= realcli._RETRY_TIMED_OUT_AFTER + 1
    memo.write_marshal(path, data)
    cli_info(str(aws), env, cache_dir=cache)
    assert runs(counter) == 2


# --- Through the installed shim ----------------------------------------------------------------------


@pytest.fixture
def sb(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    home = tmp_path_factory.mktemp("wrapper-shim") / "awsguard-home"
    proc = shimkit.install(home)
    assert proc.returncode == 0, proc.stderr
    sandbox = Sandbox(tmp_path / "sb", home / "bin" / "aws")
    yield sandbox
    sandbox.kill_leftovers()


def test_the_shim_blocks_what_v2_would_run_behind_a_wrapper_probed_as_v1(sb: Sandbox) -> None:
    sb.aws_config(CONFIG)
    sb.credentials(CREDENTIALS)
    wrap = fakev_wrapper(sb.root / "wrap" / "aws", REAL_AWS, str(sb.stub))
    path = f"{sb.shim_dir}:{wrap.parent}:/usr/bin:/bin"
    # The first call probes with FAKEV=1 (the real CLI v1 answers) and is judged: v1 warns.
    first = sb.run(["sts", "get-caller-identity"], {**PROFILES, "FAKEV": "1"}, path=path)
    assert first.returncode == BLOCKED, first.stderr  # the stricter of both, from the start
    # FAKEV=2: v2 (the stub) would run as the shadowed profile's keys.  Blocked, and it never ran.
    second = sb.run(["sts", "get-caller-identity"], {**PROFILES, "FAKEV": "2"}, path=path)
    assert second.returncode == BLOCKED and second.record is None, second.stderr
    assert b"shadowed" in second.stderr
    # Negative control: judged by the probed major alone (v1), the call runs the v2 stand-in.
    pinned = sb.run(
        ["sts", "get-caller-identity"],
        {**PROFILES, "FAKEV": "2", "AWSGUARD_CLI_MAJOR": "1"},
        path=path,
    )
    assert pinned.returncode == 0 and pinned.record is not None, pinned.stderr


def test_the_prompt_shows_the_stricter_of_both_once_the_shim_has_learnt_the_wrapper(
    world: dict[str, str],
) -> None:
    """The prompt never starts the CLI; once the shim's probe has learnt that the aws found is a
    wrapper that may choose, the segment is the stricter of both CLIs' (as the shim judges)."""
    from awsguard.present import segment

    before, _ = segment.compute(dict(world, FAKEV="1"))
    assert before.verdict == "block"  # nothing learnt yet: v2's rules, the shadowed profile
    semantics(dict(world, FAKEV="1"), probe=True, cache_dir=world["XDG_CACHE_HOME"] + "/awsguard")
    after, _ = segment.compute(dict(world, FAKEV="1"))
    assert (after.verdict, after.profile) == ("block", "shadowed")
    # Negative control: a wrapper that always runs the v1 CLI shows v1's choice, `clean`.
    pinned, _ = segment.compute(dict(world, AWSGUARD_CLI_MAJOR="1"))
    assert (pinned.verdict, pinned.profile) == ("warn", "clean")
