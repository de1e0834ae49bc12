"""What a service talks to, apart from its domain: the tasks' transactional producers and their
changelog, the database of its query model, the global tables, the view writer's dead letters
and the creation of its internal topics. `kafka_adapters` builds the real ones from settings; a
test passes fakes (runtime.stream.fakes) to `build_service`. The consumers (the stream loop's
and the view writer's) are the service's own and always Kafka's."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from runtime.service.settings import ServiceSettings
from runtime.stream.admin import ensure_internal_topics
from runtime.stream.kafka import KafkaChangelog, KafkaTransactions
from runtime.stream.kafka_auth import aiokafka_kwargs
from runtime.stream.ports import Changelog, Transactions
from runtime.stream.records import changelog_topic, views_dlq_topic
from runtime.stream.tables import GlobalTable
from runtime.views import db as dbmod
from runtime.views.refusals import KafkaViewDeadLetters, ViewDeadLetters


async def _nothing() -> None:
    return None


@dataclass
class Adapters:
    transactions: Callable[[int], Transactions]  # one transactional producer per task (partition)
    changelog: Changelog
    database: Any  # the query model's database (PyMongo Async's, or a fake with the same calls)
    view_dead_letters: ViewDeadLetters
    tables: dict[str, GlobalTable] = field(default_factory=dict)
    kafka: dict[str, Any] = field(default_factory=dict)  # client security for the service's consumers
    ensure_topics: Callable[[], Awaitable[None]] = _nothing
    # What to stop at shutdown, in order, besides the stream and the views: (name, stop)
    stops: list[tuple[str, Callable[[], Awaitable[Any]]]] = field(default_factory=list)


def kafka_adapters(service: str, global_tables: tuple[str, ...], settings: ServiceSettings,
                   sources: tuple[str, ...] = ()) -> Adapters:
    kafka = aiokafka_kwargs(settings.kafka_security, settings.kafka_username, settings.kafka_password)
    group = settings.group_id(service)
    client = dbmod.connect(settings.mongo_url, settings.mongo_username, settings.mongo_password)
    changelog = KafkaChangelog(settings.kafka_bootstrap, changelog_topic(group), kafka)
    tables = {t: GlobalTable(settings.kafka_bootstrap, t, kafka, settings.fetch_idle_wait_ms) for t in global_tables}

    def transactions(n: int) -> Transactions:
        return KafkaTransactions(settings.kafka_bootstrap, f"{group}-{n}", group, kafka,
                                 settings.crash_in_transaction_type)

    async def ensure_topics() -> None:
        await ensure_internal_topics(settings.kafka_bootstrap, group, kafka, sources=sources)

    async def close_client() -> None:
        await client.close()

    return Adapters(
        transactions=transactions, changelog=changelog, database=dbmod.database(client, settings.db_name(service)),
        view_dead_letters=KafkaViewDeadLetters(settings.kafka_bootstrap, views_dlq_topic(group), service, kafka),
        tables=tables, kafka=kafka, ensure_topics=ensure_topics,
        stops=[("changelog", changelog.stop), *((f"table {name}", t.stop) for name, t in tables.items()),
               ("database", close_client)])
