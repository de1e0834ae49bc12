"""Kafka authentication and authorization: SASL/SCRAM users per service and per outside system,
ACLs from the contract (ops/security.py). A principal writing where it must not is refused."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError

from contracts.build import encode, envelope, key_of
from ops.launcher import make_system
from contracts import topics as T
from ops.security import acl_rows, principals
from ops.security import main as security_main
from ops.topics import ensure_topics, wanted
from runtime.stream.kafka_auth import aiokafka_kwargs
from tests.support.infra import instance_down, instance_up

SECURE = {"AFTERSALE_KAFKA_SECURE": "1"}


def secret(user: str) -> str:
    return f"{user}-local-secret"


def creds(user: str, password: str | None = None) -> dict:
    return aiokafka_kwargs("SASL_SCRAM_256", user, password or secret(user))


def test_the_acl_file_matches_the_contract() -> None:
    assert security_main(["--check"]) == 0


@pytest_asyncio.fixture(scope="module")
async def secure_kafka(infra):
    if not infra.how.startswith("project scripts"):
        pytest.skip("the secure broker is started by the project's own scripts")
    found = instance_up("secure", fresh=True, **SECURE)
    await ensure_topics(found["KAFKA_BOOTSTRAP"], **creds("admin"))
    yield found
    instance_down("secure", **SECURE)


async def write(bootstrap: str, user: str, topic: str, password: str | None = None) -> None:
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=8000, **creds(user, password))
    await p.start()
    try:
        await p.send_and_wait(topic, b'{"probe": true}', key=b"k")
    finally:
        await p.stop()


def may_write(user: str, topic: str) -> bool:
    return any(r[0] == user and r[1] == "Write" and r[2] == "topic"
               and (r[3] == topic or (r[4] == "prefixed" and topic.startswith(r[3]))) for r in acl_rows())


def test_the_seller_backend_and_operators_write_only_what_contract_v3_gives_them() -> None:
    # The table itself: the seller backend cannot speak on the buyer's topics; operators write their
    # own commands and the topics outside systems write, never a service's own.
    assert {t for t in T.ALL_WITH_DLQ if may_write("seller-backend", t)} == {T.SELLER_COMMANDS, T.NOTIFY_COMMANDS}
    assert {t for t in T.ALL_WITH_DLQ if may_write("buyer-app", t)} == {
        T.REFUND_COMMANDS, T.ARBITRATION_COMMANDS, T.NOTIFY_COMMANDS}
    assert not any(may_write("ops", t) for t in (T.REFUND_EVENTS, T.SELLER_EVENTS, T.ARBITRATION_EVENTS,
                                                  T.NOTIFY_EVENTS, T.PAYMENTS_COMMANDS, T.SELLER_RESTRICTIONS,
                                                  "aftersale-refund.changelog"))
    assert may_write("ops", T.OPS_COMMANDS)


async def test_each_principal_writes_its_own_topics_and_is_refused_everywhere_else(secure_kafka) -> None:
    """Every principal against every topic of the contract and its dead-letter twin, on the broker."""
    bootstrap = secure_kafka["KAFKA_BOOTSTRAP"]
    wrong: list[str] = []
    for user in principals():
        if user == "admin":
            continue
        p = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=8000, **creds(user))
        await p.start()
        try:
            for topic in (t.name for t in wanted()):  # every topic `topics ensure` creates
                try:
                    await p.send_and_wait(topic, b'{"probe": true}', key=b"k")
                    wrote = True
                except TopicAuthorizationFailedError:
                    wrote = False
                if wrote != may_write(user, topic):
                    wrong.append(f"{user} {'wrote' if wrote else 'was refused'} {topic}")
        finally:
            await p.stop()
    assert wrong == []


async def test_a_wrong_password_is_not_let_in(secure_kafka) -> None:
    with pytest.raises(KafkaError):
        await write(secure_kafka["KAFKA_BOOTSTRAP"], "payment-system", "payments.events", password="guess")


def under_its_principal(secure_kafka, service: str, port: int, run: str, tmp_path: Path):
    """One service, authenticated as itself, with a database prefix and groups of its own."""
    return make_system({
        "KAFKA_BOOTSTRAP": secure_kafka["KAFKA_BOOTSTRAP"], "MONGO_URL": secure_kafka["MONGO_URL"],
        "AFTERSALE_KAFKA_SECURITY": "SASL_SCRAM_256", "AFTERSALE_KAFKA_USERNAME": service,
        "AFTERSALE_KAFKA_PASSWORD": secret(service), "AFTERSALE_DB_PREFIX": f"s{run}_",
        "AFTERSALE_GROUP_SUFFIX": f"-s{run}", "AFTERSALE_OFFSET_RESET": "earliest",
        f"AFTERSALE_{service.upper()}_HTTP_PORT": str(port)}, tmp_path, [service])


async def test_the_refund_service_runs_under_its_own_principal(secure_kafka, tmp_path: Path) -> None:
    bootstrap = secure_kafka["KAFKA_BOOTSTRAP"]
    run = uuid.uuid4().hex[:6]
    system = under_its_principal(secure_kafka, "refund", 18091, run, tmp_path)
    system.start()
    try:
        order = f"O-sec-{run}"
        paid = envelope("order.paid", {"order_id": order, "buyer_id": "B1", "seller_id": "S1", "amount_fen": 500,
                                       "currency": "CNY", "paid_at": "2026-11-26T08:00:00Z"}, actor={"role": "system", "id": "o"})
        ask = envelope("refund.request", {"order_id": order, "kind": "refund_only", "reason": "quality", "amount_fen": 500,
                                          "refund_to": "original", "description": "x", "evidence": []},
                       actor={"role": "buyer", "id": "B1"})
        for user, topic, env in (("order-system", "orders.events", paid), ("buyer-app", "refund.commands", ask)):
            p = AIOKafkaProducer(bootstrap_servers=bootstrap, **creds(user))
            await p.start()
            await p.send_and_wait(topic, encode(env), key=key_of(env))
            await p.stop()
        c = AIOKafkaConsumer("refund.events", bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                             **creds("ops"))
        await c.start()
        try:
            found = None
            for _ in range(100):
                batch = await c.getmany(timeout_ms=300)
                for recs in batch.values():
                    for r in recs:
                        if order.encode() in r.value and b'"refund.requested"' in r.value:
                            found = r
                if found:
                    break
            assert found is not None, "the refund service, authenticated as `refund`, published refund.requested"
        finally:
            await c.stop()
    finally:
        system.stop()


async def test_the_role_a_command_claims_must_fit_its_topic_on_the_secure_instance(secure_kafka, tmp_path: Path) -> None:
    """Kafka lets the buyer app write arbitration.commands and the arbitrators' console write
    arbitration.decisions; the arbitration service, under its own principal, refuses a ruling that
    claims a role its topic does not carry."""
    bootstrap = secure_kafka["KAFKA_BOOTSTRAP"]
    run = uuid.uuid4().hex[:6]
    system = under_its_principal(secure_kafka, "arbitration", 18093, run, tmp_path)
    system.start()
    try:
        ruling = {"order_id": f"O-sec-{run}", "case_id": "CS-1", "outcome": "full_refund", "refund_fen": 500,
                  "return_shipping_paid_by": "seller", "seller_at_fault": True, "reasoning": "forged"}
        posing = envelope("ruling.decide", ruling, actor={"role": "arbitrator", "id": "ARB-1"})  # from the buyer app
        forged = envelope("ruling.decide", ruling, actor={"role": "buyer", "id": "B1"})  # on the arbitrators' topic
        for user, topic, env in (("buyer-app", "arbitration.commands", posing),
                                 ("arbitrator-console", "arbitration.decisions", forged)):
            p = AIOKafkaProducer(bootstrap_servers=bootstrap, **creds(user))
            await p.start()
            await p.send_and_wait(topic, encode(env), key=key_of(env))
            await p.stop()
        c = AIOKafkaConsumer("arbitration.events", bootstrap_servers=bootstrap, group_id=None,
                             auto_offset_reset="earliest", **creds("ops"))
        await c.start()
        codes: dict[str, str] = {}
        try:
            for _ in range(100):
                for recs in (await c.getmany(timeout_ms=300)).values():
                    for r in recs:
                        for env in (posing, forged):
                            if env["event_id"].encode() in r.value and b'"command.rejected"' in r.value:
                                codes[env["event_id"]] = "forbidden" if b'"forbidden"' in r.value else "other"
                if len(codes) == 2:
                    break
        finally:
            await c.stop()
        assert codes == {posing["event_id"]: "forbidden", forged["event_id"]: "forbidden"}
    finally:
        system.stop()
