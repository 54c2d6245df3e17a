"""The prompt segment: who ``aws`` would run as right now, in a few words, safe for a shell.

Two kinds of caller.  The shell hook of ``awsguard init zsh|bash`` runs ``awsguard prompt
--hook=SHELL`` only when something the segment was computed from has changed (see
``shell/README.md`` for the cache), and reads the :func:`hook_report` it prints.  Prompt engines
(starship, powerlevel10k, …) run ``awsguard prompt --format=…`` and get one rendering.

The segment is a fixed set of fields - profile, source, account, region, expires, marker - laid
out by a small template (``AWSGUARD_PROMPT_FORMAT``).  Every value comes from a file or the
environment, so it is made visible (:func:`awsguard.words.clean`), cut to length, and then
escaped for the shell that will show it; colour codes are added after escaping and wrapped so
the shell does not count them.  Nothing here is ever evaluated by a shell.

Standard library only, and cheap: this runs at a prompt (docs/ARCHITECTURE.md §4, §7).
"""

from __future__ import annotations

import os

from awsguard.host import record
from awsguard.predict import identity, paths
from awsguard.words import ERROR_WORDS, IMDS, LOGIN_SHADOWED, RANK, RULES, clean, source_short

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from awsguard.judge.policy import Finding
    from awsguard.predict.resolver import Resolution

DEFAULT_FORMAT = "aws:{profile} {source} {account} {region} {expires} {marker}"
FIELDS = ("profile", "source", "account", "region", "expires", "marker", "verdict")
SHOW_MODES = ("context", "always", "alert")
# Read when the text is laid out, outside the recorded computation: always part of the key.
LAYOUT_VARS = (
    "AWSGUARD_PROMPT_FORMAT",
    "AWSGUARD_PROMPT_ACCOUNT",
    "AWSGUARD_PROMPT_SHOW",
    "NO_COLOR",
)
ACCOUNT_MODES = ("short", "full")

# The protocol between `awsguard prompt --hook=SHELL` and shell/awsguard.{zsh,bash}.
HOOK_MAGIC = "awsguard-prompt 1"

# Files bigger than this are not parsed at a prompt (docs/hostile-inputs.md §7 item 11): 10,000 profiles
# are ~1.2 MB; a 100 MB file would hold the prompt for seconds.
MAX_FILE_BYTES = 8 << 20
# At most this long for one run of the hook; then the shell shows `?` (a hung mount, item 11).
HOOK_TIMEOUT = 2
# A hook that could not record what it read retries after this many seconds anyway.
BLIND_RETRY = 30

_PROFILE_MAX = 32
_FIELD_MAX = 40
_SEGMENT_MAX = 120

_MARKS = {"block": "!!", "warn": "!", "error": "?"}
# Colours by verdict (SGR): block bold red, warn yellow, error magenta.
_COLOURS = {"block": "1;31", "warn": "33", "error": "35"}


class Segment:
    """What the prompt shows, before layout and escaping."""

    __slots__ = (
        "account",
        "alert",
        "expires",
        "profile",
        "region",
        "source",
        "source_method",
        "ttl",
        "verdict",
        "visible",
    )

    def __init__(self) -> None:
        self.visible = True
        self.profile = ""
        self.source = ""
        self.source_method: str | None = None
        self.account = ""
        self.region = ""
        self.expires = ""
        self.verdict = "allow"  # allow | warn | block | error
        self.alert = ""  # the short reason behind a warn/block/error
        self.ttl: float | None = None  # seconds until the text changes with time alone

    @property
    def marker(self) -> str:
        mark = _MARKS.get(self.verdict, "")
        return f"{mark} {self.alert}" if mark and self.alert else mark

    def field(self, name: str) -> str | None:
        if name == "marker":
            return self.marker
        if name == "verdict":
            return "" if self.verdict == "allow" else self.verdict
        if name in ("profile", "source", "account", "region", "expires"):
            value: str = getattr(self, name)
            return value
        return None


class Inputs:
    """What a computation read: environment names, files (stat before reading), expiries."""

    __slots__ = ("names", "paths", "times", "whole")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.paths: dict[str, record.StatKey] = {}
        self.times: list[float] = []
        self.whole = False


# -- computing ---------------------------------------------------------------------------------


def compute(environ: Mapping[str, str], now: float | None = None) -> tuple[Segment, Inputs]:
    """The segment for ``environ`` now, and the inputs it depended on.  Never raises."""
    import time

    if now is None:
        now = time.time()
    env = record.RecordingEnv(environ)
    inputs = Inputs()
    record.start()
    try:
        seg = _compute(env, now)
    except Exception:  # a prompt shows `?`; `awsguard explain` tells the story
        seg = _problem("awsguard failed")
    finally:
        rec = record.stop()
    if rec is not None:
        inputs.paths = dict(rec.paths)
        inputs.times = list(rec.times)
    inputs.names = sorted(env.read)
    inputs.whole = env.whole
    return seg, inputs


def _problem(alert: str, profile: str = "") -> Segment:
    seg = Segment()
    seg.profile = profile
    seg.source = "?"
    seg.verdict = "error"
    seg.alert = alert
    return seg


def _odd_file(path: str) -> str | None:
    """Why ``path`` must not be read at a prompt, or None (absent files are fine)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if (st.st_mode & 0o170000) == 0o100000:
        return "too large" if st.st_size > MAX_FILE_BYTES else None
    try:
        null = os.stat("/dev/null")
    except OSError:
        null = None
    if null is not None and (st.st_dev, st.st_ino) == (null.st_dev, null.st_ino):
        return None  # AWS_CONFIG_FILE=/dev/null: the usual way to say "no file"
    return "not a file"


def _compute(env: record.RecordingEnv, now: float) -> Segment:
    from awsguard.host import findaws, realcli
    from awsguard.judge import settings

    # The files every answer depends on, noted before anything reads them (the loaders note
    # them too; the prompt's cache must not depend on that).
    record.note_path(settings.policy_file(env))
    files = (("config", paths.config_file(env)), ("credentials", paths.credentials_file(env)))
    for label, path in files:
        record.note_path(path)
        why = _odd_file(path)
        if why is not None:
            return _problem(f"{label} {why}", _profile_guess(env))
    try:
        # Which CLI it is changes rarely and only matters for v1/v2 differences: PATH is not
        # made a dependency of every prompt for it, only the shim's cache file (noted inside).
        forced = realcli.major_override(env)
    except findaws.RealCliError:
        return _problem("bad AWSGUARD_CLI_MAJOR", _profile_guess(env))
    majors = (forced,) if forced else _known_majors(env.inner)
    # An aws that may run either CLI: the stricter segment, as the shim judges (first on a tie).
    segments = [_segment(env, now, major) for major in majors]
    return max(segments, key=lambda seg: _STRICTNESS.get(seg.verdict, 0))


_STRICTNESS = {"allow": 0, "warn": 1, "error": 2, "block": 3}


def _segment(env: record.RecordingEnv, now: float, major: int) -> Segment:
    from awsguard.host import dirs
    from awsguard.judge import policy, settings
    from awsguard.predict.resolver import resolve

    res = resolve([], env, major=major, now=now, cache_dir=dirs.default_cache_dir(env))
    seg = Segment()
    seg.profile = clean(res.profile, _PROFILE_MAX)
    seg.source_method = res.source
    seg.source = source_short(res.source)
    seg.account = _account(res.identity.account, env)
    seg.region = clean(_region(res, env), _FIELD_MAX)
    _expiry(seg, res, env, now)
    try:
        loaded = settings.load(env, cache_dir=dirs.default_cache_dir(env))
        findings, _ = policy.judge(res, env, settings=loaded)
    except settings.SettingsError as exc:  # a bad setting: say which, never a traceback
        findings = []
        seg.verdict = "error"
        seg.alert = f"bad {exc.variable}" if exc.variable else "bad policy file"
    except Exception:  # anything else about the policy file: never a traceback in a prompt
        findings = []
        seg.verdict, seg.alert = "error", "bad policy file"
    else:
        _judge(seg, res, findings)
    if seg.verdict == "allow" and res.error is not None:
        seg.verdict = "error"
        seg.alert = ERROR_WORDS.get(res.error.code) or clean(res.error.code, _FIELD_MAX)
    seg.visible = _visible(seg, res, env)
    return seg


def _known_majors(env: Mapping[str, str]) -> tuple[int, ...]:
    """The CLI majors whose rules apply, as far as the shim has already learnt them (its cached
    probe): the learnt one first, both for an aws that may run either (a wrapper whose choice
    can vary), v2 when nothing is known.  The prompt never starts the CLI to find out."""
    from awsguard.host import dirs, findaws, realcli

    try:
        sem = realcli.semantics(env, probe=False, cache_dir=dirs.default_cache_dir(env))
    except (findaws.RealCliError, OSError):
        return (2,)
    if sem.info is not None and sem.info.varies is not None:
        return (sem.major, 3 - sem.major)
    return (sem.major,)


def _profile_guess(env: Mapping[str, str]) -> str:
    name = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
    return clean(name, _PROFILE_MAX)


def _account(account: str | None, env: Mapping[str, str]) -> str:
    if not account:
        return ""
    shown = clean(account, _FIELD_MAX)
    from awsguard.judge import settings

    if settings.value(env, "AWSGUARD_PROMPT_ACCOUNT") == "full" or len(shown) <= 4:
        return shown
    return "…" + shown[-4:]


def _region(res: Resolution, env: Mapping[str, str]) -> str:
    """The region the CLI would use: v2 reads AWS_REGION then AWS_DEFAULT_REGION, v1 only the
    latter (docs/credential-chain.md §12 item 10), then the profile's ``region``."""
    names = ("AWS_REGION", "AWS_DEFAULT_REGION") if res.major != 1 else ("AWS_DEFAULT_REGION",)
    for name in names:
        value = env.get(name)
        if value:
            return value
    if res.error is not None and res.error.code in ("ConfigParseError", "ProfileNotFound"):
        return ""
    from awsguard.predict.awsfiles import AwsFiles

    files = getattr(res, "files", None)
    if not isinstance(files, AwsFiles):
        # The resolver keeps its own view to itself; only the requested profile is re-read.
        files = AwsFiles(env, validate=False)
    try:
        setting = files.merged(res.chain_profile).get("region")
    except Exception:
        return ""
    found = setting.value if setting is not None else None
    return found if isinstance(found, str) else ""


def _expiry(seg: Segment, res: Resolution, env: Mapping[str, str], now: float) -> None:
    """``expires``: time left of the profile's login/SSO session, else of the credentials."""
    session = res.session
    expires = session.expires if session is not None else None
    if expires is None:
        expires = res.identity.expires
    if expires is None:
        return
    left = expires - now
    if left != left or left in (float("inf"), float("-inf")):
        return
    if left <= 0:
        seg.expires = "expired"
        return
    seg.expires = identity.format_remaining(left)
    # format_remaining floors to minutes (hours past a day): the text changes at the next step.
    step = 3600.0 if left >= 86400 else 60.0
    seg.ttl = (left % step) or step
    if left < step:
        seg.ttl = left


def _judge(seg: Segment, res: Resolution, findings: list[Finding]) -> None:
    worst: Finding | None = None
    for f in findings:
        rule = RULES.get(f.rule)
        if rule is None or rule.per_operation or f.severity not in ("warn", "block"):
            continue
        if worst is None or RANK[f.severity] > RANK[worst.severity]:
            worst = f
    if worst is None:
        return
    seg.verdict = worst.severity
    if worst.rule == LOGIN_SHADOWED:
        method = res.source
        if res.session is None or res.session.kind != "login":
            method = res.source_method  # the role's source profile is the one shadowed
        seg.alert = f"login shadowed by {source_short(method, 'another source')}"
    else:
        seg.alert = RULES[worst.rule].alert or clean(worst.rule, _FIELD_MAX)


def _visible(seg: Segment, res: Resolution, env: Mapping[str, str]) -> bool:
    """``AWSGUARD_PROMPT_SHOW``: context (default) hides the segment when nothing AWS is in
    play - no profile named, no credentials but the instance-metadata fallback every machine
    has; alert shows it only for a warning, a block or an error; always shows it."""
    from awsguard.judge import settings

    mode = settings.value(env, "AWSGUARD_PROMPT_SHOW")
    if mode == "always":
        return True
    if mode == "alert":
        return seg.verdict != "allow"
    if seg.verdict in ("warn", "block") or res.profile_from != "implicit":
        return True
    if res.source is not None and res.source != IMDS:
        return True
    return res.error is not None and res.error.code != "NoCredentialsError"


# -- layout ------------------------------------------------------------------------------------


def parse_format(template: str) -> list[tuple[str, str | None]]:
    """``"aws:{profile} {source}"`` → ``[("aws:", None), ("", "profile"), (" ", None), …]``.

    ``{name}`` is a field, ``{{`` and ``}}`` are literal braces; anything else in braces (an
    unknown name, an unclosed ``{``) stays literal text, so a typo shows instead of failing.
    """
    items: list[tuple[str, str | None]] = []
    text: list[str] = []
    i, n = 0, len(template)
    while i < n:
        ch = template[i]
        if ch in "{}" and template[i : i + 2] in ("{{", "}}"):
            text.append(ch)
            i += 2
            continue
        if ch == "{":
            close = template.find("}", i + 1)
            name = template[i + 1 : close] if close > 0 else ""
            if name in FIELDS:
                items.append(("".join(text), None))
                items.append(("", name))
                text = []
                i = close + 1
                continue
        text.append(ch)
        i += 1
    items.append(("".join(text), None))
    return [item for item in items if item != ("", None)]


def layout(seg: Segment, template: str) -> str:
    """The segment as plain text: fields filled in, an empty field taking one neighbouring
    space with it (so ``{region}`` left empty does not leave a double space)."""
    out = ""
    eat_space = False
    for text, name in parse_format(template):
        if name is None:
            if eat_space and text.startswith(" "):
                text = text[1:]
            eat_space = False
            out += text
            continue
        value = seg.field(name) or ""
        if value:
            out += value
            eat_space = False
        elif out.endswith(" "):
            out = out[:-1]
        else:
            eat_space = True
    out = out.strip(" ")
    return out if len(out) <= _SEGMENT_MAX else out[: _SEGMENT_MAX - 1] + "…"


def text(seg: Segment, environ: Mapping[str, str]) -> str:
    """The plain segment for ``environ``'s format ("" when it is hidden)."""
    if not seg.visible:
        return ""
    template = environ.get("AWSGUARD_PROMPT_FORMAT") or DEFAULT_FORMAT
    return clean(layout(seg, template), _SEGMENT_MAX)


# -- escaping, one function per place the text ends up -----------------------------------------
#
# zsh expands `%` sequences in a prompt even inside a substituted ${var} (CVE-2021-45444 was
# about exactly this), and `!` too under PROMPT_BANG; bash decodes backslash escapes in PS1 and,
# when the text is pasted into PS1 rather than referenced from it, also `$(…)` and backticks
# (starship #884/#2404).  Do not simplify these away: each has a named test in
# tests/test_prompt.py.


def escape_zsh(s: str, *, bang: bool = False) -> str:
    s = s.replace("%", "%%")
    return s.replace("!", "!!") if bang else s


def escape_bash_literal(s: str) -> str:
    """For PS1 itself when ``promptvars`` is off: only backslash escapes are decoded."""
    return s.replace("\\", "\\\\")


def escape_bash_ps1(s: str) -> str:
    r"""For text pasted into PS1 (``PS1="$(awsguard prompt --format=bash) …"``).

    bash reads PS1 twice: backslash escapes first (``\`` becomes ``\``, and ``\$`` becomes
    ``$``, or ``#`` for root), then ``$``, ``$(…)``, backticks and backslashes once more.  So a
    character special to the second reading gets a backslash that survives the first (``\``),
    and a backslash itself becomes four.
    """
    return s.replace("\\", "\\\\\\\\").replace("$", "\\\\$").replace("`", "\\\\`")


# Non-printing wrappers for colour codes, per destination.
_WRAP = {
    "zsh": ("%{", "%}"),
    "bash": ("\\[", "\\]"),  # in PS1 source
    "bash-ref": ("\001", "\002"),  # in a variable PS1 references: readline's own markers
}


def colour(escaped: str, verdict: str, dialect: str, environ: Mapping[str, str]) -> str:
    """Wrap already-escaped text in the verdict's colour, unless NO_COLOR or nothing to say."""
    code = _COLOURS.get(verdict)
    if not escaped or code is None or environ.get("NO_COLOR") or dialect not in _WRAP:
        return escaped
    start, end = _WRAP[dialect]
    return f"{start}\033[{code}m{end}{escaped}{start}\033[0m{end}"


def rendered(seg: Segment, environ: Mapping[str, str], fmt: str) -> str:
    """One rendering for ``awsguard prompt --format=plain|zsh|bash``."""
    plain = text(seg, environ)
    if fmt == "zsh":
        return colour(escape_zsh(plain), seg.verdict, "zsh", environ)
    if fmt == "bash":
        return colour(escape_bash_ps1(plain), seg.verdict, "bash", environ)
    return plain


def as_json(seg: Segment, environ: Mapping[str, str]) -> dict[str, object]:
    return {
        "schema": 1,
        "visible": seg.visible,
        "text": text(seg, environ),
        "profile": seg.profile,
        "source": seg.source_method,
        "source_word": seg.source,
        "account": seg.account,
        "region": seg.region,
        "expires": seg.expires,
        "verdict": seg.verdict,
        "marker": seg.marker,
        "alert": seg.alert,
    }


# -- the shell hook's report -------------------------------------------------------------------


def _is_name(name: str) -> bool:
    return name.isascii() and name.isidentifier()


def hook_report(
    seg: Segment,
    inputs: Inputs,
    environ: Mapping[str, str],
    shell: str,
    session: str,
    now: float,
) -> bytes:
    """What ``awsguard prompt --hook=SHELL`` prints; shell/awsguard.{zsh,bash} read it.

    One item per line (values are single-line after :func:`clean`)::

        awsguard-prompt 1
        <seconds until the text changes with time alone; 0 = never>
        <directory of this shell's stamp files, or empty>
        <text for a ${reference}>      zsh: %-escaped; bash: colours in \\001…\\002
        <text for pasting>             zsh: also !-escaped (PROMPT_BANG); bash: \\ doubled
        <raw text>                     no colour, no escaping (for frameworks that escape)
        <verdict>                      allow | warn | block | error | none
        n NAME                         an environment variable the text depends on
        f 1 PATH | f 0 PATH            a file it depends on, present or absent; the Nth
                                       `f` line has the stamp file <dir>/N
        w                              every variable was read: watch them all
        c                              a file path is relative: the directory matters
        m TEXT | M TEXT | p TEXT       the PATH marker (:data:`PATH_MARKER`) for a
                                       ${reference}, for pasting, and raw: the shell adds it
                                       itself when another `aws` comes before the shim
        .
    """
    plain = text(seg, environ)
    verdict = seg.verdict if seg.visible else "none"
    if shell == "zsh":
        ref = colour(escape_zsh(plain), verdict, "zsh", environ)
        alt = colour(escape_zsh(plain, bang=True), verdict, "zsh", environ)
    else:
        ref = colour(plain, verdict, "bash-ref", environ)
        alt = colour(escape_bash_literal(plain), verdict, "bash-ref", environ)
    ttl = _ttl(seg, inputs, now)
    stamp_dir = _stamp_dir(environ, session)
    watch: list[str] = []
    relative = False
    index = 0
    for path, key in inputs.paths.items():
        if "\n" in path or "\r" in path or not path:
            ttl = min(ttl or BLIND_RETRY, BLIND_RETRY)  # cannot be named on a line: poll
            continue
        relative = relative or not path.startswith("/")
        present = isinstance(key, tuple)
        if present and stamp_dir is not None:
            assert isinstance(key, tuple)
            if not _stamp(stamp_dir, index, key[3]):
                stamp_dir = None
        watch.append(f"f {1 if present else 0} {path}")
        index += 1
    if stamp_dir is None:
        # No stamps: the shell can still see files appear and vanish; edits need the timer.
        ttl = min(ttl or BLIND_RETRY, BLIND_RETRY)
    lines = [
        HOOK_MAGIC,
        str(int(ttl + 0.999) if ttl else 0),
        stamp_dir or "",
        ref,
        alt,
        plain,
        verdict,
    ]
    names = sorted({*inputs.names, *LAYOUT_VARS})
    lines.extend(f"n {name}" for name in names if _is_name(name))
    lines.extend(watch)
    if inputs.whole:
        lines.append("w")
    if relative:
        lines.append("c")
    lines.extend(_path_marker_lines(shell, environ))
    lines.append(".")
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


# Shown by the shell integration, without starting a process, when the `aws` this shell would
# run is not the shim (zsh: $commands[aws]; bash: its hash table, else a walk of PATH) - a later
# pyenv/mise/conda activation put another one first.  `awsguard doctor` says what to do.
PATH_MARKER = "(unguarded aws first on PATH)"


def _path_marker_lines(shell: str, environ: Mapping[str, str]) -> list[str]:
    if shell == "zsh":
        ref = colour(escape_zsh(PATH_MARKER), "block", "zsh", environ)
        alt = colour(escape_zsh(PATH_MARKER, bang=True), "block", "zsh", environ)
    else:
        ref = colour(PATH_MARKER, "block", "bash-ref", environ)
        alt = colour(escape_bash_literal(PATH_MARKER), "block", "bash-ref", environ)
    return [f"m {ref}", f"M {alt}", f"p {PATH_MARKER}"]


def _ttl(seg: Segment, inputs: Inputs, now: float) -> float:
    """Seconds until time alone changes the text: the shown countdown's next step, or an expiry
    the decision compared with the clock."""
    ttl = seg.ttl or 0.0
    for ts in inputs.times:
        left = ts - now
        if left > 0 and (not ttl or left < ttl):
            ttl = left
    return ttl


def _stamp_dir(environ: Mapping[str, str], session: str) -> str | None:
    """``$XDG_RUNTIME_DIR/awsguard/prompt/<shell pid>`` (else under ~/.cache/awsguard): one
    directory per shell, private to the user, never a shared /tmp."""
    if not session.isascii() or not session.isdigit():
        return None
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if runtime.startswith("/") and os.path.isdir(runtime):
        base = runtime.rstrip("/") + "/awsguard"
    else:
        from awsguard.host.dirs import default_cache_dir

        cache = default_cache_dir(environ)
        if cache is None:
            return None
        base = cache
    parent = base + "/prompt"
    path = f"{parent}/{int(session)}"
    from awsguard.host.fileio import private_dir

    # The stamps decide when the prompt is computed again: a directory another user can write
    # (or made by one) could keep it showing an old answer, so then there are none.
    if private_dir(path):
        return path if private_dir(parent) and private_dir(base) else None
    try:
        for directory in (base, parent):  # each level private, whatever the umask
            os.makedirs(directory, mode=0o700, exist_ok=True)
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    if not all(private_dir(d) for d in (base, parent, path)):
        return None
    _prune(parent, int(session))
    return path


def _prune(parent: str, mine: int) -> None:
    """Remove the stamp directories of shells that have exited (once per new shell)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.isdigit() or int(name) == mine:
            continue
        try:
            os.kill(int(name), 0)
            continue
        except ProcessLookupError:
            pass
        except (OSError, OverflowError):
            continue
        directory = f"{parent}/{name}"
        try:
            for entry in os.listdir(directory):
                os.unlink(f"{directory}/{entry}")
            os.rmdir(directory)
        except OSError:
            continue


def _stamp(directory: str, index: int, mtime_ns: int) -> bool:
    """Stamp file ``directory/index`` with ``mtime_ns``: the shell compares a watched file with
    it with ``-nt``/``-ot`` (builtins; nanoseconds on bash 5.2 and zsh 5.9), so spotting an
    edit costs no process."""
    stamp = f"{directory}/{index}"
    try:
        fd = os.open(
            stamp, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600
        )
        os.close(fd)
        os.utime(stamp, ns=(mtime_ns, mtime_ns), follow_symlinks=False)
    except (OSError, ValueError, OverflowError):
        return False
    return True
