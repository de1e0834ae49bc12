"""Wiring: settings, domain and runtime into one process, plus the inbox HTTP route."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from faststream.asgi import AsgiResponse, get

from runtime.service.app import Service, build_service
from services.notify.domain.service import NotifyDomain
from services.notify.inbox import Inbox
from services.notify.settings import NotifySettings


def bootstrap(settings: NotifySettings | None = None) -> Service:
    inbox: Inbox | None = None

    async def read_inbox(scope: Any) -> AsgiResponse:
        """GET /inbox?user_id=U: the user's latest messages and unread count (for the message centre)."""
        nonlocal inbox
        query = parse_qs(scope.get("query_string", b"").decode())
        user_id = (query.get("user_id") or [""])[0]
        if not user_id:
            return AsgiResponse(b'{"error": "user_id is required"}', 400, headers={"content-type": "application/json"})
        if inbox is None:
            inbox = Inbox(svc.db)
            await inbox.ensure_indexes()
        body = {"user_id": user_id, "unread": await inbox.unread_count(user_id), "messages": await inbox.list(user_id)}
        return AsgiResponse(json.dumps(body, ensure_ascii=False).encode(), 200,
                            headers={"content-type": "application/json; charset=utf-8"})

    svc = build_service(NotifyDomain(), settings or NotifySettings(), extra_routes=[("/inbox", get(read_inbox))])
    return svc
