"""A service's topology as text, as Kafka Streams' `Topology.describe()` prints one: the topics it
reads, the steps each record takes, its state store, the topics it writes and its query model.
Derived from the domain and the contract, never written by hand. `python -m services.<name>
describe` prints it (and `aftersale describe <name>`)."""
from __future__ import annotations

from contracts.registry import ALL_SPECS
from contracts.topics import dlq
from runtime.api.domain import Domain
from runtime.service.settings import ServiceSettings
from runtime.stream.steps import STEPS
from runtime.stream.ownership import PARTITIONS
from runtime.stream.records import changelog_topic, repartition_topic, views_dlq_topic



def describe(domain: Domain, settings: ServiceSettings) -> str:
    group = settings.group_id(domain.service)
    out = [f"Service {domain.service}: consumer group {group}, {PARTITIONS} partitions, one task each"]
    out.append("  Source topics (read_committed):")
    out += [f"    {t}" for t in domain.consumes]
    if domain.global_tables:
        out.append("  Global tables (compacted, read whole by every instance):")
        out += [f"    {t}" for t in domain.global_tables]
    out.append("  Steps of each record:")
    out += [f"    {n}. {step.name}: {step.does[:1].lower()}{step.does[1:]} ({step.code.__qualname__})"
            for n, step in enumerate(STEPS, 1)]
    if domain.timers:
        out.append("  Deadlines (timers, kept with the state): " + ", ".join(domain.timers))
    out.append(f"  State store: aggregates in memory, changelog {changelog_topic(group)} (compacted); "
               f"repartition topic {repartition_topic(group)}")
    out.append("  Sink topics:")
    sinks: dict[str, list[str]] = {}
    for s in ALL_SPECS:
        if s.producer == domain.service:
            sinks.setdefault(s.topic, []).append(s.type)
    out += [f"    {t}: {', '.join(sorted(set(types)))}" for t, types in sorted(sinks.items())]
    out.append("  Dead letters: " + ", ".join(dlq(t) for t in domain.consumes))
    out.append(f"  Query model: database {settings.db_name(domain.service)}, written by consumer group {group}-views "
               f"(refused documents to {views_dlq_topic(group)})")
    out.append("    history of: " + ", ".join(domain.history_topics))
    if domain.indexes:
        out.append("    indexes: " + "; ".join(f"{i.collection} ({', '.join(f for f, _ in i.keys)})" for i in domain.indexes))
    return "\n".join(out)
