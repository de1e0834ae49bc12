"""`aftersale`: the operator's command line. Works against the local system or a deployment,
through KAFKA_BOOTSTRAP / MONGO_URL (or --bootstrap / --mongo)."""
from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from contracts import topics as T
from contracts.build import encode, envelope, key_of
from contracts.parsing import Invalid, parse_message
from contracts.registry import INBOUND_ROLES, spec_for, topic_for
from ops import render
from ops.reader import Unreachable, read
from runtime.stream.kafka_auth import aiokafka_kwargs
from runtime.views.history import history_of
from services.arbitration import queries as arbitration
from services.seller.queries import shop_record

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
dlq_app = typer.Typer(no_args_is_help=True, help="Dead letters: list, show, replay.")
topics_app = typer.Typer(no_args_is_help=True, help="Topics: create them up front.")
arbitrator_app = typer.Typer(no_args_is_help=True, help="Arbitrator accounts of the workbench.")
app.add_typer(dlq_app, name="dlq")
app.add_typer(arbitrator_app, name="arbitrator")
app.add_typer(topics_app, name="topics")

BootstrapOpt = typer.Option(None, "--bootstrap", "-b", help="Kafka bootstrap servers [env KAFKA_BOOTSTRAP]")
MongoOpt = typer.Option(None, "--mongo", help="MongoDB URL of the query models [env MONGO_URL]")
PrefixOpt = typer.Option(None, "--db-prefix", help="database name prefix [env AFTERSALE_DB_PREFIX, default aftersale_]")


def _bootstrap(value: str | None) -> str:
    return value or os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def _mongo(value: str | None) -> str:
    return value or os.environ.get("MONGO_URL", "mongodb://127.0.0.1:27017/")


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except Unreachable as e:
        _fail(str(e))
    except KeyboardInterrupt:
        return None


# ---- topics --------------------------------------------------------------------------------------


@topics_app.command("ensure")
def topics_ensure(bootstrap: Optional[str] = BootstrapOpt) -> None:
    """Create every topic of the contract and its `.dlq` twin (existing ones are left alone)."""
    from ops.topics import ensure_topics
    from runtime.stream.admin import PartitionCountMismatch

    b = _bootstrap(bootstrap)
    try:
        created = asyncio.run(ensure_topics(b, **aiokafka_kwargs()))
    except (ConnectionError, TimeoutError) as e:
        _fail(f"{e}")
    except PartitionCountMismatch as e:
        _fail(f"{e}; recreate them (a development broker starts empty with: make infra-down; infra/scripts/up.sh --fresh)")
    typer.echo(f"topics ready on {b}" + (f"; created {len(created)}" if created else "; all existed"))


# ---- tail ----------------------------------------------------------------------------------------


@app.command()
def tail(
    topic: list[str] = typer.Argument(None, help="topics to follow (default: every platform topic)"),
    order: Optional[str] = typer.Option(None, "--order", "-o", help="only this order"),
    type_: Optional[str] = typer.Option(None, "--type", "-t", help="only types starting with this"),
    correlation: Optional[str] = typer.Option(None, "--correlation", "-c", help="only this correlation id"),
    raw: bool = typer.Option(False, "--raw", help="print the JSON as it is"),
    from_beginning: bool = typer.Option(False, "--from-beginning", help="start at the oldest message"),
    idle_exit: Optional[float] = typer.Option(None, "--idle-exit", help="stop after this many idle seconds"),
    max_messages: Optional[int] = typer.Option(None, "--max", help="stop after this many lines"),
    bootstrap: Optional[str] = BootstrapOpt,
) -> None:
    """Follow topics live, one readable line per event."""
    chosen = topic or list(T.ALL)

    async def go() -> None:
        n = 0
        async for r in read(_bootstrap(bootstrap), chosen, follow=True, from_beginning=from_beginning,
                            idle_timeout_s=idle_exit):
            doc = render.parse(r.value)
            if not render.matches(doc, order=order, type_=type_, correlation=correlation):
                continue
            if raw:
                typer.echo((r.value or b"").decode("utf-8", "replace"))
            else:
                typer.echo(f"{r.topic:<22} {render.line(r.topic, r.value, r.timestamp)}")
            sys.stdout.flush()
            n += 1
            if max_messages and n >= max_messages:
                return

    _run(go())


# ---- describe ------------------------------------------------------------------------------------


@app.command()
def describe(service: str = typer.Argument(..., help="refund, seller, arbitration or notify")) -> None:
    """A service's topology: topics in, the steps of a record, its state store, topics out, its
    query model (as `python -m services.<service> describe` prints it)."""
    import subprocess

    if service not in SERVICES:
        _fail(f"no service {service!r}: one of {', '.join(SERVICES)}")
    out = subprocess.run([sys.executable, "-m", f"services.{service}", "describe"], capture_output=True, text=True)
    if out.returncode != 0:
        _fail(out.stderr.strip()[-2000:])
    typer.echo(out.stdout.rstrip())


# ---- timeline ------------------------------------------------------------------------------------


async def collect_timeline(mongo: str | None, prefix: str | None, order_id: str) -> list[tuple[Any, ...]]:
    """Every event about the order, from the services' query models (they keep history for good,
    while topics keep a week)."""
    from pymongo.errors import PyMongoError

    client, dbs = _databases(mongo, prefix)
    try:
        rows = []
        for db in dbs.values():
            for d in await history_of(db, order_id):
                rows.append((str(d.get("occurred_at") or ""), d.get("ts", 0), d["topic"], d["_id"], d["value"].encode()))
        rows.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
        return rows
    except PyMongoError as e:
        raise Unreachable(f"cannot read the query model at {_mongo(mongo)} ({type(e).__name__}: {e})") from None
    finally:
        await client.close()


@app.command()
def timeline(order_id: str, raw: bool = typer.Option(False, "--raw"), mongo: Optional[str] = MongoOpt,
             db_prefix: Optional[str] = PrefixOpt) -> None:
    """The whole story of one order across all topics, in order (from the query models)."""
    rows = _run(collect_timeline(mongo, db_prefix, order_id))
    if not rows:
        _fail(f"no event mentions order {order_id}")
    for _, ts, topic, _, value in rows:
        typer.echo(value.decode() if raw else f"{topic:<22} {render.line(topic, value, ts)}")


# ---- publish -------------------------------------------------------------------------------------


def build_message(type_: str, data: dict[str, Any], actor: str, event_id: str | None = None,
                  correlation_id: str | None = None) -> dict[str, Any]:
    """Build and validate a message exactly as a consumer will; raises Invalid with the field."""
    role, _, actor_id = actor.partition(":")
    env = envelope(type_, data, actor={"role": role, "id": actor_id}, event_id=event_id,
                   correlation_id=correlation_id, validate=False)
    spec = spec_for(type_)
    parse_message(encode(env), topic=topic_for(type_, role) if spec else None)
    return env


@app.command()
def publish(
    type_: str = typer.Argument(..., metavar="TYPE", help="e.g. refund.request"),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="the data object as JSON"),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="a JSON file: the data object, or a whole envelope"),
    actor: str = typer.Option("system:ops", "--actor", "-a", help="role:id, e.g. buyer:B1"),
    event_id: Optional[str] = typer.Option(None, "--event-id"),
    correlation_id: Optional[str] = typer.Option(None, "--correlation-id"),
    bootstrap: Optional[str] = BootstrapOpt,
) -> None:
    """Send one contract message, validated against the contract before it is sent."""
    if (data is None) == (file is None):
        _fail("give the data with exactly one of --data or --file", 2)
    try:
        obj = json.loads(data if data is not None else file.read_text())  # type: ignore[union-attr]
    except (OSError, ValueError) as e:
        _fail(f"cannot read the message: {e}", 2)
    if isinstance(obj, dict) and "data" in obj and "type" in obj:  # a whole envelope
        env = obj
        try:
            parse_message(encode(env))
        except Invalid as e:
            _fail(f"refused, not sent: {e}", 2)
    else:
        try:
            env = build_message(type_, obj, actor, event_id, correlation_id)
        except Invalid as e:
            _fail(f"refused, not sent: {e}", 2)
        except ValueError as e:
            _fail(f"refused, not sent: {e}", 2)
    spec = spec_for(env["type"])
    assert spec is not None

    async def send() -> Any:
        from aiokafka import AIOKafkaProducer

        p = AIOKafkaProducer(bootstrap_servers=_bootstrap(bootstrap), acks="all", enable_idempotence=True,
                             request_timeout_ms=10000, **aiokafka_kwargs())
        try:
            await asyncio.wait_for(p.start(), 15)
        except Exception as e:  # noqa: BLE001
            await p.stop()
            raise Unreachable(f"cannot reach Kafka at {_bootstrap(bootstrap)} ({e})") from None
        try:
            return await p.send_and_wait(topic_for(env["type"], env["actor"]["role"]), encode(env), key=key_of(env))
        finally:
            await p.stop()

    md = _run(send())
    typer.echo(f"sent {env['type']} event_id={env['event_id']} to {md.topic}[{md.partition}]@{md.offset}")


# ---- dead letters --------------------------------------------------------------------------------


def _views_dlq_topics() -> list[str]:
    """Each service's query-model dead letters (runtime/views/refusals.py)."""
    from runtime.stream.records import views_dlq_topic

    suffix = os.environ.get("AFTERSALE_GROUP_SUFFIX", "")
    return [views_dlq_topic(f"aftersale-{s}{suffix}") for s in SERVICES]


def _dlq_topics(topic: str | None) -> list[str]:
    if topic:
        return [topic if topic.endswith(T.DLQ_SUFFIX) else T.dlq(topic)]
    return [T.dlq(t) for t in T.ALL] + _views_dlq_topics()


async def dead_letters(bootstrap: str, topic: str | None) -> list[Any]:
    from runtime.stream.dlq import decode_headers

    out = []
    async for r in read(bootstrap, _dlq_topics(topic), follow=False):
        out.append((r, decode_headers(r.headers)))
    return out


@dlq_app.command("list")
def dlq_list(topic: Optional[str] = typer.Argument(None), bootstrap: Optional[str] = BootstrapOpt) -> None:
    """Every dead letter: where it came from and why."""
    from runtime.stream import dlq as D

    rows = _run(dead_letters(_bootstrap(bootstrap), topic)) or []
    for r, h in rows:
        typer.echo(f"{r.topic}@{r.offset}  from {h.get(D.H_TOPIC)}[{h.get(D.H_PARTITION)}]@{h.get(D.H_OFFSET)}  "
                   f"{h.get(D.H_CODE)}: {h.get(D.H_REASON, '')[:120]}")
    typer.echo(f"{len(rows)} dead letter(s)")


@dlq_app.command("show")
def dlq_show(topic: str, offset: int, bootstrap: Optional[str] = BootstrapOpt) -> None:
    """One dead letter: its headers and its original bytes."""
    rows = _run(dead_letters(_bootstrap(bootstrap), topic)) or []
    for r, h in rows:
        if r.offset == offset:
            typer.echo(json.dumps(h, indent=2, ensure_ascii=False))
            typer.echo((r.value or b"").decode("utf-8", "replace"))
            return
    _fail(f"no dead letter at {topic}@{offset}")


@dlq_app.command("replay")
def dlq_replay(
    topic: str,
    offset: Optional[list[int]] = typer.Option(None, "--offset", help="replay only these offsets"),
    bootstrap: Optional[str] = BootstrapOpt,
) -> None:
    """Send dead letters back: what came in from outside to the topic it came from, with its key and
    bytes; a record of a topic only its service writes, to that service on ops.commands
    (dead_letter.replay), since operators may not write a service's topics."""
    from runtime.stream import dlq as D

    if topic.endswith(".views.dlq"):
        _fail(f"{topic} holds records the query model's database refused; sending them back would change no "
              f"document. The aggregate's next change writes its document again (see docs/design.md).")

    async def go() -> int:
        from aiokafka import AIOKafkaProducer

        rows = await dead_letters(_bootstrap(bootstrap), topic)
        chosen = [(r, h) for r, h in rows if not offset or r.offset in offset]
        p = AIOKafkaProducer(bootstrap_servers=_bootstrap(bootstrap), acks="all", enable_idempotence=True,
                             **aiokafka_kwargs())
        await p.start()
        try:
            for r, h in chosen:
                origin = h.get(D.H_TOPIC) or topic.removesuffix(T.DLQ_SUFFIX)
                where = f"{r.topic}@{r.offset}"
                if origin in INBOUND_ROLES:
                    await p.send_and_wait(origin, r.value, key=r.key, headers=[("x-replayed-from", where.encode())])
                    typer.echo(f"replayed {where} -> {origin}")
                    continue
                env = envelope("dead_letter.replay", {
                    "key": (r.key or b"").decode(), "service": h.get(D.H_SERVICE), "topic": origin,
                    "value_b64": base64.b64encode(r.value or b"").decode(), "dead_letter": where},
                    actor={"role": "system", "id": "ops"})
                await p.send_and_wait(T.OPS_COMMANDS, encode(env), key=r.key)
                typer.echo(f"replayed {where} -> {origin} through {T.OPS_COMMANDS} ({h.get(D.H_SERVICE)})")
        finally:
            await p.stop()
        return len(chosen)

    n = _run(go())
    typer.echo(f"{n} dead letter(s) replayed")


# ---- the arbitrators' queue ----------------------------------------------------------------------



SERVICES = ("refund", "seller", "arbitration", "notify")


def _databases(mongo: str | None, prefix: str | None, names: tuple[str, ...] = SERVICES) -> tuple[Any, dict[str, Any]]:
    from pymongo import AsyncMongoClient

    from runtime.views.db import login

    # An operator's own login, where the database asks for one (docker-compose.yml: `ops`).
    client = AsyncMongoClient(_mongo(mongo), tz_aware=True, serverSelectionTimeoutMS=5000,
                              **login(os.environ.get("AFTERSALE_MONGO_USERNAME", ""),
                                      os.environ.get("AFTERSALE_MONGO_PASSWORD", "")))
    p = prefix or os.environ.get("AFTERSALE_DB_PREFIX", "aftersale_")
    return client, {s: client[f"{p}{s}"] for s in names}


async def queue(mongo: str | None, prefix: str | None, limit: int = 100) -> list[dict[str, Any]]:
    """Cases awaiting a ruling, the oldest due first (the arbitration service's query model)."""
    from pymongo.errors import PyMongoError

    client, dbs = _databases(mongo, prefix)
    try:
        files = await arbitration.awaiting_ruling(dbs["arbitration"], limit)
        return [{"case_id": c["_id"], "order_id": c["order_id"], "refund_id": c["case"].get("refund_id"),
                 "round": c["round"], "opened_by": c["opened_by"], "reason": c["reason"],
                 "ruling_due_at": c["ruling_due_at"], "overdue": bool(c.get("overdue")),
                 "evidence": len(c["case"]["submissions"])} for c in files]
    except PyMongoError as e:
        raise Unreachable(f"cannot read the arbitration database at {_mongo(mongo)} ({type(e).__name__}: {e})") from None
    finally:
        await client.close()


@app.command()
def cases(mongo: Optional[str] = MongoOpt, db_prefix: Optional[str] = PrefixOpt,
          as_json: bool = typer.Option(False, "--json")) -> None:
    """The arbitrators' queue: cases awaiting a ruling, oldest due first."""
    rows = _run(queue(mongo, db_prefix)) or []
    if as_json:
        typer.echo(json.dumps(rows, default=str, ensure_ascii=False))
        return
    for r in rows:
        flag = "OVERDUE  " if r["overdue"] else ""
        typer.echo(f"{flag}{r['ruling_due_at']:%Y-%m-%d %H:%M:%S}  {r['case_id']}  order={r['order_id']}  round={r['round']}  "
                   f"opened_by={r['opened_by']} reason={r['reason']}  submissions={r['evidence']}")
    typer.echo(f"{len(rows)} case(s) awaiting a ruling")


async def find_case(mongo: str | None, prefix: str | None, case_id: str) -> dict[str, Any] | None:
    """The case, with the two parties' records beside it: the buyer's (arbitrators only) and the shop's."""
    client, dbs = _databases(mongo, prefix)
    try:
        doc = await arbitration.case(dbs["arbitration"], case_id)
        if doc:
            doc["buyer_record"] = await arbitration.buyer_record(dbs["arbitration"], doc.get("buyer_id"))
            doc["shop_record"] = await shop_record(dbs["seller"], doc.get("seller_id"))
        return doc
    finally:
        await client.close()


def record_lines(buyer: dict[str, Any] | None, shop: dict[str, Any] | None) -> list[str]:
    """The parties' records, side by side: the buyer's for arbitrators only, never for sellers."""
    lines = []
    if buyer:
        rate = f"{buyer['refund_rate']:.0%}" if buyer.get("refund_rate") is not None else "-"
        lines.append(f"buyer record (90 days): {buyer.get('orders', 0)} orders, {buyer.get('requests', 0)} requests, "
                     f"{buyer.get('refunds', 0)} refunds, refund rate {rate}, {buyer.get('cases', 0)} cases; "
                     f"misconduct rulings (365 days): {len(buyer.get('misconduct', []))}")
    if shop:
        fines = sum(f.get("amount_fen", 0) for f in (shop.get("fines") or {}).values())
        lines.append(f"shop record (60 days): score {shop.get('score')}, defects {len(shop.get('defects') or {})}, "
                     f"defect rate {shop.get('defect_rate', 0):.0%}, restrictions {', '.join(shop.get('restrictions') or []) or 'none'}, "
                     f"fines {fines} fen")
    return lines


def negotiation_lines(entries: list[dict[str, Any]]) -> list[str]:
    """The talks before the case, oldest first: offers, the buyer's answers, the conversation."""
    def offer(o: dict[str, Any] | None) -> str:
        if not o:
            return "?"
        return o["kind"] + (f" {o['amount_fen']} fen" if o.get("amount_fen") is not None else "")

    lines = []
    for n in entries:
        at, entry = n["at"], n["entry"]
        if entry == "offer":
            lines.append(f"{at}  seller offered {offer(n.get('offer'))} ({n.get('offer_id')}): {n.get('message', '')}")
        elif entry == "post":
            attached = f"  [{len(n.get('attachments', []))} attachment(s)]" if n.get("attachments") else ""
            lines.append(f"{at}  {n['by']} said: {n.get('text', '')}{attached}")
        else:
            said = f": {n['message']}" if n.get("message") else ""
            what = {"offer_accepted": "buyer accepted", "offer_declined": "buyer declined"}.get(entry, "unanswered, lapsed:")
            lines.append(f"{at}  {what} {offer(n.get('offer'))}{said}")
    return lines


@app.command()
def case(case_id: str, mongo: Optional[str] = MongoOpt, db_prefix: Optional[str] = PrefixOpt) -> None:
    """One case: the request it is about, every submission, the deadlines and the rulings."""
    doc = _run(find_case(mongo, db_prefix, case_id))
    if not doc:
        _fail(f"no case {case_id}")
    c, req = doc["case"], doc.get("request") or {}
    typer.echo(f"case {case_id}  order {doc['order_id']}  buyer {doc.get('buyer_id')}  seller {doc.get('seller_id')}")
    for line in record_lines(doc.get("buyer_record"), doc.get("shop_record")):
        typer.echo(line)
    typer.echo(f"status {c['status']}  round {c['round']}  opened by {c['opened_by']} ({c['reason']}) at {c['opened_at']}")
    if req:
        typer.echo(f"request {req['refund_id']}: {req['kind']} / {req['reason']}  {req['amount_fen']} fen  "
                   f"evidence {len(req.get('evidence', []))} item(s)")
        if req.get("seller_rejection"):
            typer.echo(f"seller rejected: {req['seller_rejection']['reason']}")
        if req.get("negotiation"):
            typer.echo("negotiation (协商):")
            for line in negotiation_lines(req["negotiation"]):
                typer.echo(f"  {line}")
    for party, due in c.get("evidence_due", {}).items():
        typer.echo(f"evidence due from {party}: {due}  (met: {c.get('submitted', {}).get(party)})")
    for sub in c["submissions"]:
        typer.echo(f"  {sub['at']}  {sub['party']:<6} {sub['kind']:<9} round {sub['round']}  {len(sub['evidence'])} item(s)")
    for r in c["rulings"]:
        typer.echo(f"ruling round {r['round']}: {r['outcome']} {r['refund_fen']} fen by {r['decided_by']}"
                   f"{'  (final)' if r['final'] else ''}")
    if c.get("ruling_due_at"):
        typer.echo(f"ruling due by {c['ruling_due_at']}{'  OVERDUE' if doc.get('overdue') else ''}")


# ---- workbench accounts -----------------------------------------------------------------------


async def add_arbitrator(mongo: str | None, prefix: str | None, account_id: str, name: str, password: str,
                         supervisor: bool) -> None:
    from services.arbitration.workbench.accounts import Accounts

    client, dbs = _databases(mongo, prefix, ("workbench",))
    try:
        await Accounts(dbs["workbench"]).add(account_id, name, password, supervisor)
    finally:
        await client.close()


@arbitrator_app.command("add")
def arbitrator_add(account_id: str, name: str = typer.Option("", "--name", help="shown on the pages"),
                   supervisor: bool = typer.Option(False, "--supervisor", help="may give cases to others"),
                   password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                                envvar="AFTERSALE_ARBITRATOR_PASSWORD"),
                   mongo: Optional[str] = MongoOpt, db_prefix: Optional[str] = PrefixOpt) -> None:
    """Create (or reset) a workbench account; the password is stored as an Argon2id hash."""
    try:
        _run(add_arbitrator(mongo, db_prefix, account_id, name, password, supervisor))
    except ValueError as e:
        _fail(str(e), 2)
    typer.echo(f"arbitrator {account_id}{' (supervisor)' if supervisor else ''} can log in to the workbench")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
