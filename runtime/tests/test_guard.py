"""/state and /metrics behind AFTERSALE_ADMIN_TOKEN: refused without it, answered with it."""
from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from runtime.service.guard import behind_token


async def _secret(request: Request) -> Response:
    return PlainTextResponse("aggregate")


def _status(token: str, headers: dict[str, str] | None = None) -> int:
    app = Starlette(routes=[Route("/state", behind_token(token, _secret))])
    return TestClient(app).get("/state", headers=headers or {}).status_code


def test_with_a_token_only_its_bearer_is_answered() -> None:
    assert _status("s3cret-token") == 401
    assert _status("s3cret-token", {"authorization": "Bearer wrong"}) == 401
    assert _status("s3cret-token", {"authorization": "s3cret-token"}) == 401
    assert _status("s3cret-token", {"authorization": "Bearer s3cret-token"}) == 200


def test_without_a_token_the_route_is_open() -> None:
    assert _status("") == 200
