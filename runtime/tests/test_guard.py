"""/state and /metrics behind AFTERSALE_ADMIN_TOKEN: refused without it, answered with it."""
from __future__ import annotations

import asyncio

from faststream.asgi import AsgiResponse

from runtime.service.guard import behind_token


async def _secret(scope) -> AsgiResponse:
    return AsgiResponse(b"aggregate", 200)


def _status(handler, headers=()) -> int:
    return asyncio.run(handler({"type": "http", "headers": list(headers)})).status_code


def test_with_a_token_only_its_bearer_is_answered() -> None:
    guarded = behind_token("s3cret-token", _secret)
    assert _status(guarded) == 401
    assert _status(guarded, [(b"authorization", b"Bearer wrong")]) == 401
    assert _status(guarded, [(b"authorization", b"s3cret-token")]) == 401
    assert _status(guarded, [(b"authorization", b"Bearer s3cret-token")]) == 200


def test_without_a_token_the_route_is_open() -> None:
    assert _status(behind_token("", _secret)) == 200
