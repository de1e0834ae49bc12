"""Who is asking: the session's arbitrator (or the SSO header's, behind a proxy), and a CSRF
token per session that every form carries and every POST must match."""
from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.requests import Request

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, form: Any) -> bool:
    expected = request.session.get("csrf")
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return bool(expected) and hmac.compare_digest(str(sent), str(expected))


# What the trusted proxy adds beside the SSO header: the secret it shares with the workbench.
PROXY_SECRET_HEADER = "x-workbench-proxy-secret"


def user_id(request: Request, sso_header: str, sso_secret: str = "") -> str | None:
    """The session's arbitrator, or behind the SSO proxy the header's, and only when the request
    carries the proxy's secret: anyone reaching the port past the proxy could write the header."""
    if sso_header:
        sent = request.headers.get(PROXY_SECRET_HEADER, "")
        if not sso_secret or not hmac.compare_digest(sent.encode(), sso_secret.encode()):
            return None
        return request.headers.get(sso_header) or None
    return request.session.get("user")
