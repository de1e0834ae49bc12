"""Wiring: settings, domain and runtime into one process, plus the inbox HTTP route."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime.service.adapters import Adapters
from runtime.service.app import Service, build_service
from runtime.service.http import Unicode
from services.notify.domain.service import NotifyDomain
from services.notify.queries import Inbox
from services.notify.settings import NotifySettings


def bootstrap(settings: NotifySettings | None = None, adapters: Adapters | None = None) -> Service:
    inbox: Inbox | None = None

    async def read_inbox(request: Request) -> Response:
        """GET /inbox?user_id=U: the user's latest messages and unread count (for the message centre)."""
        nonlocal inbox
        user_id = request.query_params.get("user_id", "")
        if not user_id:
            return JSONResponse({"error": "user_id is required"}, 400)
        if inbox is None:
            inbox = Inbox(svc.db)
            await inbox.ensure_indexes()
        return Unicode({"user_id": user_id, "unread": await inbox.unread_count(user_id),
                        "messages": await inbox.list(user_id)})

    svc = build_service(NotifyDomain(), settings or NotifySettings(), adapters=adapters,
                        routes=[Route("/inbox", read_inbox)])
    return svc
