"""Fault injection for the tests, one hook for every writer and for the shim.

``AWSGUARD_TEST_FAULT=<step>:<action>[,<step>:<action>…]``, where action is an errno name
(``ENOSPC``, ``EIO``, ``EXDEV``, ``EACCES``…: that step fails with it), ``kill`` (``SIGKILL`` to
awsguard at that step), ``raise`` (an unexpected exception), ``spin`` (burn CPU until something
stops it: the shim's deadline) or ``pause`` (create
``$AWSGUARD_TEST_PAUSE/<step>.paused`` holding the pid, and wait for ``<step>.go``).  The steps
are the caller's: the safe editor's (:data:`awsguard.host.safewrite.STEPS`) and the shim's
``decide``.  Unset, :func:`faults` returns None and a step costs one test.  Standard library
only, imported lazily: the shim's hot path pays nothing for it.
"""

from __future__ import annotations

import os

from awsguard.errors import AwsGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


def faults(environ: Mapping[str, str], steps: Sequence[str]) -> Callable[[str], None] | None:
    """The hook of ``AWSGUARD_TEST_FAULT`` for ``steps``, or None when it names none of them."""
    spec = environ.get("AWSGUARD_TEST_FAULT", "")
    if not spec:
        return None
    actions: dict[str, str] = {}
    for item in spec.split(","):
        name, _, action = item.strip().partition(":")
        if not action:
            raise AwsGuardError(
                f"AWSGUARD_TEST_FAULT: {item.strip()!r} is not <step>:<action>",
                "steps: " + ", ".join(steps),
                code=2,
            )
        if name in steps:
            actions[name] = action
    if not actions:
        return None
    pause_dir = environ.get("AWSGUARD_TEST_PAUSE", "")

    def hook(step: str) -> None:
        action = actions.get(step)
        if action is None:
            return
        if action == "kill":
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        if action == "raise":
            raise RuntimeError(f"injected failure at {step}")
        if action == "spin":
            while True:  # only a deadline (or a signal) ends this
                pass
        if action == "pause":
            _pause(pause_dir, step)
            return
        import errno

        code = getattr(errno, action, None)
        if not isinstance(code, int):
            raise RuntimeError(f"AWSGUARD_TEST_FAULT: unknown action {action!r}")
        raise OSError(code, os.strerror(code))

    return hook


def _pause(directory: str, step: str) -> None:
    import time

    if not directory:
        raise RuntimeError("AWSGUARD_TEST_FAULT pause needs AWSGUARD_TEST_PAUSE")
    with open(os.path.join(directory, step + ".paused"), "w") as f:
        f.write(str(os.getpid()))
    go = os.path.join(directory, step + ".go")
    deadline = time.monotonic() + 600  # a hang guard for a test that died
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            raise RuntimeError(f"AWSGUARD_TEST_FAULT: nobody released {step}")
        time.sleep(0.01)
