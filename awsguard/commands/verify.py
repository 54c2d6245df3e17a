"""``awsguard verify``: ask STS who ``aws`` really runs as, and hold that against the prediction.

One ``sts get-caller-identity`` call, signed with exactly the credentials the real CLI would use
for the same invocation: the same profile selection (``--profile``, else ``AWS_PROFILE`` /
``AWS_DEFAULT_PROFILE`` in the order of the CLI major that was found), the same files and
environment, the same ``--region`` and ``--endpoint-url``.  The credentials come from botocore,
the CLI's own credential code (its PyPI release resolves the chain as the CLI does,
docs/ARCHITECTURE.md §6), imported here and nowhere else in awsguard.

Three answers are put side by side: the prediction (source, account, principal), the session
the profile is logged in as, and STS.  The verdict is

* ``as-predicted``      STS agrees with the prediction and with the logged-in session (exit 0);
* ``wrong-identity``    STS agrees with the prediction, but not with the session the profile is
                        logged in as, or not with ``expect_account`` (exit 1);
* ``prediction-wrong``  STS (or the credential source botocore picked) disagrees with awsguard's
                        own prediction: an awsguard bug, reported with what to send (exit 3);
* ``cannot-verify``     no answer: the CLI fails for this invocation, STS refused the
                        credentials, the network is down, time ran out (exit 2, with the class
                        of the error the CLI itself would show).

The network is used only here and only when asked.  Every wait is bounded: connect and read
timeouts on every client the session creates (the STS call and the credential providers' own
calls), at most two attempts, and an overall deadline per profile.  Nothing secret is printed:
key ids are masked, and any text that comes back from a service is scrubbed of the credentials
before it is shown.

Test hook: ``AWSGUARD_TEST_PREDICTION_ACCOUNT=<12 digits>`` replaces the predicted account, to
make the prediction deliberately wrong (tests check that this gives ``prediction-wrong``).  It
is read here only and changes nothing else.
"""

from __future__ import annotations

import os
import sys
import threading

from awsguard import errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, TextIO

    from awsguard.host.realcli import CliInfo
    from awsguard.judge.policy import Finding
    from awsguard.judge.settings import Settings
    from awsguard.predict.resolver import Resolution

# Verdicts and their exit codes.
AS_PREDICTED = "as-predicted"
WRONG_IDENTITY = "wrong-identity"
PREDICTION_WRONG = "prediction-wrong"
CANNOT_VERIFY = "cannot-verify"
EXIT = {AS_PREDICTED: 0, WRONG_IDENTITY: 1, CANNOT_VERIFY: 2, PREDICTION_WRONG: 3}
# For --all: the exit code of the worst result.
_WORST = (PREDICTION_WRONG, WRONG_IDENTITY, CANNOT_VERIFY, AS_PREDICTED)

TEST_HOOK = "AWSGUARD_TEST_PREDICTION_ACCOUNT"

# Bounds on the network (seconds, attempts).
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 10
MAX_ATTEMPTS = 2
DEADLINE = 60.0  # one profile, credentials and STS call together
POOL = 4  # --all: profiles verified at once

# The exceptions botocore raises while *resolving* credentials from the files and environment:
# awsguard predicts exactly these (docs/ARCHITECTURE.md §5.1 error vocabulary), so a mismatch is its bug.
# Anything else (a refused token, the network) is a runtime failure it cannot predict.
PREDICTABLE = frozenset(
    {
        "ProfileNotFound",
        "PartialCredentialsError",
        "InvalidConfigError",
        "ConfigParseError",
        "InfiniteLoopConfigError",
        "LoginTokenLoadError",
        "NoCredentialsError",
        "ConfigNotFound",
        "UnknownCredentialError",
        "KeyError",
        "TypeError",
        "ParserError",
        "ValueError",
        "FileNotFoundError",
    }
)

# botocore's profile variables in the order of CLI v2 (v1 and PyPI botocore read
# AWS_DEFAULT_PROFILE first; the v2 CLI swapped them: docs/credential-chain.md §12).
_V2_SESSION_VARS = {"profile": (None, ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"], None, None)}


class Answer:
    """What STS said, or why nothing could be asked."""

    __slots__ = (
        "account",
        "arn",
        "botocore",
        "error_class",
        "error_code",
        "key_id",
        "message",
        "method",
        "phase",
        "user_id",
    )

    def __init__(self) -> None:
        self.method: str | None = None  # botocore's credentials.method: the provider used
        self.botocore: str | None = None  # its version (for a bug report)
        self.key_id: str | None = None  # the access key id used (shown masked only)
        self.account: str | None = None
        self.arn: str | None = None
        self.user_id: str | None = None
        self.error_class: str | None = None  # the botocore exception class the CLI would show
        self.error_code: str | None = None  # a service's error code (ClientError)
        self.message: str | None = None  # short, scrubbed of every secret
        # Where it stopped: "credentials" (resolving the chain), "fetch" (fetching or refreshing
        # what the chain chose: an AssumeRole, a login refresh) or "call" (the STS request).
        self.phase = "credentials"


class Outcome:
    """One verification: the prediction, STS's answer, the verdict and why."""

    def __init__(self, res: Resolution, findings: list[Finding], verdict: str) -> None:
        self.res = res
        self.findings = findings
        self.policy_verdict = verdict
        self.predicted_account: str | None = res.identity.account
        self.answer: Answer | None = None
        self.verdict = CANNOT_VERIFY
        self.reasons: list[str] = []
        self.endpoint: str | None = None
        self.region: str | None = None

    @property
    def exit_code(self) -> int:
        return EXIT[self.verdict]


# -- the network half: botocore, imported only here ---------------------------------------------


def _scrub(text: str, secrets: Sequence[str | None]) -> str:
    """``text`` without any of ``secrets`` (a service's error text may quote a request)."""
    from awsguard.predict.identity import mask_key_id

    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, mask_key_id(secret) if secret.isalnum() else "****")
    return text


def _short(text: str, secrets: Sequence[str | None]) -> str:
    from awsguard.words import clean

    first = text.strip().splitlines()[0] if text.strip() else ""
    return clean(_scrub(first, secrets), 240)


def ask_sts(
    res: Resolution,
    *,
    endpoint: str | None,
    region: str | None,
    interactive: bool,
    loader: Any = None,
) -> Answer:
    """Resolve the credentials as the CLI would for ``res`` and call GetCallerIdentity.

    botocore reads the process environment, which is the environment ``res`` was predicted for
    (the command runs with ``os.environ``).  Never raises for anything botocore does.
    """
    import botocore.config
    import botocore.exceptions
    import botocore.session

    answer = Answer()
    answer.botocore = str(getattr(botocore, "__version__", "?"))
    secrets: list[str | None] = []
    try:
        session = botocore.session.Session(
            session_vars=_V2_SESSION_VARS if res.major == 2 else None
        )
        if loader is not None:
            session.register_component("data_loader", loader)
        # awscli/clidriver.py _handle_top_level_args: --profile (which also takes the
        # environment's keys out of the chain) and --region become session variables.
        if res.profile_from == "--profile":
            session.set_config_variable("profile", res.profile)
        if res.args.region:
            session.set_config_variable("region", res.args.region)
        # Every client the session makes - the STS call, and AssumeRole/SSO/login refreshes
        # inside the credential providers - gets bounded timeouts and attempts.
        session.set_default_client_config(
            botocore.config.Config(
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            )
        )
        _inject_cli_cache(session, res)
        if not interactive:
            _refuse_prompts(session)
        credentials = session.get_credentials()
        if credentials is None:
            raise botocore.exceptions.NoCredentialsError()
        answer.method = credentials.method
        answer.phase = "fetch"  # deferred credentials are fetched or refreshed here
        frozen = credentials.get_frozen_credentials()
        secrets = [frozen.secret_key, frozen.token, frozen.access_key]
        answer.key_id = frozen.access_key
        answer.phase = "call"
        client = session.create_client("sts", region_name=region, endpoint_url=endpoint)
        reply = client.get_caller_identity()
        answer.account = reply.get("Account")
        answer.arn = reply.get("Arn")
        answer.user_id = reply.get("UserId")
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
        answer.error_class = "ClientError"
        answer.error_code = str(error.get("Code") or "Unknown")
        answer.message = _short(str(error.get("Message") or ""), secrets)
    except Exception as exc:  # the class name is the answer (the CLI shows the same)
        answer.error_class = type(exc).__name__
        if answer.error_class in _OPAQUE:
            answer.message = _OPAQUE[answer.error_class]
        else:
            answer.message = _short(str(exc), secrets)
    return answer


# Errors whose text is another program's output (credential_process writes what it likes to
# stderr, and botocore quotes it): never shown, it may hold a secret.
_OPAQUE = {
    "CredentialRetrievalError": "the credential source failed (its own output is not shown: it "
    "may hold secrets; run it by hand to see it)",
}


def _inject_cli_cache(session: Any, res: Resolution) -> None:
    """awscli/customizations/assumerole.py: the CLI keeps assumed-role credentials in
    ~/.aws/cli/cache, so a cached role is used as the CLI would use it."""
    from awsguard.predict.paths import cli_cache_dir

    try:
        from botocore.credentials import JSONFileCache

        chain = session.get_component("credential_provider")
        cache = JSONFileCache(cli_cache_dir(os.environ))
        for name in ("assume-role", "assume-role-with-web-identity"):
            provider = chain.get_provider(name)
            if provider is not None:
                provider.cache = cache
    except Exception:  # ProfileNotFound and friends: get_credentials reports them
        pass


def _refuse_prompts(session: Any) -> None:
    """--all verifies in parallel, without a terminal: an MFA code cannot be asked for."""

    def refuse(prompt: str = "") -> str:
        raise RuntimeError("an MFA code is needed: verify this profile alone")

    try:
        provider = session.get_component("credential_provider").get_provider("assume-role")
        if provider is not None and hasattr(provider, "_prompter"):
            provider._prompter = refuse
    except Exception:
        pass


def _with_deadline(fn: Callable[[], Answer], seconds: float) -> Answer:
    """``fn()`` in a daemon thread; a timeout answer if it has not finished by then (a
    credential_process that hangs must not hang verify)."""
    box: list[Answer] = []
    worker = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    worker.start()
    worker.join(seconds)
    if box:
        return box[0]
    answer = Answer()
    answer.phase = "call"
    answer.error_class = "Timeout"
    answer.message = f"no answer within {seconds:g} s"
    return answer


# -- judging ------------------------------------------------------------------------------------


def _same_principal(predicted: str, arn: str) -> bool | None:
    """Whether STS's ARN is the predicted principal; None when they cannot be compared."""
    from awsguard.predict.identity import principal_from_arn

    want, got = principal_from_arn(predicted), principal_from_arn(arn)
    if want is None or got is None or want.kind == "other":
        return None
    if want.account and got.account and want.account != got.account:
        return False
    if want.kind == "role":  # a role is seen by STS as the session that assumed it
        return got.kind == "assumed-role" and got.name == want.name
    if want.kind == "assumed-role":
        return got.kind == "assumed-role" and got.name == want.name
    return got.kind == want.kind and got.name == want.name


def decide(outcome: Outcome, settings: Settings | None) -> None:
    """Set ``outcome.verdict`` and ``outcome.reasons`` from the prediction and the answer."""
    from awsguard import words

    res, answer = outcome.res, outcome.answer
    assert answer is not None
    predicted_error = res.error.code if res.error is not None else None
    reasons = outcome.reasons
    if answer.error_class is not None and answer.phase == "credentials":
        actual = answer.error_class
        if predicted_error is not None and predicted_error == actual:
            outcome.verdict = CANNOT_VERIFY
            reasons.append(
                f"the CLI fails here before calling STS: {actual}, as awsguard predicted"
            )
            return
        if actual == "MissingDependencyException" and res.crt is not False:
            outcome.verdict = CANNOT_VERIFY
            reasons.append(
                "awsguard's own botocore cannot load an aws login session (awscrt is missing "
                "from awsguard's environment): pip install awscrt there"
            )
            return
        if predicted_error is not None or actual in PREDICTABLE:
            outcome.verdict = PREDICTION_WRONG
            said = f"fails with {predicted_error}" if predicted_error else f"uses {res.source}"
            reasons.append(f"awsguard predicted the CLI {said}, but botocore raises {actual}")
            return
        outcome.verdict = CANNOT_VERIFY
        reasons.append(f"the credentials could not be loaded: {actual}")
        return
    if predicted_error is not None:
        outcome.verdict = PREDICTION_WRONG
        reasons.append(
            f"awsguard predicted the CLI fails with {predicted_error}, but botocore found "
            f"credentials ({answer.method})"
        )
        return
    wrong_source = answer.method is not None and answer.method != res.source
    if wrong_source:
        reasons.append(
            f"awsguard predicted the credentials of {res.source}, but botocore used {answer.method}"
        )
    if answer.error_class is not None:
        if wrong_source:
            outcome.verdict = PREDICTION_WRONG
            return
        outcome.verdict = CANNOT_VERIFY
        what = answer.error_code or answer.error_class
        if answer.phase == "fetch":
            reasons.append(f"the {answer.method} credentials could not be fetched: {what}")
        else:
            reasons.append(f"STS did not answer: {what}")
        return
    predicted = outcome.predicted_account
    if predicted is not None and answer.account != predicted:
        reasons.append(f"awsguard predicted account {predicted}, STS says {answer.account}")
    principal = res.identity.principal
    if principal and answer.arn and _same_principal(principal, answer.arn) is False:
        reasons.append(f"awsguard predicted principal {principal}, STS says {answer.arn}")
    if reasons:
        outcome.verdict = PREDICTION_WRONG
        return
    session = res.session
    if (
        session is not None
        and session.account
        and res.source != words.ASSUME_ROLE  # a role lives in its own account
        and answer.account != session.account
    ):
        kind = "aws login" if session.kind == "login" else "SSO"
        reasons.append(
            f"STS says account {answer.account}, but profile '{res.chain_profile}' is logged in "
            f"({kind}) as {session.principal or '?'} in account {session.account}"
        )
    if settings is not None:
        expect = settings.profile(res.chain_profile).expect_account
        if expect is not None and answer.account != expect:
            reasons.append(
                f"STS says account {answer.account}, but the policy expects {expect} for "
                f"profile '{res.chain_profile}'"
            )
    outcome.verdict = WRONG_IDENTITY if reasons else AS_PREDICTED


# -- running ------------------------------------------------------------------------------------


def _endpoint(res: Resolution, own: str | None) -> str | None:
    """``--endpoint-url`` of the aws command applies to its own service: it is STS's only when
    the command is ``sts`` (or none is given); verify's own option always is."""
    if own:
        return own
    if res.args.endpoint_url and res.args.command in (None, "sts"):
        return res.args.endpoint_url
    return None


def verify_one(
    res: Resolution,
    environ: Mapping[str, str],
    settings: Settings | None,
    *,
    endpoint: str | None,
    region: str | None,
    interactive: bool,
    loader: Any = None,
) -> Outcome:
    from awsguard.judge import policy

    findings, verdict = policy.judge(res, environ, settings=settings)
    outcome = Outcome(res, findings, verdict)
    hook = environ.get(TEST_HOOK)
    if hook:
        outcome.predicted_account = hook
    outcome.endpoint = _endpoint(res, endpoint)
    outcome.region = region or res.args.region
    if res.args.usage_error or (res.error is not None and res.error.code == "UsageError"):
        outcome.answer = Answer()
        outcome.answer.phase = "credentials"
        outcome.answer.error_class = "UsageError"
        outcome.reasons.append("the CLI rejects this command line before any call")
        return outcome
    if res.args.no_sign_request:
        outcome.answer = Answer()
        outcome.answer.phase = "credentials"
        outcome.reasons.append("--no-sign-request: the CLI uses no credentials at all")
        return outcome

    def ask() -> Answer:
        return ask_sts(
            res,
            endpoint=outcome.endpoint,
            region=outcome.region,
            interactive=interactive,
            loader=loader,
        )

    outcome.answer = _with_deadline(ask, DEADLINE)
    decide(outcome, settings)
    return outcome


def _prepare_botocore(crt: bool | None) -> None:
    """A v1 CLI without awscrt cannot load login sessions; botocore is made to see the same
    (it reads BOTO_DISABLE_CRT once, at import)."""
    if crt is False and "botocore" not in sys.modules:
        os.environ["BOTO_DISABLE_CRT"] = "true"


def run(
    aws_args: list[str],
    *,
    profile: str | None = None,
    all_profiles: bool = False,
    as_json: bool = False,
    endpoint: str | None = None,
    region: str | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    from awsguard.commands.explain import discover_cli
    from awsguard.commands.status import load_settings
    from awsguard.host.dirs import default_cache_dir
    from awsguard.predict import argv as argv_mod
    from awsguard.predict.resolver import resolve
    from awsguard.present import verifyreport

    environ = os.environ if environ is None else environ
    out = out or sys.stdout
    err = err or sys.stderr
    hook = environ.get(TEST_HOOK)
    if hook and not (len(hook) == 12 and hook.isascii() and hook.isdigit()):
        raise errors.AwsGuardError(
            f"{TEST_HOOK} must be a 12-digit account id", f"unset {TEST_HOOK}", code=errors.USAGE
        )
    cli, major, crt = discover_cli(environ)
    cache_dir = default_cache_dir(environ)
    settings = load_settings(environ, cache_dir)
    _prepare_botocore(crt)
    color = _color(environ, out)
    if all_profiles:
        if profile or aws_args:
            raise errors.AwsGuardError(
                "--all verifies every profile: it takes no --profile and no aws arguments",
                "awsguard verify --all   or   awsguard verify --profile NAME",
                code=errors.USAGE,
            )
        return _run_all(
            environ,
            cli=cli,
            major=major,
            crt=crt,
            settings=settings,
            cache_dir=cache_dir,
            endpoint=endpoint,
            region=region,
            as_json=as_json,
            out=out,
            err=err,
            color=color,
        )
    argv = list(aws_args)
    if profile is not None:
        if argv_mod.parse(argv, major or 2).profile is not None:
            raise errors.AwsGuardError(
                "the profile is given twice (--profile of verify and of the aws arguments)",
                "give it once",
                code=errors.USAGE,
            )
        argv = [f"--profile={profile}", *argv]
    res = resolve(argv, environ, major=major, crt=crt, cache_dir=cache_dir)
    outcome = verify_one(res, environ, settings, endpoint=endpoint, region=region, interactive=True)
    if as_json:
        from awsguard.present import report

        out.write(report.dumps(verifyreport.to_json(outcome, cli), indent=2) + "\n")
    else:
        out.write(verifyreport.to_text(outcome, cli, environ, argv, color=color))
    return outcome.exit_code


def _color(environ: Mapping[str, str], out: TextIO) -> bool:
    from awsguard.present.report import colour_wanted

    return colour_wanted(environ, out)


def has_credentials_to_check(res: Resolution) -> bool:
    """``--all`` covers profiles with static keys or an ``aws login`` session."""
    if res.files is None or (res.error is not None and res.error.code == "ProfileNotFound"):
        return False
    try:
        merged = res.files.merged(res.chain_profile)
    except Exception:
        return False
    return "aws_access_key_id" in merged or "login_session" in merged


def _run_all(
    environ: Mapping[str, str],
    *,
    cli: CliInfo | None,
    major: int | None,
    crt: bool | None,
    settings: Settings | None,
    cache_dir: str | None,
    endpoint: str | None,
    region: str | None,
    as_json: bool,
    out: TextIO,
    err: TextIO,
    color: bool,
) -> int:
    import queue

    from awsguard.commands.status import gather
    from awsguard.present import verifyreport

    table = gather(environ, cli=cli, major=major, crt=crt, settings=settings, cache_dir=cache_dir)
    chosen = [row.res for row in table.rows if has_credentials_to_check(row.res)]
    outcomes: list[Outcome | None] = [None] * len(chosen)
    loader = _shared_loader() if chosen else None
    work: queue.Queue[int] = queue.Queue()
    for i in range(len(chosen)):
        work.put(i)
    done = threading.Semaphore(0)

    def worker() -> None:
        while True:
            try:
                i = work.get_nowait()
            except queue.Empty:
                return
            try:
                outcomes[i] = verify_one(
                    chosen[i],
                    environ,
                    settings,
                    endpoint=endpoint,
                    region=region,
                    interactive=False,
                    loader=loader,
                )
            finally:
                done.release()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(POOL, len(chosen)))]
    for thread in threads:
        thread.start()
    progress = verifyreport.Progress(err, len(chosen))
    for finished in range(1, len(chosen) + 1):
        done.acquire()
        progress.show(finished)
    progress.close()
    results = [o for o in outcomes if o is not None]
    if as_json:
        from awsguard.present import report

        out.write(report.dumps([verifyreport.to_json(o, cli) for o in results], indent=2) + "\n")
    else:
        out.write(verifyreport.all_to_text(results, len(table.rows), environ, color=color))
    for verdict in _WORST:
        if any(o.verdict == verdict for o in results):
            return EXIT[verdict]
    return errors.OK


def _shared_loader() -> Any:
    """One botocore data loader for every session of --all (the models are read once)."""
    import botocore.session

    try:
        return botocore.session.Session().get_component("data_loader")
    except Exception:
        return None
