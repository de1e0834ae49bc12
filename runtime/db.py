"""The database client. PyMongo's Async API (`AsyncMongoClient`), the successor of motor."""
from __future__ import annotations

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase


def connect(url: str) -> AsyncMongoClient:
    # tz_aware: every datetime we read back is UTC-aware, like the ones we write.
    # A bounded pool: four services share one database server (FerretDB keeps 100 to PostgreSQL).
    # timeoutMS: a hung server fails an operation (and the view writer retries) instead of blocking it.
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000, timeoutMS=15000, connect=False,
                            maxPoolSize=16)


def database(client: AsyncMongoClient, name: str) -> AsyncDatabase:
    return client[name]
