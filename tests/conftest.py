"""Shared test setup.

Which botocore is the oracle? awscli (v1, 1.46+) ships its own copy of botocore under
``awscli/botocore`` and, once anything from ``awscli`` is imported, an import hook makes
``import botocore`` load that copy — so the real `aws` runs the vendored botocore, while PyPI's
``botocore`` package is what docs/ARCHITECTURE.md §6 names as the truth. The credential code of the two is
the same today (session.py, configloader.py, tokens.py identical; credentials.py differs only in
refresh bookkeeping), but a test process must not pick one by accident of import order.
``AWSGUARD_ORACLE_BOTOCORE=cli`` selects the CLI's vendored copy; the default, ``pypi``, imports
PyPI's botocore before awscli can redirect it. The choice is printed in the report header.

Hypothesis profiles are set here and nowhere else.  ``ci`` (chosen when ``CI=true``) runs the full
budget; ``dev`` (the default on a workstation, `make test-fast`) a fifth of it.  ``HYPOTHESIS_PROFILE``
picks one by name.  A test that needs more or fewer examples than the profile's base asks for
``examples(ci=N)``: N under ci, the same share of the budget under any other profile.
"""

from __future__ import annotations

import importlib
import os

import pytest
from hypothesis import HealthCheck, settings

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The base number of examples per property test; examples(ci=N) scales N by the same ratio.
CI_EXAMPLES = 100
DEV_EXAMPLES = 20
# ci: Hypothesis' own ci profile (derandomized: a CI run never fails on a world no one can
# replay; no example database; the failing example's blob is printed) with the full budget.
settings.register_profile("ci", settings.get_profile("ci"), max_examples=CI_EXAMPLES)
# dev: fewer examples, random each run, failures replayed from the local database first.
# No deadlines anywhere: a deadline is a timed assertion, and CI is slow and busy.
settings.register_profile(
    "dev",
    max_examples=DEV_EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if CI else "dev")
if PROFILE not in ("ci", "dev"):
    raise pytest.UsageError(f"HYPOTHESIS_PROFILE must be 'ci' or 'dev', not {PROFILE!r}")
settings.load_profile(PROFILE)


def examples(ci: int) -> int:
    """The examples for a test that runs ``ci`` of them under the ci profile: the same share of
    the active profile's ``max_examples`` (dev: a fifth), and at least one."""
    return max(1, ci * settings.default.max_examples // CI_EXAMPLES)


_choice = os.environ.get("AWSGUARD_ORACLE_BOTOCORE", "pypi")
if _choice not in ("pypi", "cli"):
    raise pytest.UsageError(f"AWSGUARD_ORACLE_BOTOCORE must be 'pypi' or 'cli', not {_choice!r}")
# Import order is the whole point here (see the module docstring).
for _name in ("awscli", "botocore") if _choice == "cli" else ("botocore", "awscli"):
    importlib.import_module(_name)
botocore = importlib.import_module("botocore")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"oracle: botocore {botocore.__version__} from {os.path.dirname(botocore.__file__)} "
        f"(AWSGUARD_ORACLE_BOTOCORE={_choice})",
        f"hypothesis profile: {settings.get_current_profile_name()} "
        f"(max_examples={settings.default.max_examples}; CI={'true' if CI else 'false'})",
    ]


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
