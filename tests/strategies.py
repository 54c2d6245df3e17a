"""Hypothesis strategies that build `aws` invocations for the differential test.

A drawn ``World`` is a small universe: up to five profiles from a fixed pool of names (so that
``--profile``, ``AWS_PROFILE`` and ``source_profile`` keep hitting defined, undefined and
self-referencing names), each with a mix of credential styles spread over the config and
credentials files, an ``[sso-session]`` section, login caches, the environment, legacy files,
container and IMDS settings, file-syntax quirks and an argv. ``render`` turns it into an
``oracle.Scenario``.

Every provider of docs/credential-chain.md §1 and every error of its §§1-6 is reachable; the weights keep
most scenarios interesting (a named profile usually exists and usually has something in it). The
``focus`` argument of ``scenarios`` shifts the weights towards one area without excluding others.

Things awsguard cannot know offline are kept out on purpose: the container and IMDS stubs always
answer, ``credential_process`` always prints valid version-1 JSON, and no URI is https.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import oracle
from hypothesis import strategies as st
from oracle import HOME, LOOPBACK, LOOPBACK_PORT, Scenario

NAMES = ("default", "dev", "prod", "src", "my prof")
GHOST = "ghost"  # never defined anywhere
LITERAL = "profile dev"  # only exists when the credentials file says [profile dev]
ARNS = ("arn:aws:iam::999999999999:user/test_user_B", "arn:aws:iam::111111111111:role/login-c")
AKID = "AKIAQ2EXAMPLEKEY0001"
SERVICE_COMMANDS = (
    ("sts", "get-caller-identity"),
    ("s3", "ls"),
    ("ec2", "describe-instances"),
    ("iam", "list-users"),
)
FOCI = ("all", "profiles", "roles", "syntax", "env")


def chance(draw: st.DrawFn, n: int) -> bool:
    """True with probability 1/n. False is the simplest choice, so shrinking prefers it."""
    return draw(st.integers(0, n - 1)) == n - 1


def weighted(*pairs: tuple[int, Any]) -> st.SearchStrategy[Any]:
    """``sampled_from`` with integer weights: ``weighted((3, "a"), (1, "b"))``."""
    return st.sampled_from([value for weight, value in pairs for _ in range(weight)])


# ---------------------------------------------------------------------------------------------
# The world model
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Profile:
    name: str
    config: dict[str, str] = dataclasses.field(default_factory=dict)
    credentials: dict[str, str] = dataclasses.field(default_factory=dict)
    config_header: str = "standard"  # standard | bare | quoted | spaced | both-default
    credentials_header: str = "standard"  # standard | prefixed
    decoy_first: bool = True  # for both-default: is the decoy section written first?


@dataclasses.dataclass
class World:
    profiles: list[Profile]
    sso_session: dict[str, str] | None
    sso_session_place: str  # config | credentials | absent
    login_states: dict[str, str]
    login_docs: dict[str, bytes | None]
    login_cache_mode: str
    quirks: dict[str, list[str]]
    config_path_mode: str
    credentials_path_mode: str
    env: dict[str, str | None]
    argv: list[str]
    extra_files: dict[str, bytes]
    dirs: list[str]


# ---------------------------------------------------------------------------------------------
# Credential styles: each returns key/value pairs and where they go
# ---------------------------------------------------------------------------------------------


@st.composite
def static_keys(draw: st.DrawFn, name: str) -> list[tuple[str, str, str]]:
    where = draw(weighted((5, "credentials"), (3, "config"), (1, "both")))
    places = ["credentials", "config"] if where == "both" else [where]
    out: list[tuple[str, str, str]] = []
    for place in places:
        akid = draw(weighted((8, AKID), (1, ""), (1, None)))
        secret = draw(weighted((7, "present"), (2, "missing"), (1, "empty")))
        if akid is not None:
            out.append((place, "aws_access_key_id", akid))
        if secret == "present":
            out.append((place, "aws_secret_access_key", f"secret-{name}-{place}"))
        elif secret == "empty":
            out.append((place, "aws_secret_access_key", ""))
        token = draw(weighted((3, None), (1, "aws_session_token"), (1, "aws_security_token")))
        if token:
            out.append((place, token, "session-token"))
        if chance(draw, 10):
            out.append((place, "aws_account_id", "000000000000"))
    return out


@st.composite
def role(
    draw: st.DrawFn, name: str, focus: str, defined: tuple[str, ...]
) -> list[tuple[str, str, str]]:
    place = draw(weighted((5, "config"), (1, "credentials")))
    out = [(place, "role_arn", f"arn:aws:iam::123456789012:role/r-{name.replace(' ', '-')}")]
    mode = draw(
        weighted((7, "source_profile"), (4, "credential_source"), (1, "both"), (1, "neither"))
    )
    if mode in ("source_profile", "both"):
        # Self-references and the undefined name come up often, cycles follow from the pool.
        source = draw(weighted((6, "defined"), (1, "pool"), (2, "self"), (1, GHOST)))
        if source == "defined":
            source = draw(st.sampled_from(defined or NAMES))
        elif source == "pool":
            source = draw(st.sampled_from(NAMES))
        elif source == "self":
            source = name
        out.append((place, "source_profile", source))
    if mode in ("credential_source", "both"):
        source = draw(
            weighted(
                (3, "Environment"),
                (2, "EcsContainer"),
                (2, "Ec2InstanceMetadata"),
                (1, "environment"),
                (1, "SharedConfig"),
                (1, "Ec2Config"),
            )
        )
        out.append((place, "credential_source", source))
    for key, value in (
        ("role_session_name", "sess"),
        ("external_id", "ext"),
        ("duration_seconds", "3600"),
    ):
        if chance(draw, 6):
            out.append((place, key, value))
    return out


@st.composite
def web_identity(draw: st.DrawFn, name: str) -> list[tuple[str, str, str]]:
    place = draw(weighted((5, "config"), (1, "credentials")))
    out: list[tuple[str, str, str]] = []
    token_file = draw(weighted((5, f"{HOME}/wi-token"), (1, "~/wi-token"), (2, "")))
    out.append((place, "web_identity_token_file", token_file))
    arn = draw(weighted((5, "present"), (2, "absent"), (1, "empty")))
    if arn == "present":
        out.append((place, "role_arn", "arn:aws:iam::123456789012:role/web"))
    elif arn == "empty":
        out.append((place, "role_arn", ""))
    if draw(st.booleans()):
        out.append((place, "role_session_name", "wi-session"))
    return out


SSO_KEYS = ("sso_account_id", "sso_role_name", "sso_start_url", "sso_region")
SSO_VALUES = {
    "sso_account_id": "123456789012",
    "sso_role_name": "ReadOnly",
    "sso_start_url": "https://example.awsapps.com/start",
    "sso_region": "us-east-1",
}


@st.composite
def sso_legacy(draw: st.DrawFn, name: str) -> list[tuple[str, str, str]]:
    place = draw(weighted((6, "config"), (1, "credentials")))
    return [(place, k, SSO_VALUES[k]) for k in SSO_KEYS if not chance(draw, 8)]


@st.composite
def sso_with_session(draw: st.DrawFn, name: str) -> list[tuple[str, str, str]]:
    place = draw(weighted((6, "config"), (1, "credentials")))
    out = [(place, "sso_session", draw(weighted((5, "s1"), (1, "s2"))))]
    for k in ("sso_account_id", "sso_role_name"):
        if not chance(draw, 8):
            out.append((place, k, SSO_VALUES[k]))
    # Keys repeated in the profile: equal to the session's value, or conflicting.
    if chance(draw, 4):
        out.append((place, "sso_region", draw(st.sampled_from(["us-east-1", "eu-west-1"]))))
    if chance(draw, 6):
        out.append((place, "sso_start_url", SSO_VALUES["sso_start_url"]))
    return out


@st.composite
def login(draw: st.DrawFn, name: str) -> list[tuple[str, str, str]]:
    place = draw(weighted((6, "config"), (1, "credentials")))
    return [(place, "login_session", draw(st.sampled_from(ARNS)))]


@st.composite
def process(draw: st.DrawFn, name: str) -> list[tuple[str, str, str]]:
    place = draw(weighted((6, "config"), (1, "credentials")))
    expiration = oracle.future_iso() if draw(st.booleans()) else None
    return [(place, "credential_process", oracle.process_command(expiration=expiration))]


@st.composite
def noise(draw: st.DrawFn, name: str) -> list[tuple[str, str, str]]:
    return [("config", "region", draw(st.sampled_from(["us-west-2", "eu-central-1"])))]


@st.composite
def profile(draw: st.DrawFn, name: str, focus: str, defined: tuple[str, ...]) -> Profile:
    style_weights = {
        "static": 6,
        "role": 4,
        "web_identity": 2,
        "sso_legacy": 2,
        "sso_session": 2,
        "login": 4,
        "process": 3,
        "noise": 2,
    }
    if focus == "roles":
        style_weights.update(role=14, static=8)
    pool = [s for s, w in style_weights.items() for _ in range(w)]
    n_styles = draw(weighted((6, 1), (4, 2), (2, 3), (1, 0)))
    styles = draw(st.lists(st.sampled_from(pool), min_size=n_styles, max_size=n_styles))
    p = Profile(name=name)
    makers = {
        "static": lambda: static_keys(name),
        "role": lambda: role(name, focus, defined),
        "web_identity": lambda: web_identity(name),
        "sso_legacy": lambda: sso_legacy(name),
        "sso_session": lambda: sso_with_session(name),
        "login": lambda: login(name),
        "process": lambda: process(name),
        "noise": lambda: noise(name),
    }
    for style in styles:
        for place, key, value in draw(makers[style]()):
            (p.config if place == "config" else p.credentials)[key] = value
    if name == "default":
        p.config_header = draw(weighted((12, "standard"), (3, "prefixed"), (2, "both-default")))
    else:
        p.config_header = draw(
            weighted((30, "standard"), (1, "bare"), (1, "quoted"), (1, "spaced"))
        )
    p.credentials_header = draw(weighted((24, "standard"), (1, "prefixed")))
    p.decoy_first = draw(st.booleans())
    return p


# ---------------------------------------------------------------------------------------------
# Environment, argv, paths
# ---------------------------------------------------------------------------------------------


@st.composite
def env_keys(draw: st.DrawFn, focus: str) -> dict[str, str]:
    none_weight = 3 if focus == "env" else 8
    mode = draw(
        weighted(
            (none_weight, "none"),
            (4, "full"),
            (1, "no_secret"),
            (1, "empty_secret"),
            (1, "empty_key"),
        )
    )
    env: dict[str, str] = {}
    if mode == "none":
        return env
    env["AWS_ACCESS_KEY_ID"] = "" if mode == "empty_key" else "AKIAQ2ENVIRONMENT001"
    if mode in ("full", "empty_key"):
        env["AWS_SECRET_ACCESS_KEY"] = "env-secret"
    elif mode == "empty_secret":
        env["AWS_SECRET_ACCESS_KEY"] = ""
    token = draw(
        weighted((4, None), (1, "AWS_SESSION_TOKEN"), (1, "AWS_SECURITY_TOKEN"), (1, "both"))
    )
    if token == "both":
        env["AWS_SESSION_TOKEN"] = "t-session"
        env["AWS_SECURITY_TOKEN"] = "t-security"
    elif token:
        env[token] = "t"
    expiration = draw(weighted((6, None), (4, "set"), (1, "empty")))
    if expiration == "set":
        env["AWS_CREDENTIAL_EXPIRATION"] = draw(timestamp())
    elif expiration == "empty":
        env["AWS_CREDENTIAL_EXPIRATION"] = ""
    if chance(draw, 6):
        env["AWS_ACCOUNT_ID"] = "000000000000"
    return env


PROFILE_REFS = (*NAMES, GHOST, LITERAL)

# Timestamps as dateutil sees them: some odd but valid, some that raise ParserError. A resolver
# that re-implements the parsing must agree on every one of them.
ODD_VALID_TIMES = (
    "2030-01-01",
    "2030-01-01T00:00:00+02:00",
    "20300101T000000Z",
    "Jan 1 2030",
    "12",
    "2030-01-01T00:00:00.123456789Z",
    "2030-01-01 00:00:00",
)
INVALID_TIMES = (
    "next tuesday-ish",
    "2030-13-01T00:00:00Z",
    "2030-02-30T00:00:00Z",
    "1700000000",
    "0",
    "  ",
    "Z",
)


@st.composite
def timestamp(draw: st.DrawFn) -> str:
    kind = draw(weighted((6, "future"), (2, "past"), (2, "odd"), (2, "invalid")))
    if kind == "future":
        return oracle.future_iso()
    if kind == "past":
        return "2001-02-03T04:05:06Z"
    return draw(st.sampled_from(ODD_VALID_TIMES if kind == "odd" else INVALID_TIMES))


@st.composite
def profile_ref(draw: st.DrawFn, defined: tuple[str, ...]) -> str:
    """A profile name as a user would type it: mostly one that exists."""
    kind = draw(weighted((24, "defined"), (2, "pool"), (1, GHOST), (1, LITERAL), (1, "variant")))
    if kind == "defined":
        return draw(st.sampled_from(defined or NAMES))
    if kind == "variant":  # names are case- and whitespace-sensitive
        name = draw(st.sampled_from(defined or NAMES))
        return draw(st.sampled_from([name.upper(), f"{name} ", f" {name}", name.capitalize()]))
    if kind == "pool":
        return draw(st.sampled_from(NAMES))
    return kind


@st.composite
def profile_env(draw: st.DrawFn, focus: str, defined: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    absent = 4 if focus == "profiles" else 12
    value = draw(weighted((absent, None), (10, "ref"), (1, "")))
    if value == "ref":
        value = draw(profile_ref(defined))
    if value is not None:
        env["AWS_PROFILE"] = value
    absent = 5 if focus == "profiles" else 20
    value = draw(weighted((absent, None), (6, "ref"), (1, "")))
    if value == "ref":
        value = draw(profile_ref(defined))
    if value is not None:
        env["AWS_DEFAULT_PROFILE"] = value
    return env


@st.composite
def web_identity_env(draw: st.DrawFn, focus: str) -> dict[str, str]:
    mode = draw(
        weighted(
            (28 if focus != "env" else 6, "none"),
            (2, "full"),
            (1, "token_only"),
            (1, "empty_token"),
            (1, "arn_only"),
            (1, "empty_arn"),
        )
    )
    env: dict[str, str] = {}
    if mode in ("full", "token_only", "empty_arn"):
        env["AWS_WEB_IDENTITY_TOKEN_FILE"] = f"{HOME}/env-wi-token"
    if mode == "empty_token":
        env["AWS_WEB_IDENTITY_TOKEN_FILE"] = ""
    if mode in ("full", "arn_only", "empty_token"):
        env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/env-web"
    if mode == "empty_arn":
        env["AWS_ROLE_ARN"] = ""
    if mode != "none" and draw(st.booleans()):
        env["AWS_ROLE_SESSION_NAME"] = "env-session"
    return env


@st.composite
def legacy_env(draw: st.DrawFn, focus: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """AWS_CREDENTIAL_FILE, BOTO_CONFIG / ~/.boto."""
    env: dict[str, str] = {}
    files: dict[str, bytes] = {}
    rare = 4 if focus == "env" else 14
    ec2 = draw(
        weighted(
            (rare, None), (2, "ok"), (1, "no_key"), (1, "no_secret"), (1, "missing"), (1, "tilde")
        )
    )
    if ec2 in ("ok", "no_key", "no_secret"):
        env["AWS_CREDENTIAL_FILE"] = f"{HOME}/ec2-creds"
        body = {
            "ok": "AWSAccessKeyId=AKIAQ2EC2FILE0000001\nAWSSecretKey=ec2-secret\n",
            "no_key": "# nothing here\nSomething=else\n",
            "no_secret": "AWSAccessKeyId=AKIAQ2EC2FILE0000001\n",
        }[ec2]
        files["ec2-creds"] = body.encode()
    elif ec2 == "missing":
        env["AWS_CREDENTIAL_FILE"] = f"{HOME}/no-such-ec2-file"
    elif ec2 == "tilde":
        env["AWS_CREDENTIAL_FILE"] = "~/ec2-tilde"
        files["ec2-tilde"] = b"AWSAccessKeyId = AKIAQ2EC2FILE0000002\nAWSSecretKey = s\n"
    boto_body = (
        b"[Credentials]\naws_access_key_id = AKIAQ2BOTO0000000001\naws_secret_access_key = b\n"
    )
    boto = draw(
        weighted(
            (rare, None),
            (2, "env_ok"),
            (1, "env_nokeys"),
            (1, "env_missing"),
            (2, "home"),
            (1, "no_secret"),
        )
    )
    if boto == "env_ok":
        env["BOTO_CONFIG"] = f"{HOME}/boto.cfg"
        files["boto.cfg"] = boto_body
    elif boto == "env_nokeys":
        env["BOTO_CONFIG"] = f"{HOME}/boto.cfg"
        files["boto.cfg"] = b"[Boto]\ndebug = 0\n"
    elif boto == "env_missing":
        env["BOTO_CONFIG"] = f"{HOME}/no-such-boto"
        if draw(st.booleans()):
            files[".boto"] = boto_body  # must NOT be consulted
    elif boto == "home":
        files[".boto"] = boto_body
    elif boto == "no_secret":
        files[".boto"] = b"[Credentials]\naws_access_key_id = AKIAQ2BOTO0000000001\n"
    return env, files


@st.composite
def container_env(draw: st.DrawFn, focus: str) -> tuple[dict[str, str], dict[str, bytes]]:
    env: dict[str, str] = {}
    files: dict[str, bytes] = {}
    rare = 5 if focus == "env" else 16
    mode = draw(
        weighted(
            (rare, None),
            (2, "relative"),
            (1, "relative_empty"),
            (2, "full"),
            (1, "full_localhost"),
            (1, "full_empty"),
            (1, "full_bad_host"),
            (1, "both"),
        )
    )
    if mode is None:
        return env, files
    if mode in ("relative", "both"):
        env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/task-role"
    if mode == "relative_empty":
        env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = ""
    if mode in ("full", "both"):
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"http://{LOOPBACK}/full/creds"
    if mode == "full_localhost":
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"http://localhost:{LOOPBACK_PORT}/full"
    if mode == "full_empty":
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ""
    if mode == "full_bad_host":
        host = draw(
            st.sampled_from(["10.0.0.5", "169.254.170.99", "metadata.invalid", "192.168.1.1"])
        )
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = f"http://{host}/creds"
    auth = draw(
        weighted((8, None), (2, "token"), (2, "file"), (2, "file_missing"), (1, "bad_token"))
    )
    if auth == "token":
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "container-auth"
    elif auth == "bad_token":
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "container-auth\nInjected: header"
    elif auth == "file":
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = f"{HOME}/container-token"
        files["container-token"] = b"container-auth-from-file"
    elif auth == "file_missing":
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = f"{HOME}/no-such-container-token"
    return env, files


@st.composite
def imds_env(draw: st.DrawFn, focus: str) -> dict[str, str | None]:
    disabled = draw(
        weighted(
            (30 if focus != "env" else 8, "true"),
            (1, "TRUE"),
            (1, "True"),
            (1, "1"),
            (1, "false"),
            (1, None),
        )
    )
    # The endpoint is always set to the loopback stub by oracle.materialize.
    return {"AWS_EC2_METADATA_DISABLED": disabled}


@st.composite
def argv(draw: st.DrawFn, focus: str, defined: tuple[str, ...]) -> list[str]:
    base = list(draw(st.sampled_from(SERVICE_COMMANDS)))
    none_weight = 3 if focus == "profiles" else 8
    form = draw(
        weighted(
            (none_weight, "none"),
            (4, "before"),
            (3, "after"),
            (2, "eq"),
            (1, "prefix_prof"),
            (1, "prefix_p"),
            (2, "repeated"),
            (1, "dashdash"),
            (1, "dashdash_after_real"),
            (1, "empty"),
            (1, "empty_eq"),
            (1, "repeated_then_empty"),
        )
    )
    ref = draw(profile_ref(defined))
    other = draw(profile_ref(defined))
    words: list[str]
    if form == "none":
        words = base
    elif form == "before":
        words = ["--profile", ref, *base]
    elif form == "after":
        words = [*base, "--profile", ref]
    elif form == "eq":
        words = [f"--profile={ref}", *base]
    elif form == "prefix_prof":
        words = [*base, "--prof", ref]
    elif form == "prefix_p":
        words = ["--p", ref, *base]
    elif form == "repeated":
        words = ["--profile", other, *base, "--profile", ref]
    elif form == "dashdash":
        words = [*base, "--", "--profile", ref]
    elif form == "dashdash_after_real":
        words = [*base, "--profile", ref, "--", "--profile", other]
    elif form == "empty":
        words = ["--profile", "", *base]
    elif form == "repeated_then_empty":
        words = ["--profile", ref, *base, "--profile", ""]  # the empty value wins, then is ignored
    else:
        words = [*base, "--profile="]
    extra = draw(
        weighted(
            (30, None),
            (2, ("--region", "us-west-2")),
            (2, ("--output", "text")),
            (2, ("--debug",)),
            (1, ("--no-sign-request",)),
        )
    )
    if extra:
        words = (
            [*extra, *words]
            if draw(st.booleans())
            else [*words[: len(base)], *extra, *words[len(base) :]]
        )
    return words


PATH_MODES = (
    (40, "default"),
    (2, "absolute"),
    (1, "tilde"),
    (1, "dollar_home"),
    (1, "braced_home"),
    (1, "empty"),
    (1, "directory"),
    (1, "missing"),
    (1, "same_as_config"),
)


def path_for(mode: str, var_default: str, alt: str) -> tuple[str | None, str | None, str | None]:
    """(env value or None, relpath where the content is written, directory to create)."""
    return {
        "default": (None, var_default, None),
        "absolute": (f"{HOME}/{alt}", alt, None),
        "tilde": (f"~/{alt}", alt, None),
        "dollar_home": (f"$HOME/{alt}", alt, None),
        "braced_home": (f"${{HOME}}/{alt}", alt, None),
        # The content still goes to the default path, which must then be ignored.
        "empty": ("", var_default, None),
        "directory": (f"{HOME}/{alt}-dir", var_default, f"{alt}-dir"),
        "missing": (f"{HOME}/no-such-{alt}", var_default, None),
    }[mode]


# ---------------------------------------------------------------------------------------------
# File rendering and syntax quirks
# ---------------------------------------------------------------------------------------------

QUIRKS = (
    (3, "dup_key"),
    (2, "dup_section"),
    (2, "bom"),
    (3, "continuation"),
    (2, "blank_continuation"),
    (3, "default_section"),
    (3, "upper"),
    (3, "colon"),
    (2, "invalid_utf8"),
    (2, "preamble"),
    (3, "inline_comment"),
    (2, "comments"),
    (2, "nested"),
    (1, "nested_bad"),
    (1, "no_delimiter"),
)

DEFAULT_SECTION_BODIES = (
    ["aws_access_key_id = AKIAQ2DEFAULTSECT001", "aws_secret_access_key = d"],
    ["credential_process = " + oracle.process_command(access_key_id="ASIADEFAULTSECTION01")],
    ["region = ap-south-1"],
    [f"login_session = {ARNS[0]}"],
    ["role_arn = arn:aws:iam::123456789012:role/from-DEFAULT", "source_profile = src"],
    ["sso_account_id = 123456789012"],
)


def _header(p: Profile, file: str) -> list[str]:
    if file == "credentials":
        return [f"[profile {p.name}]" if p.credentials_header == "prefixed" else f"[{p.name}]"]
    name = p.name
    quoted = f'"{name}"' if " " in name else name
    if name == "default":
        return {
            "standard": ["[default]"],
            "prefixed": ["[profile default]"],
            "both-default": ["[default]", "[profile default]"],
        }[p.config_header]
    return {
        "standard": [f"[profile {quoted}]"],
        "bare": [f"[{name}]"],
        "quoted": [f"[profile '{name}']"],
        "spaced": [f"[profile\t {name}  ]"] if " " not in name else [f"[profile {name}]"],
    }[p.config_header]


def render_file(sections: list[tuple[str, list[str]]], quirks: list[str], draw: st.DrawFn) -> bytes:
    sections = [(h, list(lines)) for h, lines in sections]
    prefix: list[str] = []
    suffix: list[str] = []
    raw_prefix = b""
    raw_suffix = b""

    def pick_line(*, value_safe: bool = False) -> tuple[int, int] | None:
        # value_safe: the quirk changes the value; never do that to credential_process, whose
        # output awsguard cannot know without running it.
        candidates = [
            (i, j)
            for i, (_, body) in enumerate(sections)
            for j, line in enumerate(body)
            if not (value_safe and line.lstrip().lower().startswith("credential_process"))
        ]
        if not candidates:
            return None
        return draw(st.sampled_from(candidates))

    for quirk in quirks:
        if quirk == "dup_key" and (at := pick_line()):
            i, j = at
            key = sections[i][1][j].split("=", 1)[0].strip()
            sections[i][1].append(f"{key} = duplicate-value")
        elif quirk == "dup_section" and sections:
            header = draw(st.sampled_from([h for h, _ in sections]))
            sections.append((header, ["region = us-east-2"]))
        elif quirk == "bom":
            raw_prefix = b"\xef\xbb\xbf"
        elif quirk in ("continuation", "blank_continuation") and (at := pick_line(value_safe=True)):
            i, j = at
            extra = (
                ["", "    aws_secret_access_key = indented"]
                if quirk == "blank_continuation"
                else ["  aws_secret_access_key = indented"]
            )
            sections[i][1][j + 1 : j + 1] = extra
        elif quirk == "default_section":
            body = draw(st.sampled_from(DEFAULT_SECTION_BODIES))
            sections.insert(0, ("[DEFAULT]", list(body)))
        elif quirk == "upper" and (at := pick_line()):
            i, j = at
            key, _, value = sections[i][1][j].partition("=")
            sections[i][1][j] = f"{key.strip().upper()} ={value}"
        elif quirk == "colon" and (at := pick_line()):
            i, j = at
            key, _, value = sections[i][1][j].partition("=")
            sections[i][1][j] = f"{key.strip()}:{value}"
        elif quirk == "invalid_utf8":
            raw_suffix = b"# caf\xe9 \xff\n"
        elif quirk == "preamble":
            prefix.append("region = us-east-1")
        elif quirk == "inline_comment" and (at := pick_line(value_safe=True)):
            i, j = at
            sections[i][1][j] += "  # inline note"
        elif quirk == "comments":
            prefix.append("# generated by a test")
            if sections:
                sections[0][1].insert(0, "  ; indented comment")
        elif quirk == "nested" and sections:
            i = draw(st.integers(0, len(sections) - 1))
            sections[i][1].extend(["s3 =", "  addressing_style = path"])
        elif quirk == "nested_bad" and sections:
            i = draw(st.integers(0, len(sections) - 1))
            sections[i][1].extend(["s3 =", "  this line has no equals sign"])
        elif quirk == "no_delimiter" and sections:
            i = draw(st.integers(0, len(sections) - 1))
            sections[i][1].append("just-a-word")
    lines = list(prefix)
    for header, body in sections:
        lines.append(header)
        lines.extend(body)
        lines.append("")
    lines.extend(suffix)
    return raw_prefix + "\n".join(lines).encode() + raw_suffix


def _key_lines(values: dict[str, str], style: int) -> list[str]:
    sep = (" = ", "=", " =  ")[style % 3]
    return [f"{k}{sep}{v}" for k, v in values.items()]


# ---------------------------------------------------------------------------------------------
# The world strategy
# ---------------------------------------------------------------------------------------------


@st.composite
def worlds(draw: st.DrawFn, focus: str = "all") -> World:
    if focus not in FOCI:
        raise ValueError(f"focus must be one of {FOCI}")
    defined_p = 7 if focus != "profiles" else 5
    defined = tuple(n for n in NAMES if draw(st.integers(0, 9)) < defined_p)
    profiles = [draw(profile(n, focus, defined)) for n in defined]

    sso_place = draw(weighted((8, "config"), (1, "credentials"), (1, "absent")))
    sso_session = {k: SSO_VALUES[k] for k in ("sso_start_url", "sso_region") if not chance(draw, 8)}
    if chance(draw, 4):
        sso_session["sso_registration_scopes"] = "sso:account:access"

    login_states = {
        arn: draw(
            weighted(
                (10, "valid"),
                (2, "missing"),
                (1, "invalid_json"),
                (1, "missing_field"),
                (1, "missing_subfield"),
                (2, "odd_expires"),
                (1, "expired"),
                (1, "directory"),
                (1, "odd_json"),
            )
        )
        for arn in ARNS
    }
    login_docs = {arn: _login_cache_doc(state, draw) for arn, state in login_states.items()}
    login_cache_mode = draw(
        weighted(
            (14, "default"), (1, "tilde"), (1, "dollar_home"), (1, "absolute"), (1, "mismatch")
        )
    )

    quirk_rate = 2 if focus == "syntax" else 12  # one in N files gets quirks
    quirks: dict[str, list[str]] = {}
    for file in ("config", "credentials"):
        if chance(draw, quirk_rate):
            n = draw(st.integers(1, 2))
            quirks[file] = draw(st.lists(weighted(*QUIRKS), min_size=n, max_size=n))
        else:
            quirks[file] = []

    config_path_mode = draw(weighted(*PATH_MODES))
    credentials_path_mode = draw(weighted(*PATH_MODES))

    env: dict[str, str | None] = {}
    extra_files: dict[str, bytes] = {}
    env.update(draw(env_keys(focus)))
    env.update(draw(profile_env(focus, defined)))
    env.update(draw(web_identity_env(focus)))
    legacy, legacy_files = draw(legacy_env(focus))
    env.update(legacy)
    extra_files.update(legacy_files)
    container, container_files = draw(container_env(focus))
    env.update(container)
    extra_files.update(container_files)
    env.update(draw(imds_env(focus)))

    return World(
        profiles=profiles,
        sso_session=sso_session,
        sso_session_place=sso_place,
        login_states=login_states,
        login_docs=login_docs,
        login_cache_mode=login_cache_mode,
        quirks=quirks,
        config_path_mode=config_path_mode,
        credentials_path_mode=credentials_path_mode,
        env=env,
        argv=draw(argv(focus, defined)),
        extra_files=extra_files,
        dirs=[],
    )


def _login_cache_doc(state: str, draw: st.DrawFn) -> bytes | None:
    if state == "missing" or state == "directory":
        return None
    if state == "invalid_json":
        return draw(st.sampled_from([b'{"accessToken": {', b"", b"\xff\xfe{}"]))
    if state == "odd_json":
        return draw(
            st.sampled_from(
                [
                    b"null",
                    b"[]",
                    b'{"accessToken": "x", "refreshToken": "r", "dpopKey": "k", "clientId": "c"}',
                    b"42",
                ]
            )
        )
    if state == "missing_field":
        field = draw(st.sampled_from(["refreshToken", "dpopKey", "clientId", "accessToken"]))
        return json.dumps(oracle.login_token(drop=[field])).encode()
    if state == "missing_subfield":
        field = draw(
            st.sampled_from(
                ["accessKeyId", "secretAccessKey", "sessionToken", "accountId", "expiresAt"]
            )
        )
        return json.dumps(oracle.login_token(drop_access=[field])).encode()
    if state == "odd_expires":
        return json.dumps(oracle.login_token(expires_at=draw(timestamp()))).encode()
    if state == "expired":
        return json.dumps(oracle.login_token(expires_at="2001-02-03T04:05:06Z")).encode()
    return json.dumps(oracle.login_token()).encode()


@st.composite
def scenarios(draw: st.DrawFn, focus: str = "all") -> Scenario:
    """A complete scenario (see module docstring)."""
    w = draw(worlds(focus))
    files: dict[str, bytes] = dict(w.extra_files)
    dirs: list[str] = list(w.dirs)
    env = dict(w.env)

    # Config and credentials files.
    config_sections: list[tuple[str, list[str]]] = []
    credentials_sections: list[tuple[str, list[str]]] = []
    style = draw(st.integers(0, 2))
    for p in w.profiles:
        if p.config or p.config_header == "both-default" or chance(draw, 3):
            headers = _header(p, "config")
            body = _key_lines(p.config, style)
            if len(headers) == 2:
                decoy = [
                    "region = eu-west-3",
                    "credential_process = "
                    + oracle.process_command(access_key_id="ASIADECOYSECTION0001"),
                ]
                pair = [(headers[0], decoy), (headers[1], body)]
                if not p.decoy_first:
                    pair = [(headers[0], body), (headers[1], decoy)]
                config_sections.extend(pair)
            else:
                config_sections.append((headers[0], body))
        if p.credentials:
            credentials_sections.append(
                (_header(p, "credentials")[0], _key_lines(p.credentials, style))
            )
    if w.sso_session_place != "absent":
        section = ("[sso-session s1]", _key_lines(w.sso_session or {}, style))
        (config_sections if w.sso_session_place == "config" else credentials_sections).append(
            section
        )
    # Section order is part of the semantics ([default] vs [profile default], duplicates).
    config_sections = draw(st.permutations(config_sections)) if chance(draw, 4) else config_sections

    config_bytes = (
        render_file(config_sections, w.quirks["config"], draw)
        if (config_sections or w.quirks["config"])
        else None
    )
    credentials_bytes = (
        render_file(credentials_sections, w.quirks["credentials"], draw)
        if (credentials_sections or w.quirks["credentials"])
        else None
    )
    config_mode = "default" if w.config_path_mode == "same_as_config" else w.config_path_mode
    value, config_relpath, directory = path_for(config_mode, ".aws/config", "alt-config")
    if value is not None:
        env["AWS_CONFIG_FILE"] = value
    if directory:
        dirs.append(directory)
    if config_bytes is not None:
        files[config_relpath] = config_bytes
    if w.credentials_path_mode == "same_as_config":
        # One file read as both: its [profile x] sections become profiles named "profile x".
        env["AWS_SHARED_CREDENTIALS_FILE"] = f"{HOME}/{config_relpath}"
    else:
        value, relpath, directory = path_for(
            w.credentials_path_mode, ".aws/credentials", "alt-credentials"
        )
        if value is not None:
            env["AWS_SHARED_CREDENTIALS_FILE"] = value
        if directory:
            dirs.append(directory)
        if credentials_bytes is not None:
            files[relpath] = credentials_bytes

    # Login caches, keyed by sha256 of the ARN.
    cache_value, cache_rel = {
        "default": (None, ".aws/login/cache"),
        "tilde": ("~/login-cache", "login-cache"),
        "dollar_home": ("$HOME/login-cache", "login-cache"),
        "absolute": (f"{HOME}/login-cache", "login-cache"),
        "mismatch": ("~/login-cache", ".aws/login/cache"),
    }[w.login_cache_mode]
    if cache_value is not None:
        env["AWS_LOGIN_CACHE_DIRECTORY"] = cache_value
    for arn, state in w.login_states.items():
        relpath = oracle.login_cache_relpath(arn, cache_rel)
        doc = w.login_docs[arn]
        if doc is not None:
            files[relpath] = doc
        elif state == "directory":
            dirs.append(relpath)

    # Token files that deferred providers would read at first use (present or not, the
    # resolution must not depend on them).
    if draw(st.booleans()):
        files["wi-token"] = b"eyJhbGciOi.web-identity.token"
    if draw(st.booleans()):
        files[oracle.sso_cache_relpath("s1")] = json.dumps(
            {
                "accessToken": "sso-token",
                "expiresAt": oracle.future_iso(),
                "region": "us-east-1",
                "startUrl": SSO_VALUES["sso_start_url"],
            }
        ).encode()

    return oracle.scenario(files=files, dirs=dirs, env=env, argv=w.argv)
