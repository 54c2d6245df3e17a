"""The package's shape (docs/ARCHITECTURE.md): an acyclic import graph, and layers that only
import downwards.  The graph is read from the source, imports inside functions included."""

from __future__ import annotations

from pathlib import Path

import pytest
from importgraph import find_cycle, graph

ROOT = Path(__file__).resolve().parents[1] / "awsguard"

# What each layer may import from awsguard (prefix match); the package root holds the version.
ALLOWED = {
    "awsguard.words": (),
    "awsguard.errors": (),
    "awsguard.host.record": (),
    "awsguard.host.fileio": ("awsguard.host.record",),
    "awsguard.predict": (
        "awsguard.predict",
        "awsguard.words",
        "awsguard.errors",
        "awsguard.host.fileio",
        "awsguard.host.record",
        "awsguard.host.memo",  # the per-file validity cache (awsfiles) is kept by the memo
    ),
    "awsguard.judge": (
        "awsguard.judge",
        "awsguard.predict",
        "awsguard.words",
        "awsguard.errors",
        "awsguard.host",
    ),
    "awsguard.present": (
        "awsguard.present",
        "awsguard.judge",
        "awsguard.predict",
        "awsguard.words",
        "awsguard.errors",
        "awsguard.host",
    ),
    "awsguard.host": ("awsguard.host", "awsguard.predict", "awsguard.words", "awsguard.errors"),
    "awsguard.shim": (
        "awsguard.host",
        "awsguard.judge",
        "awsguard.predict",
        "awsguard.present",
        "awsguard.words",
        "awsguard.errors",
    ),
}


EDGES = graph(ROOT)


def _rule(module: str) -> tuple[str, ...] | None:
    best = max(
        (k for k in ALLOWED if module == k or module.startswith(k + ".")), key=len, default=None
    )
    return None if best is None else ALLOWED[best]


def test_the_import_graph_has_no_cycle():
    edges = EDGES
    assert "awsguard.predict.providers" in edges and edges["awsguard.shim"]  # it read the tree
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    """Negative control: the same reader finds a cycle hidden inside a function."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg import c\n")
    (pkg / "c.py").write_text("TYPE_CHECKING = False\nif TYPE_CHECKING:\n    import pkg.sub.b\n")
    edges = graph(pkg)
    assert find_cycle(edges) is None  # an import for the type checker only never runs
    (pkg / "c.py").write_text("def g():\n    import pkg.a\n")
    assert find_cycle(graph(pkg)) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]


@pytest.mark.parametrize("module", sorted(m for m in EDGES if _rule(m) is not None))
def test_each_layer_imports_only_downwards(module):
    allowed = _rule(module)
    assert allowed is not None
    bad = [
        dep
        for dep in EDGES[module]
        if dep != "awsguard" and not any(dep == a or dep.startswith(a + ".") for a in allowed)
    ]
    assert bad == [], f"{module} imports {bad}"


def test_the_layer_check_sees_a_violation():
    """Negative control: an upward import is reported by the same rule."""
    allowed = _rule("awsguard.predict.inifile")
    assert allowed is not None
    assert not any("awsguard.present.report".startswith(a) for a in allowed)
    assert not any("awsguard.judge.policy".startswith(a) for a in allowed)


def test_the_vocabulary_and_the_provider_table_agree():
    """words.py names the providers for every layer; the resolver walks providers.PROVIDERS.
    One order: the chain's."""
    from awsguard import words
    from awsguard.predict import providers

    assert providers.ORDER == words.ORDER
    assert set(words.SOURCES) == {method for method, _ in providers.PROVIDERS}
