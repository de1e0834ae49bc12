"""`aftersale dlq`: dead letters, listed, shown and sent back."""
from __future__ import annotations

import base64
import json
import os
from typing import Any, Optional

import typer

from contracts import topics as T
from contracts.build import encode, envelope
from contracts.registry import INBOUND_ROLES
from ops.options import SERVICES, BootstrapOpt, bootstrap_of, fail, run
from ops.reader import read
from runtime.stream.kafka_auth import aiokafka_kwargs

dlq_app = typer.Typer(no_args_is_help=True, help="Dead letters: list, show, replay.")


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

    rows = run(dead_letters(bootstrap_of(bootstrap), topic)) or []
    for r, h in rows:
        typer.echo(f"{r.topic}@{r.offset}  from {h.get(D.H_TOPIC)}[{h.get(D.H_PARTITION)}]@{h.get(D.H_OFFSET)}  "
                   f"{h.get(D.H_CODE)}: {h.get(D.H_REASON, '')[:120]}")
    typer.echo(f"{len(rows)} dead letter(s)")


@dlq_app.command("show")
def dlq_show(topic: str, offset: int, bootstrap: Optional[str] = BootstrapOpt) -> None:
    """One dead letter: its headers and its original bytes."""
    rows = run(dead_letters(bootstrap_of(bootstrap), topic)) or []
    for r, h in rows:
        if r.offset == offset:
            typer.echo(json.dumps(h, indent=2, ensure_ascii=False))
            typer.echo((r.value or b"").decode("utf-8", "replace"))
            return
    fail(f"no dead letter at {topic}@{offset}")


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
        fail(f"{topic} holds records the query model's database refused; sending them back would change no "
              f"document. The aggregate's next change writes its document again (see docs/design.md).")

    async def go() -> int:
        from aiokafka import AIOKafkaProducer

        rows = await dead_letters(bootstrap_of(bootstrap), topic)
        chosen = [(r, h) for r, h in rows if not offset or r.offset in offset]
        p = AIOKafkaProducer(bootstrap_servers=bootstrap_of(bootstrap), acks="all", enable_idempotence=True,
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

    n = run(go())
    typer.echo(f"{n} dead letter(s) replayed")
