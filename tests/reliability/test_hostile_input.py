"""Thousands of generated bad and adversarial messages at the real topics. Afterwards: every
consumer is alive, no aggregate changed, and every message is accounted for (a command.rejected
naming it, or its exact bytes in a dead-letter topic)."""
from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import topics as T
from contracts.registry import MESSAGES

COMMAND_TOPICS = [T.REFUND_COMMANDS, T.SELLER_COMMANDS, T.ARBITRATION_COMMANDS, T.ARBITRATION_DECISIONS, T.NOTIFY_COMMANDS]
EVENT_TOPICS = [T.ORDERS_EVENTS, T.PAYMENTS_EVENTS]
COMMANDS = {name: spec for name, spec in MESSAGES.items() if spec.kind == "command" and spec.producer == "external"}
ROLES = ["buyer", "seller", "arbitrator", "system", "emperor", "", None, 7]
_n = itertools.count()


def fuzz_id() -> str:
    return f"fuzz-{next(_n)}"


junk = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3))


@st.composite
def plausible_data(draw: Any, type_: str) -> dict[str, Any]:
    """Data that looks like the type's but concerns orders nobody paid, or breaks a rule."""
    order = draw(st.sampled_from(["FUZZ-" + fuzz_id(), "", "O" * 200]))
    data: dict[str, Any] = {
        "order_id": order, "refund_id": "RF-" + fuzz_id(), "case_id": "CS-" + fuzz_id(), "user_id": "U-" + fuzz_id(),
        "message_id": "M-" + fuzz_id(), "kind": draw(st.sampled_from(["refund_only", "gift", ""])),
        "reason": draw(st.sampled_from(["quality", "malicious_complaint", "because"])),
        "amount_fen": draw(st.one_of(st.integers(-10, 10**13), st.text(max_size=4), st.floats(allow_nan=False))),
        "refund_to": draw(st.sampled_from(["original", "wechat"])), "description": draw(st.text(max_size=30) | st.just("长" * 2100)),
        "evidence": draw(st.lists(st.fixed_dictionaries({"kind": st.sampled_from(["photo", "x"]),
                                                          "uri": st.sampled_from(["https://a.cn/1", "nope"])}),
                                  max_size=25)),
        "outcome": draw(st.sampled_from(["full_refund", "teleport"])), "return_shipping_paid_by": "seller",
        "seller_at_fault": draw(st.sampled_from([True, "yes"])), "reasoning": draw(st.sampled_from(["r", ""])),
        "carrier": "SF", "tracking_no": "1", "message": "m", "party": "buyer", "note": "n", "locale": "fr",
    }
    drop = draw(st.sets(st.sampled_from(sorted(data)), max_size=3))
    return {k: v for k, v in data.items() if k not in drop}


@st.composite
def command_envelope(draw: Any) -> tuple[str, bytes, str | None]:
    type_ = draw(st.sampled_from(sorted(COMMANDS) + ["refund.teleport", "ruling.issued"]))
    spec = COMMANDS.get(type_)
    topic = spec.topic if spec else draw(st.sampled_from(COMMAND_TOPICS))
    event_id = fuzz_id()
    env: dict[str, Any] = {
        "event_id": event_id, "type": type_, "version": draw(st.sampled_from([1, 1, 1, 2, 0, "1"])),
        "occurred_at": draw(st.sampled_from(["2026-11-26T08:00:00Z", "2026-11-26T08:00:00", "yesterday"])),
        "actor": {"role": draw(st.sampled_from(ROLES)), "id": draw(st.sampled_from(["B-" + event_id, "", "S-1"]))},
        "data": draw(plausible_data(type_)),
    }
    for field in draw(st.sets(st.sampled_from(["occurred_at", "actor", "data", "version", "type"]), max_size=1)):
        env[field] = draw(junk) if draw(st.booleans()) else env.pop(field)
    return topic, json.dumps(env, ensure_ascii=False).encode(), event_id


@st.composite
def garbage(draw: Any) -> tuple[str, bytes, None]:
    topic = draw(st.sampled_from(COMMAND_TOPICS + EVENT_TOPICS))
    marker = fuzz_id().encode()
    body = draw(st.one_of(
        st.binary(max_size=60),
        st.just(b"{"),
        junk.map(lambda v: json.dumps(v).encode()),
        st.just(b'{"event_id": ' + b'"x' * 10 + b'"}'),
        st.just(b" " * (300 * 1024)),  # oversized
    ))
    return topic, marker + b"\x00" + body if draw(st.booleans()) else body + b" " + marker, None


hostile = st.one_of(command_envelope(), garbage())


COLLECTIONS = (("refund", "orders"), ("seller", "shops"), ("arbitration", "cases"),
               ("notify", "inbox"), ("notify", "reads"))


async def traces_of_fuzz(dbs) -> list[str]:
    """Every stored document that mentions anything the hostile input named. Other tests' timers
    may still change their own documents meanwhile; nothing may ever mention a fuzz id."""
    found = []
    for service, col in COLLECTIONS:
        async for doc in dbs.db(service)[col].find({}):
            if "fuzz" in json.dumps(doc, default=str, ensure_ascii=False).lower():
                found.append(f"{service}.{col}:{doc['_id']}")
    return found


async def test_hostile_input_is_refused_or_dead_lettered_and_changes_nothing(bus, system, dbs) -> None:
    generated: list[tuple[str, bytes, str | None]] = []

    @settings(max_examples=150, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(hostile, min_size=10, max_size=30))
    def collect(batch: list[tuple[str, bytes, str | None]]) -> None:
        generated.extend(batch)

    collect()
    assert await traces_of_fuzz(dbs) == []
    mark = bus.mark
    for topic, value, event_id in generated:
        await bus._producer.send(topic, value, key=(event_id or "fuzz").encode())  # type: ignore[union-attr]
    await bus._producer.flush()  # type: ignore[union-attr]
    print(f"\n[hostile] sent {len(generated)} generated messages")

    def unaccounted() -> list[tuple[str, bytes]]:
        rejected = {s.data.get("command_event_id") for s in bus.all("command.rejected", since=mark)}
        dead = {s.value for s in bus.seen[mark:] if s.topic.endswith(".dlq")}
        return [(t, v) for t, v, e in generated if v not in dead and (e is None or e not in rejected)]

    await bus.wait_until(lambda: not unaccounted(), timeout=240,
                         what=f"every message rejected or dead-lettered ({len(unaccounted())} left)")
    await asyncio.sleep(2)

    assert await traces_of_fuzz(dbs) == [], "hostile input changed state"
    assert all(p.alive() for p in system.procs.values()), "a consumer died"
    assert all(p.ready() for p in system.procs.values())
    rejected = len(bus.all("command.rejected", since=mark))
    dead = sum(1 for s in bus.seen[mark:] if s.topic.endswith(".dlq"))
    print(f"[hostile] {rejected} command.rejected, {dead} dead letters, 0 state changes, every consumer alive")
