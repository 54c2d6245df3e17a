"""``awsguard doctor``: is awsguard actually guarding this account?  A checklist.

Each check gives one line - ``✓`` fine, ``!`` a gap worth knowing (with its fix), ``✗`` broken
(with its fix) - and ``--json`` gives the same as data.  The exit code is 1 when any check is
``✗``.  What is checked:

* the shim: installed, current for this awsguard and Python, executable, and the first ``aws``
  on PATH here and in the shells that do not read the interactive rc files (``sh -c``,
  ``bash -c``, ``zsh -c``, login shells, ``env -i``, a cron-like environment), each started with
  a time limit; where another ``aws`` comes first, which file to put the line in;
* the shell integration: which rc files run ``awsguard init``, whether the prompt hook is active
  in the shell that started doctor (found from the hook's own per-shell directory, no process);
* the real CLI: path, version and major, a second CLI later on PATH, a v2 older than 2.32.32,
  a v1 that cannot use login sessions (no awscrt);
* the AWS files: they parse as the CLI parses them (else file:line and the reason, never the
  line's text), the credentials file is not readable by others, the config file and the CLI's
  cache directories are not writable by others and are owned by the user;
* every profile with a problem (the rows of ``awsguard status --problems``);
* the policy file: every setting known and valid, the profiles it names exist;
* awsguard's own caches: owned by the user, not writable by others.

Severity: ``✗`` where awsguard's protection is missing or the files are unsafe; ``!`` for
coverage gaps that are common and sometimes intended (a login shell or cron without the shim),
warnings about the CLI, and profiles the CLI would refuse.
"""

from __future__ import annotations

import os
import sys

from awsguard import __version__, errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import TextIO

    from awsguard.host.realcli import CliInfo

OK, WARN, FAIL = "ok", "warn", "fail"
# At most this many profile lines; the rest is counted (`awsguard status --problems` lists all).
MAX_PROFILE_LINES = 25
# The first `aws` a shell finds is printed after this marker (startup files may print too).
_MARK = "AWSGUARD-DOCTOR:"
# The aws login refusal (a profile with keys cannot get a login session) came in 2.32.32.
_LOGIN_REFUSAL = (2, 32, 32)
_LOGIN_FIRST = (2, 32, 0)


class Check:
    """One line of the checklist."""

    __slots__ = ("fix", "id", "message", "section", "status")

    def __init__(
        self, section: str, id: str, status: str, message: str, fix: str | None = None
    ) -> None:
        self.section = section
        self.id = id
        self.status = status  # ok | warn | fail
        self.message = message
        self.fix = fix

    def as_json(self) -> dict[str, object]:
        return {
            "section": self.section,
            "id": self.id,
            "status": self.status,
            "message": self.message,
            "fix": self.fix,
        }


class Doctor:
    """Runs the checks for one environment; every value shown passes ``clean``."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.checks: list[Check] = []
        self.section = ""
        self.shell = _user_shell(environ)
        from awsguard.host import dirs

        self.shim_dir = dirs.shim_bin_dir(environ)
        self.cli: CliInfo | None = None
        self.profile_names: set[str] | None = None  # filled by the profiles check

    # -- helpers --------------------------------------------------------------------------------

    def add(self, id: str, status: str, message: str, fix: str | None = None) -> None:
        self.checks.append(Check(self.section, id, status, message, fix))

    def show(self, path: str) -> str:
        from awsguard.predict import paths
        from awsguard.words import clean

        return clean(paths.display(path, self.environ))

    def home(self, name: str) -> str:
        from awsguard.predict.paths import expanduser

        return expanduser("~/" + name, self.environ)

    def zdot(self, name: str) -> str:
        zdotdir = self.environ.get("ZDOTDIR", "")
        if zdotdir.startswith("/"):
            return zdotdir.rstrip("/") + "/" + name
        return self.home(name)

    def init_line(self, shell: str | None = None) -> str:
        return f'eval "$(awsguard init {shell or self.shell})"'

    def rc_file(self, shell: str | None = None) -> str:
        return self.show(
            self.zdot(".zshrc") if (shell or self.shell) == "zsh" else self.home(".bashrc")
        )

    def run(self) -> list[Check]:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("the aws shim", self.check_shim),
            ("shell integration", self.check_integration),
            ("the real aws", self.check_cli),
            ("AWS files", self.check_files),
            ("profiles", self.check_profiles),
            ("policy", self.check_policy),
            ("awsguard's own files", self.check_own_files),
        ]
        for section, step in steps:
            self.section = section
            try:
                step()
            except errors.AwsGuardError as exc:
                self.add(section, FAIL, exc.message, exc.hint)
            except Exception as exc:  # one failed check must not hide the others
                from awsguard.judge.settings import debug

                if debug(self.environ):
                    raise
                self.add(
                    section,
                    FAIL,
                    f"this check failed inside awsguard ({type(exc).__name__})",
                    "set AWSGUARD_DEBUG=1 to see the traceback, and report it",
                )
        return self.checks

    # -- the shim -------------------------------------------------------------------------------

    def check_shim(self) -> None:
        from awsguard.host import launcher

        shim = launcher.launcher_path(self.environ)
        state = launcher.status(self.environ)
        where = self.show(shim)
        if state == "missing":
            self.add(
                "shim-installed",
                FAIL,
                f"the aws shim is not installed ({where} does not exist)",
                f"awsguard install, and {self.init_line()} in {self.rc_file()}",
            )
            return
        if state == "foreign":
            self.add(
                "shim-installed",
                FAIL,
                f"{where} is not awsguard's shim",
                "move it away, then run: awsguard install",
            )
            return
        self.add("shim-installed", OK, f"installed: {where}")
        if state == "current":
            self.add("shim-current", OK, f"current for awsguard {__version__} and this Python")
        else:
            self.add(
                "shim-current",
                WARN,
                "written by another awsguard version or Python (it still runs that one)",
                "awsguard install",
            )
        if os.access(shim, os.X_OK):
            self.add("shim-executable", OK, "executable")
        else:
            self.add("shim-executable", FAIL, f"{where} is not executable", f"chmod +x {where}")
        self.check_path_here(shim)
        self.check_other_shells(shim)

    def is_shim(self, path: str | None, shim: str) -> bool:
        from awsguard.host.findaws import SHIM_MARKER, _read_head

        if not path:
            return False
        try:
            a, b = os.stat(path), os.stat(shim)
        except OSError:
            return False
        if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
            return True
        head = _read_head(path)
        return head is not None and SHIM_MARKER in head

    def check_path_here(self, shim: str) -> None:
        first = first_on_path(self.environ.get("PATH", os.defpath))
        if self.is_shim(first, shim):
            self.add("path-here", OK, "first on PATH in this shell")
            return
        if first is None:
            self.add(
                "path-here",
                FAIL,
                "no aws on PATH in this shell: the shim's directory is not on PATH",
                f"{self.init_line()} in {self.rc_file()}, then open a new shell",
            )
            return
        carried = [rc for rc, _ in self.rc_files_with_init() if rc.endswith(("rc", ".zshrc"))]
        if carried:
            fix = (
                f"something after the init line puts {self.show(first)} first (a later pyenv, "
                f"conda or mise activation): move {self.init_line()} to the end of "
                f"{self.show(carried[0])}, or run it again in this shell"
            )
        else:
            fix = f"{self.init_line()} as the last line of {self.rc_file()}, then open a new shell"
        self.add("path-here", FAIL, f"{self.show(first)} comes before the shim on PATH here", fix)

    def check_other_shells(self, shim: str) -> None:
        """The first aws in shells that do not read the interactive rc files."""
        import concurrent.futures

        path = self.environ.get("PATH", os.defpath)
        home = self.environ.get("HOME", "")
        minimal = {"HOME": home} if home else {}
        cron = {
            **minimal,
            "PATH": "/usr/bin:/bin",
            "SHELL": "/bin/sh",
            "LOGNAME": self.environ.get("LOGNAME", self.environ.get("USER", "")),
        }
        probe = f"printf '%s%s\\n' '{_MARK}' \"$(command -v aws)\""
        inherited = (
            "it reads no startup file and inherits PATH from the program that starts it: put "
            f"the shim first there ({self.init_line()} last in {self.rc_file()} for this shell)"
        )
        # (id, label, shell, argv after the shell, environment, severity, fix)
        plans: list[tuple[str, str, str, list[str], Mapping[str, str], str, str]] = [
            (
                "path-sh",
                "sh -c",
                "sh",
                ["-c", probe],
                self.environ,
                FAIL,
                inherited,
            ),
            (
                "path-bash",
                "bash -c",
                "bash",
                ["-c", probe],
                self.environ,
                FAIL,
                (
                    f"$BASH_ENV ({self.show(self.environ['BASH_ENV'])}) puts another aws first: "
                    f"add PATH={self.show(self.shim_dir)}:$PATH at its end"
                )
                if self.environ.get("BASH_ENV")
                else inherited,
            ),
            (
                "path-zsh",
                "zsh -c",
                "zsh",
                ["-c", probe],
                self.environ,
                FAIL,
                f"{self.show(self.zdot('.zshenv'))} (read by every zsh) puts another aws first: "
                f"add path=({self.show(self.shim_dir)} $path) at its end",
            ),
            (
                "path-bash-login",
                "bash -l (login)",
                "bash",
                ["-l", "-c", probe],
                self.environ,
                WARN,
                f"{self.init_line('bash')} at the end of {self.show(self.bash_login_file())} "
                "(the file a bash login shell reads)",
            ),
            (
                "path-zsh-login",
                "zsh -l (login)",
                "zsh",
                ["-l", "-c", probe],
                self.environ,
                WARN,
                f"{self.init_line('zsh')} at the end of {self.show(self.zdot('.zprofile'))} "
                "(read by zsh login shells)",
            ),
            (
                "path-env-i",
                "env -i (empty environment)",
                "sh",
                ["-c", probe],
                minimal,
                WARN,
                f"programs started with an empty environment use the shell's default PATH: "
                f"run aws there by its full path, {self.show(self.shim_dir)}/aws",
            ),
            (
                "path-cron",
                "cron (PATH=/usr/bin:/bin)",
                "sh",
                ["-c", probe],
                cron,
                WARN,
                f"put PATH={self.show(self.shim_dir)}:/usr/bin:/bin at the top of your crontab "
                "(crontab -e)",
            ),
        ]
        found = {name: _which(name, path) for name in ("sh", "bash", "zsh")}
        runnable = [p for p in plans if found.get(p[2])]
        missing = sorted({p[2] for p in plans if not found.get(p[2])})
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            results = list(
                pool.map(
                    lambda p: first_aws_in_shell([str(found[p[2]]), *p[3]], dict(p[4])), runnable
                )
            )
        for plan, result in zip(runnable, results, strict=True):
            id, label, _, _, _, severity, fix = plan
            got, answer = result
            if not got:
                self.add(
                    id,
                    WARN,
                    f"{label}: the shell did not answer in time or could not start",
                    "check its startup files for commands that wait for input",
                )
            elif answer is None:
                self.add(id, OK, f"{label}: no aws at all there (nothing runs unguarded)")
            elif self.is_shim(answer, shim):
                self.add(id, OK, f"{label}: the shim is first on PATH")
            else:
                self.add(id, severity, f"{label}: {self.show(answer)} comes before the shim", fix)
        if missing:
            self.add("path-shells", OK, f"not installed, not checked: {', '.join(missing)}")

    def bash_login_file(self) -> str:
        """The file a bash login shell reads: the first of these that exists."""
        for name in (".bash_profile", ".bash_login", ".profile"):
            path = self.home(name)
            if os.path.exists(path):
                return path
        return self.home(".bash_profile")

    # -- shell integration ----------------------------------------------------------------------

    def rc_files(self) -> list[str]:
        return [
            self.zdot(".zshenv"),
            self.zdot(".zprofile"),
            self.zdot(".zshrc"),
            self.zdot(".zlogin"),
            self.home(".bashrc"),
            self.home(".bash_profile"),
            self.home(".bash_login"),
            self.home(".profile"),
        ]

    def rc_files_with_init(self) -> list[tuple[str, int]]:
        """(rc file, line) for every rc file that runs `awsguard init` (or sources the files)."""
        from awsguard.host.fileio import read_regular

        hits = []
        for path in dict.fromkeys(self.rc_files()):
            try:
                got = read_regular(path, 4 << 20)
            except (OSError, ValueError):
                continue
            if got is None:
                continue
            text = got[0].decode("utf-8", "replace")
            for n, line in enumerate(text.splitlines(), 1):
                code = line.split("#", 1)[0]
                if "awsguard init" in code or "awsguard/shell/awsguard." in code:
                    hits.append((path, n))
                    break
        return hits

    def check_integration(self) -> None:
        hits = self.rc_files_with_init()
        if hits:
            for path, line in hits:
                self.add("rc-init", OK, f"{self.show(path)}:{line} runs awsguard init")
        else:
            self.add(
                "rc-init",
                WARN,
                "no shell startup file runs awsguard init",
                f"echo '{self.init_line()}' >> {self.rc_file()}",
            )
        pid = self.hook_shell()
        if pid is not None:
            self.add("prompt-hook", OK, f"the prompt hook is active in this shell (pid {pid})")
        else:
            self.add(
                "prompt-hook",
                WARN,
                "the prompt hook is not active in the shell that started doctor",
                f"{self.init_line()} in {self.rc_file()}, then open a new shell",
            )

    def hook_shell(self) -> int | None:
        """The pid of the shell above us whose prompt hook has run: the hook keeps a directory
        per shell (present/segment.py ``_stamp_dir``), found here without starting anything."""
        from awsguard.host.dirs import default_cache_dir

        bases = []
        runtime = self.environ.get("XDG_RUNTIME_DIR", "")
        if runtime.startswith("/"):
            bases.append(runtime.rstrip("/") + "/awsguard/prompt")
        cache = default_cache_dir(self.environ)
        if cache:
            bases.append(cache + "/prompt")
        pid = os.getppid()
        for _ in range(4):  # the shell may be a few processes up (sudo -E, time, make)
            if pid <= 1:
                return None
            if any(os.path.isdir(f"{base}/{pid}") for base in bases):
                return pid
            pid = _parent_of(pid)
        return None

    # -- the real CLI ---------------------------------------------------------------------------

    def check_cli(self) -> None:
        from awsguard.host import dirs, findaws, realcli

        try:
            path = findaws.find_real_aws(self.environ, skip_dirs=[dirs.shim_bin_dir(self.environ)])
        except findaws.RealCliError as exc:
            self.add("cli-found", FAIL, exc.message, "fix or unset AWSGUARD_AWS")
            return
        if path is None:
            self.add(
                "cli-found",
                FAIL,
                "no real aws found on PATH (besides the shim): aws exits 127",
                "install the AWS CLI v2, or set AWSGUARD_AWS=/path/to/aws",
            )
            return
        cache = dirs.default_cache_dir(self.environ)
        info = realcli.cli_info(path, self.environ, cache_dir=cache)
        self.cli = info
        version = f"aws-cli {info.version}" if info.version else "version unknown"
        major = f"v{info.major}" if info.major else "major unknown: v2 rules"
        self.add("cli-found", OK, f"{self.show(path)}: {version} ({major})")
        self.check_cli_version(info)
        self.check_other_clis(path, cache)

    def check_cli_version(self, info: CliInfo) -> None:
        version = _version_tuple(info.version)
        if info.major == 2 and version is not None:
            if version < _LOGIN_FIRST:
                self.add(
                    "cli-login",
                    WARN,
                    f"aws-cli {info.version} predates aws login (2.32.0): profiles with "
                    "login_session do not work with it",
                    "upgrade the AWS CLI v2",
                )
            elif version < _LOGIN_REFUSAL:
                self.add(
                    "cli-login",
                    WARN,
                    f"aws-cli {info.version} is older than 2.32.32: aws login attaches a session "
                    "to a profile even when its keys will shadow it",
                    "upgrade the AWS CLI v2 (awsguard warns before such an aws login meanwhile)",
                )
            else:
                self.add("cli-login", OK, "aws login refuses a profile whose keys would shadow it")
        if info.major == 1:
            if info.crt is False:
                self.add(
                    "cli-crt",
                    WARN,
                    "this CLI v1 cannot use aws login sessions: its botocore has no awscrt "
                    "(MissingDependencyException)",
                    "pip install awscrt into the CLI's environment, or use the CLI v2",
                )
            elif info.crt:
                self.add("cli-crt", OK, "this CLI v1 has awscrt: it can use aws login sessions")

    def check_other_clis(self, used: str, cache: str | None) -> None:
        from awsguard.host import realcli
        from awsguard.host.launcher import launcher_path

        shim = launcher_path(self.environ)
        seen = {os.path.realpath(used)}
        others = []
        for candidate in all_on_path(self.environ.get("PATH", os.defpath)):
            if self.is_shim(candidate, shim):
                continue
            real = os.path.realpath(candidate)
            if real in seen:
                continue
            seen.add(real)
            others.append(candidate)
        if not others:
            self.add("cli-second", OK, "no second AWS CLI on PATH")
            return
        for other in others:
            info = realcli.cli_info(other, self.environ, cache_dir=cache)
            version = f"aws-cli {info.version}" if info.version else "an aws of unknown version"
            self.add(
                "cli-second",
                WARN,
                f"a second CLI later on PATH: {self.show(other)} ({version}); the shim runs the "
                "first, but tools that call the other one by path are not guarded, and its "
                "rules may differ",
                "uninstall the one you do not use",
            )

    # -- AWS files ------------------------------------------------------------------------------

    def check_files(self) -> None:
        from awsguard.predict import inifile, paths

        uid = os.getuid()
        for label, path in (
            ("config", paths.config_file(self.environ)),
            ("credentials", paths.credentials_file(self.environ)),
        ):
            shown = self.show(path)
            try:
                ini = inifile.load(path, validate=True)
            except inifile.ParseError as exc:
                where = f"{self.show(exc.path)}:{exc.line}" if exc.line else self.show(exc.path)
                self.add(
                    f"parse-{label}",
                    FAIL,
                    f"{where}: {exc.reason}: the CLI cannot read the {label} file",
                    f"fix line {exc.line} of {self.show(exc.path)}"
                    if exc.line
                    else f"fix {self.show(exc.path)}",
                )
                ini = None
            else:
                if ini is None:
                    self.add(f"parse-{label}", OK, f"no {label} file ({shown})")
                else:
                    self.add(f"parse-{label}", OK, f"{shown} parses as the CLI parses it")
            try:
                st = os.stat(path)
            except OSError:
                continue
            if st.st_uid != uid:
                self.add(
                    f"owner-{label}",
                    FAIL,
                    f"{shown} belongs to another user (uid {st.st_uid})",
                    f"chown {_user(self.environ)} {shown}",
                )
            if st.st_mode & 0o022:
                self.add(
                    f"writable-{label}",
                    FAIL,
                    f"{shown} is writable by others: they could add a credential_process that "
                    "runs as you",
                    f"chmod go-w {shown}",
                )
            if label == "credentials" and st.st_mode & 0o044:
                who = "everyone" if st.st_mode & 0o004 else "its group"
                self.add(
                    "private-credentials",
                    FAIL if st.st_mode & 0o004 else WARN,
                    f"{shown} is readable by {who} (the CLI 2.34+ warns about this too)",
                    f"chmod 600 {shown}",
                )
            elif label == "credentials":
                self.add("private-credentials", OK, f"{shown} is readable by you only")
        for id, label, directory in (
            ("dir-aws", "the AWS directory", self.home(".aws")),
            ("dir-login-cache", "the login cache", paths.login_cache_dir(self.environ)),
            ("dir-sso-cache", "the SSO cache", paths.sso_cache_dir(self.environ)),
            ("dir-cli-cache", "the CLI's cache", paths.cli_cache_dir(self.environ)),
        ):
            self.check_dir(id, label, directory)

    def check_dir(self, id: str, label: str, directory: str, *, files: bool = False) -> None:
        try:
            st = os.stat(directory)
        except OSError:
            return  # not there: nothing to protect
        shown = self.show(directory)
        problems = _unsafe(st)
        if problems:
            self.add(
                id, FAIL, f"{label} {shown} is {problems}", _unsafe_fix(st, shown, self.environ)
            )
            return
        if files:
            try:
                names = sorted(os.listdir(directory))[:200]
            except OSError:
                names = []
            for name in names:
                path = os.path.join(directory, name)
                try:
                    fst = os.lstat(path)
                except OSError:
                    continue
                problems = _unsafe(fst)
                if problems:
                    where = self.show(path)
                    self.add(
                        id, FAIL, f"{where} is {problems}", _unsafe_fix(fst, where, self.environ)
                    )
                    return
        self.add(id, OK, f"{label} {shown}: yours, not writable by others")

    # -- profiles -------------------------------------------------------------------------------

    def check_profiles(self) -> None:
        from awsguard.commands.explain import discover_cli
        from awsguard.commands.status import gather
        from awsguard.host.dirs import default_cache_dir
        from awsguard.judge import settings as settings_mod
        from awsguard.present.statustable import verdict_words
        from awsguard.words import clean

        cli, major, crt = discover_cli(self.environ)
        try:
            config = settings_mod.load(self.environ)
            settings = None if config.off else config
        except errors.AwsGuardError:
            settings = None  # reported under "policy"; the defaults judge meanwhile
        try:
            table = gather(
                self.environ,
                cli=cli,
                major=major,
                crt=crt,
                settings=settings,
                cache_dir=default_cache_dir(self.environ),
            )
        except errors.AwsGuardError:
            self.add("profiles", WARN, "not checked: the AWS files do not parse (see above)")
            return
        self.profile_names = {row.name for row in table.rows}
        problems = table.problems()
        if not problems:
            self.add("profiles", OK, f"{len(table.rows):,} profiles, none with a problem")
            return
        for row in problems[:MAX_PROFILE_LINES]:
            name = clean(row.name, 60)
            words = verdict_words(row)
            status = FAIL if row.problem == "block" else WARN
            if row.problem == "error" and row.res.error is not None:
                message = (
                    f"profile {name}: the CLI fails ({clean(row.res.error.code, 60)}): "
                    f"{clean(row.res.error.message, 200)}"
                )
                hints = [f.fix for f in row.findings]
                fix = clean(hints[0], 300) if hints else f"awsguard explain -- --profile {name}"
            else:
                worst = next(f for f in row.findings if f.severity == row.problem)
                message = f"profile {name}: {words}: {clean(worst.message, 300)}"
                fix = clean(worst.fix, 300)
            self.add("profile", status, message, fix)
        if len(problems) > MAX_PROFILE_LINES:
            self.add(
                "profile",
                WARN,
                f"… and {len(problems) - MAX_PROFILE_LINES:,} more profiles with a problem",
                "awsguard status --problems",
            )

    # -- policy ---------------------------------------------------------------------------------

    def check_policy(self) -> None:
        from awsguard.judge import settings as settings_mod
        from awsguard.words import clean

        path = settings_mod.policy_file(self.environ)
        try:
            config = settings_mod.load(self.environ)
        except errors.AwsGuardError as exc:
            self.add("policy-valid", FAIL, exc.message, exc.hint)
            return
        if config.off:
            self.add(
                "policy-switch",
                WARN,
                "AWSGUARD=off is set: the shim passes every call straight through",
                "unset AWSGUARD",
            )
            return
        if self.environ.get("AWSGUARD_MODE") == "warn":
            self.add(
                "policy-switch",
                WARN,
                "AWSGUARD_MODE=warn: awsguard never blocks",
                "unset AWSGUARD_MODE",
            )
        if config.file is None:
            self.add("policy-valid", OK, f"no policy file ({self.show(path)}): the defaults apply")
            return
        self.add("policy-valid", OK, f"{self.show(path)}: every setting is known and valid")
        known = self.profile_names
        if known is None:
            return
        for name in sorted(config.profiles):
            if name not in known:
                shown = clean(name, 60)
                self.add(
                    "policy-profile",
                    WARN,
                    f"[profiles.{shown}] in {self.show(path)} names a profile no AWS file defines",
                    f"fix the name, or remove [profiles.{shown}]",
                )

    # -- awsguard's own files -------------------------------------------------------------------

    def check_own_files(self) -> None:
        from awsguard.host import dirs

        cache = dirs.default_cache_dir(self.environ)
        if cache:
            self.check_dir("own-cache", "awsguard's cache", cache, files=True)
        data = dirs.data_dir(self.environ)
        self.check_dir("own-data", "awsguard's home", data)
        self.check_dir(
            "own-bin", "the shim's directory", dirs.shim_bin_dir(self.environ), files=True
        )
        runtime = self.environ.get("XDG_RUNTIME_DIR", "")
        if runtime.startswith("/"):
            self.check_dir(
                "own-runtime", "the prompt's stamps", runtime.rstrip("/") + "/awsguard", files=True
            )


# -- small pure helpers -------------------------------------------------------------------------


def _user_shell(environ: Mapping[str, str]) -> str:
    name = os.path.basename(environ.get("SHELL", ""))
    return "zsh" if name == "zsh" else "bash"


def _user(environ: Mapping[str, str]) -> str:
    return environ.get("USER") or environ.get("LOGNAME") or str(os.getuid())


def _which(name: str, path: str) -> str | None:
    for entry in path.split(os.pathsep):
        if entry.startswith("/"):
            candidate = os.path.join(entry, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    for fallback in ("/bin", "/usr/bin"):
        candidate = os.path.join(fallback, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def all_on_path(path: str) -> Iterable[str]:
    """Every executable ``aws`` on ``path``, in order (absolute entries, as the shell and the
    shim look)."""
    seen: set[str] = set()
    for entry in path.split(os.pathsep):
        if not entry.startswith("/") or entry in seen:
            continue
        seen.add(entry)
        candidate = entry.rstrip("/") + "/aws"
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            yield candidate


def first_on_path(path: str) -> str | None:
    return next(iter(all_on_path(path)), None)


def first_aws_in_shell(argv: list[str], env: dict[str, str]) -> tuple[bool, str | None]:
    """(answered, path of the first aws) as the shell ``argv`` sees it, within a time limit."""
    from awsguard.host.realcli import _run

    result = _run(argv, env)
    if result is None:
        return False, None
    for line in reversed(result[0].splitlines()):
        if line.startswith(_MARK):
            found = line[len(_MARK) :].strip()
            return True, found if found.startswith("/") else None
    return False, None


def _parent_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read(4096)
        # The command name is in parentheses and may hold spaces: the fields follow the last ")".
        return int(data[data.rindex(b")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _version_tuple(version: str | None) -> tuple[int, ...] | None:
    if not version:
        return None
    parts = []
    for part in version.split(".")[:3]:
        digits = "".join(c for c in part if c.isdigit())
        if not digits:
            return None
        parts.append(int(digits))
    return tuple(parts)


def _unsafe(st: os.stat_result) -> str:
    """Why a file or directory of ours is unsafe, or ``""``."""
    problems = []
    if st.st_uid != os.getuid():
        problems.append(f"owned by another user (uid {st.st_uid})")
    if st.st_mode & 0o022 and (st.st_mode & 0o170000) != 0o120000:  # symlink modes mean nothing
        problems.append("writable by others")
    return " and ".join(problems)


def _unsafe_fix(st: os.stat_result, shown: str, environ: Mapping[str, str]) -> str:
    if st.st_uid != os.getuid():
        return f"chown -R {_user(environ)} {shown}  (or remove it: awsguard rebuilds its caches)"
    return f"chmod go-w {shown}"


# -- rendering and running ----------------------------------------------------------------------

_MARKS = {OK: "✓", WARN: "!", FAIL: "✗"}


def to_text(checks: list[Check], *, color: bool) -> str:
    from awsguard.present.report import Style

    style = Style(color)
    lines = [style.bold(f"awsguard doctor (awsguard {__version__})")]
    section = None
    for check in checks:
        if check.section != section:
            section = check.section
            lines.append("")
            lines.append(style.bold(section))
        mark = _MARKS[check.status]
        paint = {OK: style.green, WARN: style.yellow, FAIL: style.red}[check.status]
        lines.append(f"  {paint(mark)} {check.message}")
        if check.fix and check.status != OK:
            lines.append(f"      fix: {check.fix}")
    counts = {s: sum(1 for c in checks if c.status == s) for s in (OK, WARN, FAIL)}
    lines.append("")
    summary = f"{counts[OK]} ok, {counts[WARN]} to look at, {counts[FAIL]} broken"
    lines.append(style.red(summary) if counts[FAIL] else summary)
    return "\n".join(lines) + "\n"


def run(
    *,
    as_json: bool,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    color: bool | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    out = out or sys.stdout
    checks = Doctor(environ).run()
    failed = any(c.status == FAIL for c in checks)
    if as_json:
        from awsguard.present import report

        counts = {s: sum(1 for c in checks if c.status == s) for s in (OK, WARN, FAIL)}
        doc = {
            "schema": 1,
            "ok": not failed,
            "counts": counts,
            "checks": [c.as_json() for c in checks],
        }
        out.write(report.dumps(doc, indent=2) + "\n")
    else:
        if color is None:
            from awsguard.present.report import colour_wanted

            color = colour_wanted(environ, out)
        out.write(to_text(checks, color=color))
    return errors.FAILURE if failed else errors.OK
