"""The ACL table lets each service read the global tables its domain declares, no more, no less."""
from __future__ import annotations

from ops.security import GLOBAL_TABLES
from services.arbitration.domain.service import ArbitrationDomain
from services.notify.domain.service import NotifyDomain
from services.refund.domain.service import RefundDomain
from services.seller.domain.service import SellerDomain


def test_each_service_may_read_the_global_tables_its_domain_declares():
    declared = {d.service: tuple(d.global_tables) for d in (RefundDomain(), SellerDomain(), ArbitrationDomain(),
                                                             NotifyDomain()) if d.global_tables}
    assert {k: sorted(v) for k, v in GLOBAL_TABLES.items()} == {k: sorted(v) for k, v in declared.items()}
