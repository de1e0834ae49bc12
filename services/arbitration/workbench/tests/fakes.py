"""In-memory stand-ins for the workbench's query model, accounts and decisions channel."""
from __future__ import annotations

import time
from typing import Any

from services.arbitration.workbench.accounts import HASHER, Account
from services.arbitration.workbench.decisions import Answer
from services.arbitration.workbench.reads import QueueFilter


class MemoryReads:
    def __init__(self, cases: list[dict[str, Any]], buyers: dict[str, dict] | None = None,
                 shops: dict[str, dict] | None = None, complaints: list[dict[str, Any]] | None = None) -> None:
        self.cases = {c["_id"]: c for c in cases}
        self.buyers, self.shops = buyers or {}, shops or {}
        self.complaints_ = {c["_id"]: c for c in complaints or []}

    async def complaints(self, limit: int) -> list[dict[str, Any]]:
        rows = [c for c in self.complaints_.values() if c["status"] != "ruled"]
        return sorted(rows, key=lambda c: c["filed_at"])[:limit]

    async def complaint(self, complaint_id: str) -> dict[str, Any] | None:
        return self.complaints_.get(complaint_id)

    async def queue(self, f: QueueFilter, limit: int) -> list[dict[str, Any]]:
        q = f.query()
        rows = [c for c in self.cases.values() if c["status"] == q["status"]
                and all(c.get(k) == v for k, v in q.items() if k in ("reason", "opened_by"))
                and (not f.appeals_only or c.get("appeals", 0) > 0)
                and (f.min_fen is None or (c.get("amount_fen") or 0) >= f.min_fen)
                and (f.max_fen is None or (c.get("amount_fen") or 0) <= f.max_fen)]
        return sorted(rows, key=lambda c: c["ruling_due_at"])[:limit]

    async def reasons(self) -> list[str]:
        return sorted({c["reason"] for c in self.cases.values()})

    async def case(self, case_id: str) -> dict[str, Any] | None:
        return self.cases.get(case_id)

    async def records(self, doc: dict[str, Any]) -> tuple[dict | None, dict | None]:
        return self.buyers.get(doc.get("buyer_id")), self.shops.get(doc.get("seller_id"))


class MemoryAccounts:
    def __init__(self) -> None:
        self.docs: dict[str, tuple[Account, str]] = {}
        self.sessions: dict[str, tuple[str, float]] = {}

    async def open_session(self, sid: str, account_id: str, until: float) -> None:
        self.sessions[sid] = (account_id, until)

    async def session_open(self, sid: str, account_id: str, now: float) -> bool:
        held = self.sessions.get(sid)
        return held is not None and held[0] == account_id and held[1] > now

    async def close_session(self, sid: str) -> None:
        self.sessions.pop(sid, None)

    def add(self, account_id: str, password: str, supervisor: bool = False) -> None:
        self.docs[account_id] = (Account(account_id, account_id.upper(), supervisor), HASHER.hash(password))

    async def get(self, account_id: str) -> Account | None:
        return self.docs[account_id][0] if account_id in self.docs else None

    async def all(self) -> list[Account]:
        return [a for a, _ in self.docs.values()]

    async def verify(self, account_id: str, password: str) -> Account | None:
        from argon2.exceptions import VerificationError

        if account_id not in self.docs:
            return None
        account, hashed = self.docs[account_id]
        try:
            HASHER.verify(hashed, password)
        except VerificationError:
            return None
        return account


class RecordingDecisions:
    """Remembers what was sent; a test answers a command as the service would."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []
        self.answers: dict[str, Answer] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, type_: str, data: dict[str, Any], arbitrator_id: str) -> str:
        event_id = f"cmd-{len(self.sent) + 1}"
        self.sent.append((type_, data, arbitrator_id))
        self.answers[event_id] = Answer(sent_at=time.monotonic())
        return event_id

    def answer(self, event_id: str) -> Answer | None:
        return self.answers.get(event_id)
