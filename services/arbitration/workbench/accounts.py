"""Arbitrator accounts: an id, a name, a salted Argon2id hash (slow on purpose), and whether the
arbitrator is a supervisor (may give a case to someone else). Kept in the workbench's own
database; `aftersale arbitrator add` creates them."""
from __future__ import annotations

import asyncio

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo.asynchronous.database import AsyncDatabase

HASHER = PasswordHasher()  # Argon2id, a random salt per hash, the library's RFC 9106 defaults
ACCOUNT_ID = re.compile(r"^[a-z0-9][a-z0-9_.\-]{1,63}$")
# Verified when the account does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = HASHER.hash("not a password of anyone")


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    supervisor: bool = False


class Accounts:
    def __init__(self, db: AsyncDatabase) -> None:
        self.docs = db["accounts"]
        self.sessions = db["sessions"]  # open sessions: a logout deletes one, whatever its cookie says

    async def open_session(self, sid: str, account_id: str, until: float) -> None:
        await self.sessions.insert_one({"_id": sid, "account": account_id, "until": until})

    async def session_open(self, sid: str, account_id: str, now: float) -> bool:
        doc = await self.sessions.find_one({"_id": sid}) if sid else None
        return bool(doc) and doc["account"] == account_id and doc["until"] > now

    async def close_session(self, sid: str) -> None:
        await self.sessions.delete_one({"_id": sid})

    async def add(self, account_id: str, name: str, password: str, supervisor: bool = False) -> Account:
        if not ACCOUNT_ID.match(account_id):
            raise ValueError("an account id is 2-64 characters: lower-case letters, digits, '_', '.', '-'")
        if len(password) < 8:
            raise ValueError("a password has at least 8 characters")
        doc = {"name": name or account_id, "password_hash": HASHER.hash(password), "supervisor": supervisor}
        await self.docs.replace_one({"_id": account_id}, doc, upsert=True)
        return Account(account_id, doc["name"], supervisor)

    async def get(self, account_id: str) -> Account | None:
        doc = await self.docs.find_one({"_id": account_id}) if ACCOUNT_ID.match(account_id or "") else None
        return Account(doc["_id"], doc.get("name") or doc["_id"], bool(doc.get("supervisor"))) if doc else None

    async def all(self) -> list[Account]:
        return [Account(d["_id"], d.get("name") or d["_id"], bool(d.get("supervisor")))
                async for d in self.docs.find({}, projection={"password_hash": 0}).sort("_id", 1)]

    async def verify(self, account_id: str, password: str) -> Account | None:
        doc = await self.docs.find_one({"_id": account_id}) if ACCOUNT_ID.match(account_id or "") else None
        try:
            # Argon2 takes tens of milliseconds of CPU by design: off the event loop, so that a few
            # logins at once do not stall every page.
            await asyncio.to_thread(HASHER.verify, doc["password_hash"] if doc else _DUMMY, password)
        except (VerificationError, InvalidHashError):
            return None
        if doc is None:
            return None
        return Account(doc["_id"], doc.get("name") or doc["_id"], bool(doc.get("supervisor")))
