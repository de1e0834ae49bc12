"""What the operator's commands share: where Kafka and the query models are, and how a command
fails or runs its coroutine."""
from __future__ import annotations

import asyncio
import os
from typing import Any

import typer

from ops.reader import Unreachable
from ops.topics import SERVICES

BootstrapOpt = typer.Option(None, "--bootstrap", "-b", help="Kafka bootstrap servers [env KAFKA_BOOTSTRAP]")
MongoOpt = typer.Option(None, "--mongo", help="MongoDB URL of the query models [env MONGO_URL]")
PrefixOpt = typer.Option(None, "--db-prefix", help="database name prefix [env AFTERSALE_DB_PREFIX, default aftersale_]")


def bootstrap_of(value: str | None) -> str:
    return value or os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def mongo_of(value: str | None) -> str:
    return value or os.environ.get("MONGO_URL", "mongodb://127.0.0.1:27017/")


def fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except Unreachable as e:
        fail(str(e))
    except KeyboardInterrupt:
        return None


def databases(mongo: str | None, prefix: str | None, names: tuple[str, ...] = SERVICES) -> tuple[Any, dict[str, Any]]:
    from pymongo import AsyncMongoClient

    from runtime.views.db import login

    # An operator's own login, where the database asks for one (docker-compose.yml: `ops`).
    client = AsyncMongoClient(mongo_of(mongo), tz_aware=True, serverSelectionTimeoutMS=5000,
                              **login(os.environ.get("AFTERSALE_MONGO_USERNAME", ""),
                                      os.environ.get("AFTERSALE_MONGO_PASSWORD", "")))
    p = prefix or os.environ.get("AFTERSALE_DB_PREFIX", "aftersale_")
    return client, {s: client[f"{p}{s}"] for s in names}
