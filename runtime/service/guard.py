"""What only operators' tools may read over HTTP: a service's aggregates (`/state`, personal data)
and its metrics. With AFTERSALE_ADMIN_TOKEN set, the caller must send it as a bearer token; unset
(local runs, bound to 127.0.0.1), they are open."""
from __future__ import annotations

import hmac
from typing import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Endpoint = Callable[[Request], Awaitable[Response]]
REFUSED = {"error": "unauthorized: send the header Authorization: Bearer <AFTERSALE_ADMIN_TOKEN>"}


def behind_token(token: str, endpoint: Endpoint) -> Endpoint:
    if not token:
        return endpoint
    expected = f"Bearer {token}".encode()

    async def guarded(request: Request) -> Response:
        sent = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(sent, expected):
            return JSONResponse(REFUSED, 401, headers={"www-authenticate": "Bearer"})
        return await endpoint(request)

    return guarded
