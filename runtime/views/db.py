"""The database client. PyMongo's Async API (`AsyncMongoClient`), the successor of motor."""
from __future__ import annotations

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase


def connect(url: str, username: str = "", password: str = "") -> AsyncMongoClient:
    # tz_aware: every datetime we read back is UTC-aware, like the ones we write.
    # A bounded pool: four services share one database server (FerretDB keeps 100 to PostgreSQL).
    # timeoutMS: a hung server fails an operation (and the view writer retries) instead of blocking it.
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000, timeoutMS=15000, connect=False,
                            maxPoolSize=16, **login(username, password))


def login(username: str, password: str) -> dict[str, str]:
    """The client's credentials, when there are any (the URL says the mechanism: PLAIN for FerretDB)."""
    return {"username": username, "password": password} if username else {}


def database(client: AsyncMongoClient, name: str) -> AsyncDatabase:
    return client[name]
