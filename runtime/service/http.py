"""A service's HTTP side, in Starlette like the workbench: health, metrics, its AsyncAPI contract,
interactive queries (`/state`), the routes its bootstrap adds, and the service's start and
graceful stop with the server's lifespan."""
from __future__ import annotations

import json
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Mapping, Protocol

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from runtime.api.domain import Domain
from runtime.service.guard import behind_token
from runtime.service.settings import ServiceSettings
from runtime.stream.queries import aggregate_answer
from runtime.stream.task import Task

log = structlog.get_logger("app")
CONTRACTS = Path(__file__).resolve().parents[2] / "contracts" / "asyncapi"


class Unicode(JSONResponse):
    media_type = "application/json; charset=utf-8"

    def render(self, content: object) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=str).encode()


class Served(Protocol):
    """What the HTTP side needs of a service (runtime.service.app.Service)."""

    settings: ServiceSettings
    domain: Domain

    @property
    def active(self) -> Mapping[int, Task]: ...

    def health(self) -> dict[str, Any]: ...

    async def start(self) -> None: ...

    async def shutdown(self) -> None: ...


def http_app(svc: Served, routes: list[BaseRoute]) -> Starlette:
    token = svc.settings.admin_token

    async def health(request: Request) -> Response:
        body = svc.health()
        return JSONResponse(body, 200 if body["ready"] else 503)

    async def prometheus(request: Request) -> Response:
        svc.health()  # sets aftersale_stuck_seconds, so that a scrape alone keeps it current
        return Response(generate_latest(), 200, media_type=CONTENT_TYPE_LATEST)

    async def contract(request: Request) -> Response:
        """The service's AsyncAPI document as exported from contracts/ (every message it reads and sends)."""
        return Response((CONTRACTS / f"{svc.domain.service}.json").read_bytes(), media_type="application/json")

    async def state(request: Request) -> Response:
        """GET /state?key=K: the aggregate this process holds for K (an interactive query)."""
        status, body = aggregate_answer(svc.domain, svc.active, request.query_params.get("key", ""))
        return Unicode(body, status)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await svc.start()
        except Exception as exc:  # said once, clearly, and the process exits
            log.critical("service_start_failed", error=repr(exc), exc_info=True)
            raise
        yield
        await svc.shutdown()

    return Starlette(routes=[
        Route("/health", health), Route("/metrics", behind_token(token, prometheus)),
        Route("/asyncapi.json", contract), Route("/state", behind_token(token, state)), *routes,
    ], lifespan=lifespan)
