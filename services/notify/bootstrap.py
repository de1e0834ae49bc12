"""Wiring: settings, domain and runtime into one process."""
from __future__ import annotations

from runtime.app import Service, build_service
from services.notify.domain.service import NotifyDomain
from services.notify.settings import NotifySettings


def bootstrap(settings: NotifySettings | None = None) -> Service:
    return build_service(NotifyDomain(), settings or NotifySettings())
