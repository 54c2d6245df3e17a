"""The `aws login` cache, as the tests write it: one place for where the file goes and what it
holds (docs/credential-chain.md §5.2).  Import-light (hashlib, json) for the shim and prompt
tests.

The CLI keeps a session in ``<cache dir>/<sha256 of the login_session ARN>.json``
(``AWS_LOGIN_CACHE_DIRECTORY``, default ``~/.aws/login/cache``; botocore/utils.py
``generate_login_cache_key``).  Nothing here is ever refreshed: the refresh fields are
placeholders, and the dpop key is only parsed when a test asks for a real one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

DEFAULT_DIR = ".aws/login/cache"
PLACEHOLDER_DPOP_KEY = "-----BEGIN EC PRIVATE KEY-----\nnot-a-key\n-----END EC PRIVATE KEY-----\n"


def relpath(login_session: str, cache_dir: str = DEFAULT_DIR) -> str:
    """``<cache dir>/<sha256(login_session)>.json``."""
    return f"{cache_dir}/{hashlib.sha256(login_session.encode('utf-8')).hexdigest()}.json"


def path(home: Path, login_session: str) -> Path:
    """The cache file of ``login_session`` under ``home``'s default cache directory."""
    return home / relpath(login_session)


def document(
    account_id: str = "999999999999",
    *,
    access_key_id: str = "ASIAQ2LOGINSESSION01",
    secret_access_key: str = "login-secret",
    session_token: str = "login-session-token",
    expires_at: str = "2099-01-01T00:00:00Z",
    refresh_token: str = "login-refresh-token",
    dpop_key: str = PLACEHOLDER_DPOP_KEY,
    drop: Sequence[str] = (),
    drop_access: Sequence[str] = (),
) -> dict[str, object]:
    """A cache document shaped like the one `aws login` writes.  ``drop`` removes top-level
    fields, ``drop_access`` fields of ``accessToken`` (for the malformed-cache cases)."""
    access = {
        "accessKeyId": access_key_id,
        "secretAccessKey": secret_access_key,
        "sessionToken": session_token,
        "accountId": account_id,
        "expiresAt": expires_at,
    }
    for k in drop_access:
        access.pop(k, None)
    doc: dict[str, object] = {
        "accessToken": access,
        "tokenType": "aws_sigv4",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "refreshToken": refresh_token,
        "idToken": "header.payload.signature",
        "dpopKey": dpop_key,
    }
    for k in drop:
        doc.pop(k, None)
    return doc


def write(home: Path, login_session: str, doc: dict[str, object]) -> Path:
    """Write ``doc`` where the CLI looks for ``login_session``'s cache; returns the path."""
    target = path(home, login_session)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(doc))
    return target
