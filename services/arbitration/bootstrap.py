"""Wiring: settings, domain and runtime into one process."""
from __future__ import annotations

from runtime.service.adapters import Adapters
from runtime.service.app import Service, build_service
from services.arbitration.domain.service import ArbitrationDomain
from services.arbitration.settings import ArbitrationSettings


def bootstrap(settings: ArbitrationSettings | None = None, adapters: Adapters | None = None) -> Service:
    return build_service(ArbitrationDomain(), settings or ArbitrationSettings(), adapters=adapters)
