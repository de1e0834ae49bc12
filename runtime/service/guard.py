"""What only operators' tools may read over HTTP: a service's aggregates (`/state`, personal data)
and its metrics. With AFTERSALE_ADMIN_TOKEN set, the caller must send it as a bearer token; unset
(local runs, bound to 127.0.0.1), they are open."""
from __future__ import annotations

import hmac
from typing import Any, Awaitable, Callable

from faststream.asgi import AsgiResponse

Handler = Callable[[Any], Awaitable[AsgiResponse]]
REFUSED = b'{"error": "unauthorized: send the header Authorization: Bearer <AFTERSALE_ADMIN_TOKEN>"}'


def behind_token(token: str, handler: Handler) -> Handler:
    if not token:
        return handler
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Any) -> AsgiResponse:
        sent = dict(scope.get("headers") or []).get(b"authorization", b"")
        if not hmac.compare_digest(sent, expected):
            return AsgiResponse(REFUSED, 401, headers={"content-type": "application/json",
                                                       "www-authenticate": "Bearer"})
        return await handler(scope)

    return guarded
