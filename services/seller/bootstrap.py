"""Wiring: settings, domain and runtime into one process."""
from __future__ import annotations

from runtime.service.adapters import Adapters
from runtime.service.app import Service, build_service
from services.seller.domain.service import SellerDomain
from services.seller.settings import SellerSettings


def bootstrap(settings: SellerSettings | None = None, adapters: Adapters | None = None) -> Service:
    return build_service(SellerDomain(), settings or SellerSettings(), adapters=adapters)
