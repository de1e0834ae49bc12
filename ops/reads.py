"""The operator's commands on the query models: an order's timeline, the arbitrators' queue, one
case, and the workbench's accounts. Each goes through the queries its owner publishes
(runtime.views.history, services.*.queries, the workbench's Accounts), never a collection by hand."""
from __future__ import annotations

import json
from typing import Any, Optional

import typer

from ops import render
from ops.options import MongoOpt, PrefixOpt, databases, fail, mongo_of, run
from ops.reader import Unreachable
from runtime.views.history import history_of
from services.arbitration import queries as arbitration
from services.seller.queries import shop_record


async def collect_timeline(mongo: str | None, prefix: str | None, order_id: str) -> list[tuple[Any, ...]]:
    """Every event about the order, from the services' query models (they keep history for good,
    while topics keep a week)."""
    from pymongo.errors import PyMongoError

    client, dbs = databases(mongo, prefix)
    try:
        rows = []
        for db in dbs.values():
            for d in await history_of(db, order_id):
                rows.append((str(d.get("occurred_at") or ""), d.get("ts", 0), d["topic"], d["_id"], d["value"].encode()))
        rows.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
        return rows
    except PyMongoError as e:
        raise Unreachable(f"cannot read the query model at {mongo_of(mongo)} ({type(e).__name__}: {e})") from None
    finally:
        await client.close()


def timeline(order_id: str, raw: bool = typer.Option(False, "--raw"), mongo: Optional[str] = MongoOpt,
             db_prefix: Optional[str] = PrefixOpt) -> None:
    """The whole story of one order across all topics, in order (from the query models)."""
    rows = run(collect_timeline(mongo, db_prefix, order_id))
    if not rows:
        fail(f"no event mentions order {order_id}")
    for _, ts, topic, _, value in rows:
        typer.echo(value.decode() if raw else f"{topic:<22} {render.line(topic, value, ts)}")


async def queue(mongo: str | None, prefix: str | None, limit: int = 100) -> list[dict[str, Any]]:
    """Cases awaiting a ruling, the oldest due first (the arbitration service's query model)."""
    from pymongo.errors import PyMongoError

    client, dbs = databases(mongo, prefix)
    try:
        files = await arbitration.awaiting_ruling(dbs["arbitration"], limit)
        return [{"case_id": c["_id"], "order_id": c["order_id"], "refund_id": c["case"].get("refund_id"),
                 "round": c["round"], "opened_by": c["opened_by"], "reason": c["reason"],
                 "ruling_due_at": c["ruling_due_at"], "overdue": bool(c.get("overdue")),
                 "evidence": len(c["case"]["submissions"])} for c in files]
    except PyMongoError as e:
        raise Unreachable(f"cannot read the arbitration database at {mongo_of(mongo)} ({type(e).__name__}: {e})") from None
    finally:
        await client.close()


def cases(mongo: Optional[str] = MongoOpt, db_prefix: Optional[str] = PrefixOpt,
          as_json: bool = typer.Option(False, "--json")) -> None:
    """The arbitrators' queue: cases awaiting a ruling, oldest due first."""
    rows = run(queue(mongo, db_prefix)) or []
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
    client, dbs = databases(mongo, prefix)
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


def case(case_id: str, mongo: Optional[str] = MongoOpt, db_prefix: Optional[str] = PrefixOpt) -> None:
    """One case: the request it is about, every submission, the deadlines and the rulings."""
    doc = run(find_case(mongo, db_prefix, case_id))
    if not doc:
        fail(f"no case {case_id}")
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


async def add_arbitrator(mongo: str | None, prefix: str | None, account_id: str, name: str, password: str,
                         supervisor: bool) -> None:
    from services.arbitration.workbench.accounts import Accounts

    client, dbs = databases(mongo, prefix, ("workbench",))
    try:
        await Accounts(dbs["workbench"]).add(account_id, name, password, supervisor)
    finally:
        await client.close()


def arbitrator_add(account_id: str, name: str = typer.Option("", "--name", help="shown on the pages"),
                   supervisor: bool = typer.Option(False, "--supervisor", help="may give cases to others"),
                   password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                                envvar="AFTERSALE_ARBITRATOR_PASSWORD"),
                   mongo: Optional[str] = MongoOpt, db_prefix: Optional[str] = PrefixOpt) -> None:
    """Create (or reset) a workbench account; the password is stored as an Argon2id hash."""
    try:
        run(add_arbitrator(mongo, db_prefix, account_id, name, password, supervisor))
    except ValueError as e:
        fail(str(e), 2)
    typer.echo(f"arbitrator {account_id}{' (supervisor)' if supervisor else ''} can log in to the workbench")
