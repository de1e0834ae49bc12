"""Wiring: settings, domain and runtime into one process."""
from __future__ import annotations

from runtime.service.adapters import Adapters
from runtime.service.app import Service, build_service
from services.refund.domain.service import RefundDomain
from services.refund.settings import RefundSettings


def bootstrap(settings: RefundSettings | None = None, adapters: Adapters | None = None) -> Service:
    return build_service(RefundDomain(), settings or RefundSettings(), adapters=adapters)
