"""The shim's memo of quiet decisions (awsguard/memo.py) never changes a decision.

The shim remembers an allow-without-a-word together with every input it read, and answers the
next equal call from that memo.  The property tested here: for any world S1 and any small change
of it S2 (a file replaced or removed, an environment variable changed, another command line, a
policy file), the shim's answer for S2 *with* the memo filled by S1 equals its answer computed
from scratch.  A dependency the recorder missed shows up as a stale "allow" where a fresh
decision warns or blocks (or the reverse).

The worlds come from the differential's generator (tests/strategies.py), which covers every
provider, the profile variables, the caches and the syntax corners, plus a drawn policy file.
"""

from __future__ import annotations

import os
import shutil
import time

import oracle
import pytest
import strategies
from conftest import examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsguard import shim
from awsguard.host import dirs, memo

pytestmark = [pytest.mark.usefixtures("no_external_network")]

POLICY_PATH = ".config/awsguard/config.toml"
PROFILES = ("default", "dev", "prod", "a", "b")


@st.composite
def policy_files(draw: st.DrawFn) -> bytes | None:
    if draw(st.booleans()):
        return None
    lines = []
    if draw(st.booleans()):
        lines.append(f'mode = "{draw(st.sampled_from(["warn", "strict"]))}"')
    rules = draw(st.dictionaries(st.sampled_from(memo_rules()), st.sampled_from(SEVERITIES)))
    if rules:
        lines.append("[rules]")
        lines += [f'{rule} = "{sev}"' for rule, sev in rules.items()]
    for name in draw(st.lists(st.sampled_from(PROFILES), max_size=2, unique=True)):
        lines.append(f'[profiles."{name}"]')
        if draw(st.booleans()):
            lines.append(f'expect_account = "{draw(st.sampled_from(ACCOUNTS))}"')
        if draw(st.booleans()):
            lines.append("read_only = true")
    if draw(st.integers(0, 9)) == 0:
        lines.append("mode = 3")  # a bad setting: the shim blocks with a message
    return ("\n".join(lines) + "\n").encode()


SEVERITIES = ("off", "info", "warn", "block")
ACCOUNTS = ("000000000000", "999999999999", "123456789012")


def memo_rules() -> tuple[str, ...]:
    from awsguard.words import RULES

    return tuple(RULES)


def _write_world(home: str, scn: oracle.Scenario, policy: bytes | None) -> dict[str, str]:
    """Make ``home`` hold exactly ``scn``'s files and return its environment.

    ``home`` is the same directory every time (the memo records absolute paths), and files whose
    content does not change are left alone: a file rewritten with equal bytes would get a new
    ctime and make every lookup miss, hiding exactly the stale answers this test looks for.
    """
    wanted: dict[str, bytes] = {}
    files = dict(scn.files)
    if policy is not None:
        files[POLICY_PATH] = policy
    for relpath, content in files.items():
        data = content
        for placeholder, actual in oracle._substitutions(home):
            data = data.replace(placeholder.encode(), actual.encode())
        wanted[os.path.join(home, relpath)] = data
    wanted_dirs = {os.path.join(home, d) for d in scn.dirs}
    for root, dirnames, filenames in os.walk(home, topdown=False):
        for name in filenames:
            path = os.path.join(root, name)
            if path not in wanted:
                os.unlink(path)
        for name in dirnames:
            path = os.path.join(root, name)
            if os.path.islink(path):
                os.unlink(path)
            elif path in wanted:
                shutil.rmtree(path)
    for d in wanted_dirs:
        if os.path.isfile(d):
            os.unlink(d)
        os.makedirs(d, exist_ok=True)
    for target, data in wanted.items():
        if os.path.isdir(target):
            continue  # the world names a directory there ("the config is a directory")
        try:
            with open(target, "rb") as f:
                if f.read() == data:
                    continue
        except FileNotFoundError:
            pass
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
        settle(target)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
    for key, value in scn.env:
        if value is None:
            env.pop(key, None)
        else:
            env[key] = oracle._substitute(value, home)
    env.setdefault(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://{oracle.loopback_server().hostport}/"
    )
    return env


def settle(path: str | os.PathLike[str]) -> None:
    """Date ``path``'s mtime a minute back (a file written before the session): the memo keeps
    nothing about a file written in the last two seconds (see memo.settled)."""
    stamp = time.time_ns() - 60 * 10**9
    os.utime(path, ns=(stamp, stamp))


def _remembered_until(sandbox: dict[str, str], argv: list[str], real: str) -> float:
    """Until when the memo holds a decision for this command line (0: it holds none)."""
    data = memo.read_marshal(os.path.join(sandbox["cache"], "awsguard", memo.FILE))
    key = shim.decision_key(argv, real)
    if not isinstance(data, tuple):
        return 0.0
    return max((e[3] for e in data[1] if e[0] == key), default=0.0)


def _decide(argv: list[str], env: dict[str, str], real: str) -> tuple[str, int | None]:
    try:
        return shim.decide(argv, env, real)
    except shim._Block as stop:
        return stop.text, stop.code


def _mutate(a: oracle.Scenario, b: oracle.Scenario, data: st.DataObject) -> oracle.Scenario:
    """``a`` with one or two of its parts taken from ``b``."""
    files, env, argv = dict(a.files), dict(a.env), a.argv
    for _ in range(data.draw(st.integers(1, 2), label="changes")):
        kind = data.draw(st.sampled_from(["file", "env", "argv"]), label="kind")
        if kind == "file":
            names = sorted(set(files) | set(dict(b.files)))
            if not names:
                continue
            name = data.draw(st.sampled_from(names), label="file")
            if name in dict(b.files):
                files[name] = dict(b.files)[name]
            else:
                files.pop(name, None)
        elif kind == "env":
            names = sorted(set(env) | set(dict(b.env)))
            if not names:
                continue
            name = data.draw(st.sampled_from(names), label="var")
            env[name] = dict(b.env).get(name)
        else:
            argv = b.argv
    return oracle.Scenario(
        files=tuple(files.items()), dirs=a.dirs, env=tuple(sorted(env.items())), argv=argv
    )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("memo")
    real = root / "bin" / "aws"
    real.parent.mkdir()
    real.write_text("#!/bin/sh\nexit 0\n")
    real.chmod(0o755)
    settle(real)
    (root / "home").mkdir()
    return {"real": str(real), "home": str(root / "home"), "cache": str(root / "cache")}


STATS: dict[str, int] = {}


@settings(
    max_examples=examples(ci=300),
    deadline=None,
    print_blob=True,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
)
@given(
    a=strategies.scenarios("all"),
    b=strategies.scenarios("all"),
    pa=policy_files(),
    pb=policy_files(),
    major=st.sampled_from(["1", "2"]),
    data=st.data(),
)
def test_memo_never_changes_a_decision(sandbox, a, b, pa, pb, major, data):
    home, real = sandbox["home"], sandbox["real"]
    shutil.rmtree(sandbox["cache"], ignore_errors=True)
    extra = {"XDG_CACHE_HOME": sandbox["cache"], "AWSGUARD_CLI_MAJOR": major}

    env1 = {**_write_world(home, a, pa), **extra}
    first = _decide(list(a.argv), env1, real)

    same = data.draw(st.integers(0, 4), label="same") == 0
    s2 = a if same else _mutate(a, b, data)
    policy2 = pa if same or data.draw(st.booleans(), label="keep policy") else pb
    env2 = {**_write_world(home, s2, policy2), **extra}
    argv2 = [oracle._substitute(w, home) for w in s2.argv]

    remembered = _decide(argv2, env2, real)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(memo, "lookup", lambda *args, **kwargs: False)  # the reference: no memo
        fresh = _decide(argv2, env2, real)
    assert remembered == fresh, (
        "the memo changed the shim's decision\n"
        f"S1:\n{a.describe()}\npolicy: {pa!r}\nS2:\n{s2.describe()}\npolicy: {policy2!r}\n"
        f"first={first!r}\nremembered={remembered!r}\nfresh={fresh!r}"
    )
    quiet = first == ("", None)
    STATS["quiet first decisions"] = STATS.get("quiet first decisions", 0) + quiet
    if same and quiet and _remembered_until(sandbox, argv2, real) > time.time() + 5:
        # Nothing changed: the memo must answer (else it would be useless, and this test blind).
        # (Unless a session the decision rests on expires meanwhile: the generated expiries are
        # minutes from the start of the run.)
        hits = []
        real_lookup = memo.lookup

        def spy(*args, **kwargs):
            hits.append(real_lookup(*args, **kwargs))
            return hits[-1]

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(memo, "lookup", spy)
            assert _decide(argv2, env2, real) == ("", None)
        assert hits == [True], "an unchanged world must be answered from the memo"
        STATS["unchanged worlds answered from the memo"] = (
            STATS.get("unchanged worlds answered from the memo", 0) + 1
        )


def test_the_memo_expires_with_the_session(sandbox, tmp_path):
    """A quiet decision resting on a session that expires is not reused past the expiry."""
    import time

    from test_field_report import LOGIN_ARN

    home = sandbox["home"]
    shutil.rmtree(sandbox["cache"], ignore_errors=True)
    now = time.time()
    at_expiry = int(now) + 120  # well inside memo.MAX_AGE: the expiry is what must end it
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at_expiry))
    scn = oracle.scenario(
        f"[profile dev]\nlogin_session = {LOGIN_ARN}\n",
        files={
            oracle.login_cache_relpath(LOGIN_ARN): (
                '{"accessToken": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s", '
                '"sessionToken": "t", "accountId": "999999999999", "expiresAt": "'
                + expires
                + '"}, "clientId": "c", "refreshToken": "r", "idToken": "i", "dpopKey": "k"}'
            )
        },
        argv=["--profile", "dev", "sts", "get-caller-identity"],
    )
    env = {
        **_write_world(home, scn, None),
        "XDG_CACHE_HOME": sandbox["cache"],
        "AWSGUARD_CLI_MAJOR": "2",
    }
    assert _decide(list(scn.argv), env, sandbox["real"]) == ("", None)
    key = shim.decision_key(list(scn.argv), sandbox["real"])
    cache_dir = dirs.default_cache_dir(env)
    assert cache_dir is not None and cache_dir.startswith(sandbox["cache"])
    assert memo.lookup(key, env, cache_dir, time.time())
    assert memo.lookup(key, env, cache_dir, at_expiry - 5)
    assert not memo.lookup(key, env, cache_dir, at_expiry + 1)


def test_the_property_saw_the_memo_at_work():
    """Guards the property test against blindness: it must have seen quiet decisions and
    unchanged worlds answered from the memo (runs after it, in file order)."""
    assert STATS.get("quiet first decisions", 0) >= examples(ci=20), STATS
    assert STATS.get("unchanged worlds answered from the memo", 0) >= examples(ci=5), STATS


# -- a table of changes that each turn a quiet call into a warning or a block ------------------

_FIELD_CONFIG = "[profile dev]\nregion = us-east-1\nlogin_session = {arn}\n"


def _field_world(login_arn: str) -> dict[str, str]:
    from test_field_report import KEY_A  # noqa: F401  (keeps the generator in one place)

    return {
        ".aws/config": _FIELD_CONFIG.format(arn=login_arn),
        oracle.login_cache_relpath(login_arn): (
            '{"accessToken": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s", '
            '"sessionToken": "t", "accountId": "999999999999", "expiresAt": "2099-01-01T00:00:00Z"}, '
            '"clientId": "c", "refreshToken": "r", "idToken": "i", "dpopKey": "k"}'
        ),
    }


def _keys(profile: str) -> str:
    from test_field_report import KEY_A

    return f"[{profile}]\naws_access_key_id = {KEY_A}\naws_secret_access_key = secretA\n"


CHANGES = {
    # name: (files to write (None: delete), env to set (None: unset), argv or None)
    "keys appear in the credentials file": ({".aws/credentials": _keys("dev")}, {}, None),
    "AWS_SHARED_CREDENTIALS_FILE names a file with keys": (
        {"other/creds": _keys("dev")},
        {"AWS_SHARED_CREDENTIALS_FILE": "@HOME@/other/creds"},
        None,
    ),
    "AWS_CONFIG_FILE names a config with an SSO profile": (
        {
            "other/config": "[profile dev]\nlogin_session = arn:aws:iam::999999999999:user/B\n"
            "sso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n"
            "sso_account_id = 000000000000\nsso_role_name = R\n"
        },
        {"AWS_CONFIG_FILE": "@HOME@/other/config"},
        None,
    ),
    "a role is added to the profile": (
        {
            ".aws/config": "[profile dev]\nlogin_session = arn:aws:iam::999999999999:user/B\n"
            "role_arn = arn:aws:iam::000000000000:role/R\nsource_profile = base\n",
            ".aws/credentials": _keys("base"),
        },
        {},
        None,
    ),
    "environment keys and AWS_PROFILE": (
        {},
        {
            "AWS_PROFILE": "dev",
            "AWS_ACCESS_KEY_ID": "AKIAQ2EXAMPLEKEY0001",
            "AWS_SECRET_ACCESS_KEY": "x",
        },
        ["sts", "get-caller-identity"],
    ),
    "a policy pins another account": (
        {POLICY_PATH: '[profiles.dev]\nexpect_account = "123456789012"\n'},
        {},
        None,
    ),
    "a policy makes the profile read-only, and the call writes": (
        {POLICY_PATH: "[profiles.dev]\nread_only = true\n"},
        {},
        ["--profile", "dev", "s3", "rm", "s3://bucket/key"],
    ),
    "AWSGUARD_CONFIG names a broken policy": (
        {"other/policy.toml": "mode = 'loud'\n"},
        {"AWSGUARD_CONFIG": "@HOME@/other/policy.toml"},
        None,
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_that_matters_is_never_answered_from_the_memo(sandbox, change):
    from test_field_report import LOGIN_ARN

    files, env_change, argv2 = CHANGES[change]
    home, real = sandbox["home"], sandbox["real"]
    shutil.rmtree(sandbox["cache"], ignore_errors=True)
    extra = {"XDG_CACHE_HOME": sandbox["cache"], "AWSGUARD_CLI_MAJOR": "2"}
    argv1 = ["--profile", "dev", "sts", "get-caller-identity"]
    world = _field_world(LOGIN_ARN)
    env1 = {**_write_world(home, oracle.scenario(files=world), None), **extra}
    assert _decide(argv1, env1, real) == ("", None), "the starting point is a quiet call"
    assert memo.lookup(
        shim.decision_key(argv1, real),
        env1,
        dirs.default_cache_dir(env1),
        __import__("time").time(),
    )

    changed = dict(world)
    for path, content in files.items():
        if content is None:
            changed.pop(path, None)
        else:
            changed[path] = content
    policy = changed.pop(POLICY_PATH, None)
    scn2 = oracle.scenario(files=changed, env=env_change)
    env2 = {**_write_world(home, scn2, policy.encode() if policy else None), **extra}
    argv = argv2 or argv1
    remembered = _decide(argv, env2, real)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(memo, "lookup", lambda *args, **kwargs: False)
        fresh = _decide(argv, env2, real)
    assert fresh != ("", None), "the change must matter, or this case tests nothing"
    assert remembered == fresh


def test_nothing_is_remembered_about_a_file_written_just_now(sandbox):
    """A file may be rewritten within the same timestamp tick, with the same size, without its
    identity changing; so a decision that read a file written in the last two seconds is not
    remembered (git's "racy" rule).  The same world, dated back, is remembered."""
    from test_field_report import LOGIN_ARN

    home, real = sandbox["home"], sandbox["real"]
    shutil.rmtree(sandbox["cache"], ignore_errors=True)
    env = {
        **_write_world(home, oracle.scenario(files=_field_world(LOGIN_ARN)), None),
        "XDG_CACHE_HOME": sandbox["cache"],
        "AWSGUARD_CLI_MAJOR": "2",
    }
    argv = ["--profile", "dev", "sts", "get-caller-identity"]
    key = shim.decision_key(argv, real)
    cache_dir = dirs.default_cache_dir(env)
    config = os.path.join(home, ".aws", "config")
    with open(config, "a") as f:
        f.write("output = json\n")  # written just now
    assert _decide(argv, env, real) == ("", None)
    assert not memo.lookup(key, env, cache_dir, time.time())
    settle(config)
    assert _decide(argv, env, real) == ("", None)
    assert memo.lookup(key, env, cache_dir, time.time())
