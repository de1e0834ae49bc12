"""Wiring: settings, the query model, accounts and the decisions channel into one web app."""
from __future__ import annotations

import os
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from runtime.service.logging import configure as configure_logging
from runtime.views.db import connect
from services.arbitration.workbench.accounts import Accounts
from services.arbitration.workbench.decisions import Decisions
from services.arbitration.workbench.pages import Pages
from services.arbitration.workbench.reads import QueryModel
from services.arbitration.workbench.settings import WorkbenchSettings

HERE = Path(__file__).resolve().parent
log = structlog.get_logger("workbench")

# Pages only load what they serve; images of evidence come from the evidence store (http/https).
CSP = ("default-src 'self'; img-src 'self' http: https:; script-src 'self'; style-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


class SecurityHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] += [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
                                       (b"referrer-policy", b"no-referrer"), (b"x-content-type-options", b"nosniff"),
                                       (b"cache-control", b"no-store")]
            await send(message)
        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def build_app(settings: WorkbenchSettings, *, reads: Any = None, accounts: Any = None,
              decisions: Any = None) -> Starlette:
    """The app on the real query model, accounts and Kafka, or on the fakes a test passes."""
    if settings.sso_header and not settings.sso_secret:
        raise ValueError("AFTERSALE_WORKBENCH_SSO_HEADER is set without AFTERSALE_WORKBENCH_SSO_SECRET: the header "
                         "would be trusted from anyone who reaches the port; set the secret the proxy sends")
    client = connect(settings.mongo_url, settings.mongo_username, settings.mongo_password)
    reads = reads or QueryModel(client[settings.db_name("arbitration")], client[settings.db_name("seller")])
    accounts = accounts or Accounts(client[settings.db_name("workbench")])
    decisions = decisions or Decisions(settings.kafka_bootstrap)
    pages = Pages(settings, reads, accounts, decisions, Jinja2Templates(directory=str(HERE / "templates")))
    state = {"ready": False}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await decisions.start()
        state["ready"] = True
        log.info("workbench_started", port=settings.http_port, sso_header=settings.sso_header or None)
        try:
            yield
        finally:
            await decisions.stop()
            await client.close()

    async def health(request: Request) -> Response:
        return JSONResponse({"service": "workbench", "ready": state["ready"], "pid": os.getpid()},
                            status_code=200 if state["ready"] else 503)

    async def home(request: Request) -> Response:
        return RedirectResponse("/queue", status_code=303)

    s = pages.staff
    routes = [
        Route("/", home), Route("/health", health),
        Route("/login", pages.login_page, methods=["GET"]), Route("/login", pages.login, methods=["POST"]),
        Route("/logout", s(pages.logout, post=True), methods=["POST"]),
        Route("/lang/{lang}", pages.language),
        Route("/queue", s(pages.queue)),
        Route("/cases/new", s(pages.open_case_page), methods=["GET"]),
        Route("/cases/new", s(pages.open_case, post=True), methods=["POST"]),
        Route("/cases/{case_id}", s(pages.case)),
        Route("/cases/{case_id}/claim", s(pages.claim, post=True), methods=["POST"]),
        Route("/cases/{case_id}/release", s(pages.release, post=True), methods=["POST"]),
        Route("/cases/{case_id}/assign", s(pages.assign, post=True), methods=["POST"]),
        Route("/cases/{case_id}/evidence-request", s(pages.ask_evidence, post=True), methods=["POST"]),
        Route("/cases/{case_id}/hold", s(pages.hold, post=True), methods=["POST"]),
        Route("/cases/{case_id}/ruling/review", s(pages.review_ruling, post=True), methods=["POST"]),
        Route("/cases/{case_id}/ruling", s(pages.rule, post=True), methods=["POST"]),
        Route("/complaints/{complaint_id}", s(pages.complaint)),
        Route("/complaints/{complaint_id}/decide", s(pages.decide_complaint, post=True), methods=["POST"]),
        Route("/answers/{event_id}", s(pages.answer)),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    secret = settings.secret or secrets.token_urlsafe(32)
    if not settings.secret:
        log.warning("workbench_secret_unset", consequence="sessions end when the workbench restarts")
    middleware = [Middleware(SecurityHeaders),
                  Middleware(SessionMiddleware, secret_key=secret, session_cookie="aftersale_workbench",
                             max_age=settings.session_max_age_s, same_site="strict", https_only=settings.https_only)]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def main() -> None:
    settings = WorkbenchSettings()
    configure_logging("workbench", settings.log_level, settings.log_format)
    uvicorn.run(build_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning",
                access_log=False)
