"""Shared test setup.

Which botocore is the oracle? awscli (v1, 1.46+) ships its own copy of botocore under
``awscli/botocore`` and, once anything from ``awscli`` is imported, an import hook makes
``import botocore`` load that copy — so the real `aws` runs the vendored botocore, while PyPI's
``botocore`` package is what DESIGN.md §6 names as the truth. The credential code of the two is
the same today (session.py, configloader.py, tokens.py identical; credentials.py differs only in
refresh bookkeeping), but a test process must not pick one by accident of import order.
``AWSGUARD_ORACLE_BOTOCORE=cli`` selects the CLI's vendored copy; the default, ``pypi``, imports
PyPI's botocore before awscli can redirect it. The choice is printed in the report header.
"""

from __future__ import annotations

import importlib
import os

import pytest

_choice = os.environ.get("AWSGUARD_ORACLE_BOTOCORE", "pypi")
if _choice not in ("pypi", "cli"):
    raise pytest.UsageError(f"AWSGUARD_ORACLE_BOTOCORE must be 'pypi' or 'cli', not {_choice!r}")
# Import order is the whole point here (see the module docstring).
for _name in ("awscli", "botocore") if _choice == "cli" else ("botocore", "awscli"):
    importlib.import_module(_name)
botocore = importlib.import_module("botocore")


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"oracle: botocore {botocore.__version__} from {os.path.dirname(botocore.__file__)} "
        f"(AWSGUARD_ORACLE_BOTOCORE={_choice})"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    import sys

    oracle = sys.modules.get("oracle") or sys.modules.get("tests.oracle")
    stats = getattr(oracle, "STATS", None)
    if not stats:
        return
    terminalreporter.section("awsguard oracle")
    for key in sorted(k for k in stats if not k.startswith("outcome ")):
        terminalreporter.write_line(f"{key}: {stats[key]}")
    outcomes = sorted(
        ((k, v) for k, v in stats.items() if k.startswith("outcome ")), key=lambda kv: -kv[1]
    )
    if outcomes:
        terminalreporter.write_line("botocore outcomes in the differential (v1):")
        for key, value in outcomes:
            terminalreporter.write_line(f"  {value:6d}  {key[len('outcome ') :]}")


@pytest.fixture(scope="module")
def no_external_network():
    """Every socket connection outside 127.0.0.0/8 and ::1 raises for the whole module."""
    from oracle import network_guard

    with network_guard():
        yield
