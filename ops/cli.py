"""`aftersale`: the operator's command line. Works against the local system or a deployment,
through KAFKA_BOOTSTRAP / MONGO_URL (or --bootstrap / --mongo). Here the commands on Kafka's
topics; dead letters in ops/dlq.py, the query models' commands in ops/reads.py."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from contracts import topics as T
from contracts.build import encode, envelope, key_of
from contracts.parsing import Invalid, parse_message
from contracts.registry import spec_for, topic_for
from ops import reads, render
from ops.dlq import dlq_app
from ops.options import SERVICES, BootstrapOpt, bootstrap_of, fail, run
from ops.reader import Unreachable, read
from ops.topics import ensure_topics
from runtime.stream.kafka_auth import aiokafka_kwargs

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
topics_app = typer.Typer(no_args_is_help=True, help="Topics: create them up front.")
arbitrator_app = typer.Typer(no_args_is_help=True, help="Arbitrator accounts of the workbench.")
app.add_typer(dlq_app, name="dlq")
app.add_typer(arbitrator_app, name="arbitrator")
app.add_typer(topics_app, name="topics")


# ---- topics --------------------------------------------------------------------------------------


@topics_app.command("ensure")
def topics_ensure(bootstrap: Optional[str] = BootstrapOpt) -> None:
    """Create every topic of the contract and its `.dlq` twin (existing ones are left alone)."""
    from runtime.stream.admin import PartitionCountMismatch

    b = bootstrap_of(bootstrap)
    try:
        created = asyncio.run(ensure_topics(b, **aiokafka_kwargs()))
    except (ConnectionError, TimeoutError) as e:
        fail(f"{e}")
    except PartitionCountMismatch as e:
        fail(f"{e}; recreate them (a development broker starts empty with: make infra-down; infra/scripts/up.sh --fresh)")
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
        async for r in read(bootstrap_of(bootstrap), chosen, follow=True, from_beginning=from_beginning,
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

    run(go())


# ---- describe ------------------------------------------------------------------------------------


@app.command()
def describe(service: str = typer.Argument(..., help="refund, seller, arbitration or notify")) -> None:
    """A service's topology: topics in, the steps of a record, its state store, topics out, its
    query model (as `python -m services.<service> describe` prints it)."""
    import subprocess

    if service not in SERVICES:
        fail(f"no service {service!r}: one of {', '.join(SERVICES)}")
    out = subprocess.run([sys.executable, "-m", f"services.{service}", "describe"], capture_output=True, text=True)
    if out.returncode != 0:
        fail(out.stderr.strip()[-2000:])
    typer.echo(out.stdout.rstrip())


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
        fail("give the data with exactly one of --data or --file", 2)
    try:
        obj = json.loads(data if data is not None else file.read_text())  # type: ignore[union-attr]
    except (OSError, ValueError) as e:
        fail(f"cannot read the message: {e}", 2)
    if isinstance(obj, dict) and "data" in obj and "type" in obj:  # a whole envelope
        env = obj
        try:
            parse_message(encode(env))
        except Invalid as e:
            fail(f"refused, not sent: {e}", 2)
    else:
        try:
            env = build_message(type_, obj, actor, event_id, correlation_id)
        except Invalid as e:
            fail(f"refused, not sent: {e}", 2)
        except ValueError as e:
            fail(f"refused, not sent: {e}", 2)
    spec = spec_for(env["type"])
    assert spec is not None

    async def send() -> Any:
        from aiokafka import AIOKafkaProducer

        p = AIOKafkaProducer(bootstrap_servers=bootstrap_of(bootstrap), acks="all", enable_idempotence=True,
                             request_timeout_ms=10000, **aiokafka_kwargs())
        try:
            await asyncio.wait_for(p.start(), 15)
        except Exception as e:  # noqa: BLE001
            await p.stop()
            raise Unreachable(f"cannot reach Kafka at {bootstrap_of(bootstrap)} ({e})") from None
        try:
            return await p.send_and_wait(topic_for(env["type"], env["actor"]["role"]), encode(env), key=key_of(env))
        finally:
            await p.stop()

    md = run(send())
    typer.echo(f"sent {env['type']} event_id={env['event_id']} to {md.topic}[{md.partition}]@{md.offset}")


# ---- the query models: an order's timeline, the arbitrators' queue, a case, accounts (reads.py) --

app.command("timeline")(reads.timeline)
app.command("cases")(reads.cases)
app.command("case")(reads.case)
arbitrator_app.command("add")(reads.arbitrator_add)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
