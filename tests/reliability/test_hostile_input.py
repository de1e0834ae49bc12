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


BIG_NUMBERS = [2 ** 63, 2 ** 64 - 1, -(2 ** 63) - 1, 10 ** 30]


@st.composite
def poison(draw: Any) -> tuple[str, bytes, str | None]:
    """A command as a real client would send it, with one value no store keeps, or at a bound:
    numbers past 64 bits, NUL or a lone surrogate in an id, a key or a text, the longest allowed
    strings, deep nesting, a key given twice."""
    topic, value, event_id = draw(command_envelope())
    env = json.loads(value)
    if not isinstance(env.get("data"), dict):
        env["data"] = {}
    how = draw(st.sampled_from(["big_event_id", "big_field", "nul_id", "nul_key", "surrogate", "longest",
                                "deep", "twice"]))
    text = None
    if how == "big_event_id":
        env["event_id"] = draw(st.sampled_from(BIG_NUMBERS))
        event_id = None  # no rejection can name it: it is dead-lettered
    elif how == "big_field":
        env["data"][draw(st.sampled_from(["amount_fen", "qty", "round", "due_in_seconds", "x"]))] = \
            draw(st.sampled_from(BIG_NUMBERS))
    elif how == "nul_id":
        env["data"][draw(st.sampled_from(["order_id", "refund_id", "case_id"]))] = f"FUZZ-\x00-{event_id}"
    elif how == "nul_key":
        env["data"]["k\x00" + draw(st.text(max_size=3))] = 1
    elif how == "surrogate":
        text = json.dumps(env).replace('"data": {', '"data": {"note": "\\ud800", ', 1)
    elif how == "longest":
        env["data"].update(description="长" * 2000, message="m" * 1000, reasoning="r" * 4000)
        env["actor"] = {"role": env.get("actor", {}).get("role") if isinstance(env.get("actor"), dict) else "buyer",
                        "id": "B" * 128}
    elif how == "deep":
        nested: Any = 1
        for _ in range(draw(st.integers(20, 200))):
            nested = [nested]
        env["data"]["nested"] = nested
    else:  # twice: the first order_id is a fuzz one, the second too; parsers keep one of them
        text = json.dumps(env).replace('"data": {', f'"data": {{"order_id": "FUZZ-twice-{event_id}", ', 1)
    return topic, (text or json.dumps(env)).encode(), event_id


hostile = st.one_of(command_envelope(), garbage(), poison())


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


async def test_hostile_input_is_refused_or_dead_lettered_and_changes_nothing(bus, system, dbs, market) -> None:
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
    # Every view writer caught up (it raises if one is stuck), and a normal dispute still goes
    # through and shows in the history a timeline reads.
    await dbs.settled()
    order = await market.paid_order()
    await order.buyer_requests()
    await order.requested()
    await dbs.settled()
    assert await dbs.db("refund")["history"].find_one({"order_id": order.id, "type": "refund.requested"})
    rejected = len(bus.all("command.rejected", since=mark))
    dead = sum(1 for s in bus.seen[mark:] if s.topic.endswith(".dlq"))
    print(f"[hostile] {rejected} command.rejected, {dead} dead letters, 0 state changes, every consumer alive")
