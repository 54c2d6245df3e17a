"""The validity cache of the config and credentials files (awsguard/awsfiles.py).

With a cache directory, the outcome of whole-file validation is kept per file, keyed by the
file's identity, and a file whose profile headers are all spelled ``[profile NAME]`` is then read
by header lookups alone, without building botocore's profile map from every section name.  The
property: a resolution served from the cache equals one computed without it, on the
differential's generated worlds (every provider, syntax quirks, odd headers, quoted names,
``[default]`` beside ``[profile default]``, duplicate and invalid files).
"""

from __future__ import annotations

import os
import time

import oracle
import pytest
import strategies
from conftest import examples
from hypothesis import HealthCheck, given, settings

from awsguard.predict.resolver import resolve

pytestmark = [pytest.mark.usefixtures("no_external_network")]

NOW = 1_800_000_000.0

CACHED = settings(
    deadline=None,
    print_blob=True,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _facts(res):
    return (
        res.profile,
        res.source,
        None if res.error is None else (res.error.code, res.error.origin),
        [(s.provider, s.status, s.origin) for s in res.chain],
        res.identity.account,
        None if res.session is None else (res.session.kind, res.session.state, res.session.origin),
        res.source_profile,
        res.source_method,
    )


STATS = {"served from the cache": 0}


def settle_tree(root: str) -> None:
    """Date every file's mtime a minute back: nothing is cached about a file written in the
    last two seconds (memo.settled)."""
    stamp = time.time_ns() - 60 * 10**9
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(dirpath, name), ns=(stamp, stamp), follow_symlinks=False)


def _check(scn: oracle.Scenario, major: int, tmp_root: str) -> None:
    with oracle.materialize(scn) as m:
        settle_tree(m.home)
        plain = resolve(m.argv, m.env, major=major, crt=True, now=NOW)
        cache_dir = os.path.join(m.home, ".awsguard-cache")
        first = resolve(m.argv, m.env, major=major, crt=True, now=NOW, cache_dir=cache_dir)
        again = resolve(m.argv, m.env, major=major, crt=True, now=NOW, cache_dir=cache_dir)
        assert _facts(first) == _facts(plain), scn.describe()
        assert _facts(again) == _facts(plain), scn.describe()
        if os.path.isdir(cache_dir) and os.listdir(cache_dir):
            STATS["served from the cache"] += 1


@settings(CACHED, max_examples=examples(ci=500))
@given(scn=strategies.scenarios("all"), major=strategies.st.sampled_from([1, 2]))
def test_a_cached_resolution_equals_a_fresh_one(scn, major, tmp_path_factory):
    _check(scn, major, str(tmp_path_factory.getbasetemp()))


@settings(CACHED, max_examples=examples(ci=300))
@given(scn=strategies.scenarios("syntax"), major=strategies.st.sampled_from([1, 2]))
def test_a_cached_resolution_equals_a_fresh_one_on_odd_syntax(scn, major, tmp_path_factory):
    _check(scn, major, str(tmp_path_factory.getbasetemp()))


@settings(CACHED, max_examples=examples(ci=300))
@given(scn=strategies.scenarios("profiles"), major=strategies.st.sampled_from([1, 2]))
def test_a_cached_resolution_equals_a_fresh_one_on_odd_profile_names(scn, major, tmp_path_factory):
    _check(scn, major, str(tmp_path_factory.getbasetemp()))


def test_the_cache_was_used():
    assert STATS["served from the cache"] >= examples(ci=100), STATS


@pytest.mark.parametrize(
    ("config", "profile", "expected"),
    [
        # Each: a canonical-looking lookup would pick the wrong section or miss the right one.
        ("[profile  dev]\nregion = a\n", "dev", "a"),  # two spaces: still profile dev
        ('[profile "dev"]\nregion = b\n', "dev", "b"),  # quoted
        ("[profilex dev]\nregion = c\n", "dev", "c"),  # botocore maps it to dev too
        ("[profile dev]\nregion = d\n[profile  dev]\nregion = e\n", "dev", "e"),  # later wins
        ("[default]\nregion = f\n[profile default]\nregion = g\n", "default", "g"),
        ("[profile default]\nregion = h\n[default]\nregion = i\n", "default", "i"),
        ("[profile a b]\nregion = j\n", "a b", None),  # three words: ignored by botocore
        ('[profile "a b"]\nregion = k\n', "a b", "k"),
    ],
)
def test_odd_headers_resolve_as_botocore_maps_them(tmp_path, config, profile, expected):
    from awsguard.predict.awsfiles import AwsFiles

    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(config)
    settle_tree(str(home))
    env = {"HOME": str(home)}
    got = []
    for cache_dir in (None, str(tmp_path / "cache"), str(tmp_path / "cache")):
        files = AwsFiles(env, cache_dir=cache_dir)
        view = files.config_profile(profile)
        got.append(None if view is None else view["region"].value)
    assert got == [expected] * 3
