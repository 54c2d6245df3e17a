"""The prompt hook's cost in real zsh and bash, side by side with the same shell without awsguard.

Each shell runs a loop that does what drawing a prompt does - the precmd/PROMPT_COMMAND hook,
then the prompt's own expansion (``${(%)PROMPT}``, ``${PS1@P}``) - timed inside the shell with
``$EPOCHREALTIME``, so process start-up and terminal I/O do not drown the difference:

* bare     - the same loop in the same shell, without awsguard loaded;
* steady   - awsguard loaded, nothing changes between prompts;
* changed  - ``AWS_PROFILE`` flips at every prompt, so every hook recomputes.

Processes are counted twice: a wrapper around the Python interpreter counts awsguard runs, and
``strace -f`` (when installed) counts every fork of the shell.  Budgets (docs/ARCHITECTURE.md §7): steady
state 0 processes and under 2 ms per prompt; after a change under 50 ms.

Run: .venv/bin/python tests/bench/bench_prompt.py [--quick]
"""

from __future__ import annotations

import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from awsguard.commands import init  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from promptkit import login_cache  # noqa: E402

STEADY_BUDGET_MS = 2.0
CHANGE_BUDGET_MS = 50.0
ARN = "arn:aws:iam::999999999999:user/bench"

# The loop each shell runs; {load} is empty for the bare shell.  Prints "<n> <seconds>".
LOOPS = {
    "zsh": """
zmodload zsh/datetime
PROMPT='%n@%m %~ %# '; RPROMPT='%T'
{load}
export AWS_PROFILE=dev
for f in $precmd_functions; do $f; done
: 2>/dev/null </awsguard-bench-loop-start
s=$EPOCHREALTIME
for (( i = 0; i < {n}; i++ )); do
  {flip}
  for f in $precmd_functions; do $f; done
  x=${{(%)PROMPT}}${{(%)RPROMPT}}
done
: 2>/dev/null </awsguard-bench-loop-end
print $(( EPOCHREALTIME - s ))
""",
    "bash": r"""
PS1='\u@\h \w\$ '
{load}
export AWS_PROFILE=dev
eval "${{PROMPT_COMMAND-}}"
: 2>/dev/null </awsguard-bench-loop-start
s=$EPOCHREALTIME
for (( i = 0; i < {n}; i++ )); do
  {flip}
  eval "${{PROMPT_COMMAND-}}"
  x=${{PS1@P}}
done
e=$EPOCHREALTIME
: 2>/dev/null </awsguard-bench-loop-end
echo "$e - $s" | {{ read -r a _ b; printf '%s\n' "$(( (${{a/./}} - ${{b/./}}) ))e-6"; }}
""",
}

FLIP = {
    "zsh": "if [[ $AWS_PROFILE == dev ]]; then AWS_PROFILE=other; else AWS_PROFILE=dev; fi",
    "bash": "if [[ $AWS_PROFILE == dev ]]; then AWS_PROFILE=other; else AWS_PROFILE=dev; fi",
}


class Setup:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        aws = self.home / ".aws"
        (aws / "login" / "cache").mkdir(parents=True)
        (aws / "config").write_text(
            f"[profile dev]\nregion = eu-west-1\nlogin_session = {ARN}\n"
            f"[profile other]\nregion = us-east-1\nlogin_session = {ARN}\n"
        )
        (aws / "credentials").write_text("")
        login_cache(self.home, ARN, hours=72)
        self.count = tmp / "count"
        self.count.write_text("")
        self.python = tmp / "python"
        self.python.write_text(
            f"#!/bin/sh\necho run >> {shlex.quote(str(self.count))}\n"
            f'exec {shlex.quote(sys.executable)} "$@"\n'
        )
        self.python.chmod(0o755)

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "AWS_EC2_METADATA_DISABLED": "true",
            "XDG_CACHE_HOME": str(self.tmp / "cache"),
            "USER": "bench",
        }

    def script(self, shell: str) -> Path:
        path = self.tmp / f"init.{shell}"
        if not path.exists():
            path.write_text(
                init.render(
                    shell, bin_dir=str(self.tmp / "bin"), python=str(self.python), root=str(ROOT)
                )
            )
        return path

    def runs(self) -> int:
        return len(self.count.read_text().splitlines())


def run_loop(
    setup: Setup, shell: str, *, loaded: bool, n: int, flip: bool, strace: str | None = None
) -> tuple[float, int, int]:
    """(seconds per prompt, awsguard runs, shell forks) for one loop of ``n`` prompts."""
    load = f". {shlex.quote(str(setup.script(shell)))}" if loaded else ""
    code = LOOPS[shell].format(load=load, n=n, flip=FLIP[shell] if flip else "")
    binary = shutil.which(shell)
    assert binary is not None
    argv = [binary, "-f", "-c", code] if shell == "zsh" else [binary, "--norc", "-c", code]
    log = setup.tmp / "strace.log"
    if strace:
        # Only the loop's forks, between the two marker opens the script makes.
        trace = "trace=fork,vfork,clone,clone3,open,openat"
        argv = [strace, "-f", "-qq", "-e", trace, "-o", str(log), *argv]
    before = setup.runs()
    out = subprocess.run(
        argv, env=setup.env(), capture_output=True, text=True, check=True, timeout=600
    )
    seconds = float(out.stdout.split()[-1])
    forks = -1
    if strace:
        text = log.read_text()
        loop = text.split("awsguard-bench-loop-start", 1)[-1].split("awsguard-bench-loop-end")[0]
        forks = len(re.findall(r"^\d+ +(clone|clone3|fork|vfork)\(", loop, re.M))
    # The first hook before the loop computes once when loaded; everything else is the loop's.
    runs = setup.runs() - before - (1 if loaded else 0)
    return seconds / n, runs, forks


def measure(shell: str, quick: bool) -> list[str]:
    if shutil.which(shell) is None:
        return [f"prompt/{shell}: SKIP ({shell} is not installed)"]
    version = subprocess.run(
        [shell, "-c", "echo ${ZSH_VERSION:-$BASH_VERSION}"], capture_output=True, text=True
    ).stdout.strip()
    n_steady, n_change, repeat = (200, 10, 3) if quick else (2000, 40, 5)
    with tempfile.TemporaryDirectory() as tmp:
        setup = Setup(Path(tmp))
        bare, steady, runs_steady = [], [], 0
        for _ in range(repeat):  # interleaved, so drift hits both alike
            bare.append(run_loop(setup, shell, loaded=False, n=n_steady, flip=False)[0])
            per, runs, _ = run_loop(setup, shell, loaded=True, n=n_steady, flip=False)
            steady.append(per)
            runs_steady += runs
        changed_bare = [
            run_loop(setup, shell, loaded=False, n=n_change, flip=True)[0] for _ in range(repeat)
        ]
        changed, runs_changed = [], 0
        for _ in range(repeat):
            per, runs, _ = run_loop(setup, shell, loaded=True, n=n_change, flip=True)
            changed.append(per)
            runs_changed += runs
        strace = shutil.which("strace")
        forks = -1
        if strace:
            _, _, forks = run_loop(setup, shell, loaded=True, n=50, flip=False, strace=strace)
    b, s = statistics.median(bare), statistics.median(steady)
    cb, c = statistics.median(changed_bare), statistics.median(changed)
    hook_ms = (s - b) * 1000
    change_ms = (c - cb) * 1000
    procs = f"{runs_steady} awsguard runs in {repeat * n_steady} prompts" + (
        f", {forks} forks in 50 (strace)" if forks >= 0 else ", forks not counted (no strace)"
    )
    steady_ok = hook_ms < STEADY_BUDGET_MS and runs_steady == 0 and forks <= 0
    change_ok = change_ms < CHANGE_BUDGET_MS and runs_changed == repeat * n_change
    return [
        f"prompt/{shell} {version}: bare prompt {b * 1e6:.0f} µs; with awsguard {s * 1e6:.0f} µs "
        f"({s / b:.1f}x): hook {hook_ms * 1000:.0f} µs, {procs}  "
        f"{'PASS' if steady_ok else 'FAIL'} (budget: 0 processes, <{STEADY_BUDGET_MS:g} ms)",
        f"prompt/{shell} {version}: after a change {change_ms:.1f} ms per prompt "
        f"({runs_changed} runs for {repeat * n_change} changes; bare {cb * 1e6:.0f} µs)  "
        f"{'PASS' if change_ok else 'FAIL'} (budget: <{CHANGE_BUDGET_MS:g} ms)",
    ]


def main(quick: bool = False) -> list[str]:
    lines: list[str] = []
    for shell in ("zsh", "bash"):
        for line in measure(shell, quick):
            print(line, flush=True)
            lines.append(line)
    return lines


if __name__ == "__main__":
    results = main("--quick" in sys.argv[1:])
    sys.exit(1 if any("FAIL" in line for line in results) else 0)
