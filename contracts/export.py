"""Export the contract: a JSON Schema per message type, an AsyncAPI 3.0 document per service and
one for the whole platform, and a Markdown catalogue. `python -m contracts.export` writes them;
`python -m contracts.export --check` fails when the committed files are stale (CI runs it as a test).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts.envelope import Envelope
from contracts.registry import ALL_SPECS, CONSUMES, EXTERNAL, MESSAGES, MessageSpec
from contracts.topics import ALL as ALL_TOPICS
from contracts.topics import DLQ_SUFFIX

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVICES = ("refund", "seller", "arbitration", "notify")
TITLE = "Aftersale"


def message_name(spec: MessageSpec) -> str:
    """A type's name, with its topic for a second placement (and for each service's rejections)."""
    home = spec.type != "command.rejected" and MESSAGES.get(spec.type) is spec
    return spec.type if home else f"{spec.type}@{spec.topic}"


def message_schema(spec: MessageSpec) -> dict[str, Any]:
    """The whole Kafka value of one type: the envelope with `type`, `version` and `data` pinned."""
    env = Envelope.model_json_schema()
    data = spec.model.model_json_schema(ref_template="#/$defs/{model}")
    defs = {**env.pop("$defs", {}), **data.pop("$defs", {})}
    env["properties"]["type"] = {"const": spec.type, "type": "string"}
    env["properties"]["version"] = {"const": spec.version, "type": "integer"}
    env["properties"]["data"] = data
    env["title"] = spec.type
    env["description"] = spec.summary + (" (internal: the project's own, not in the external contract)" if spec.internal else "")
    env["x-topic"] = spec.topic
    env["x-key"] = spec.key_field
    env["x-kind"] = spec.kind
    env["x-producer"] = spec.producer
    env["x-actor-roles"] = list(spec.roles)
    placements = [p for p in ALL_SPECS if p.type == spec.type and p.type != "command.rejected"]
    if len(placements) > 1:  # the same message on the other party's own topic (contract version 3)
        env["x-placements"] = [{"topic": p.topic, "actor-roles": list(p.roles)} for p in placements]
    if defs:
        env["$defs"] = defs
    env["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return env


def _producers(topic: str) -> set[str]:
    return {s.producer for s in ALL_SPECS if s.topic == topic}


def asyncapi(service: str | None) -> dict[str, Any]:
    """AsyncAPI 3.0: channels are topics; a service `receive`s what it consumes and `send`s what it emits."""
    topics = [t for t in ALL_TOPICS if service is None or t in CONSUMES[service] or service in _producers(t)]
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for t in topics:
        chan_id = t.replace(".", "_")
        specs = [s for s in ALL_SPECS if s.topic == t]
        chan_msgs = {}
        for s in specs:
            mid = message_name(s).replace(".", "_").replace("@", "_at_")
            messages[mid] = {
                "name": s.type, "title": s.type, "summary": s.summary,
                "contentType": "application/json",
                "payload": {"$ref": f"../schemas/{s.type}.v{s.version}.json"},
                "bindings": {"kafka": {"key": {"type": "string", "description": f"the message's {s.key_field}"}}},
                "x-internal": s.internal, "x-producer": s.producer,
            }
            chan_msgs[mid] = {"$ref": f"#/components/messages/{mid}"}
        channels[chan_id] = {"address": t, "messages": chan_msgs,
                             "description": f"Dead letters go to `{t}{DLQ_SUFFIX}`."}
        receivers = [svc for svc in SERVICES if t in CONSUMES[svc]]
        for svc in SERVICES:
            if service not in (None, svc):
                continue
            if svc in receivers:
                operations[f"{svc}_receives_{chan_id}"] = {
                    "action": "receive", "channel": {"$ref": f"#/channels/{chan_id}"},
                    "summary": f"{svc} consumes {t} (consumer group aftersale-{svc})",
                }
            sent = [s for s in specs if s.producer == svc]
            if sent:
                operations[f"{svc}_sends_{chan_id}"] = {
                    "action": "send", "channel": {"$ref": f"#/channels/{chan_id}"},
                    "summary": f"{svc} publishes {', '.join(sorted({s.type for s in sent}))} to {t}",
                    "messages": [{"$ref": f"#/channels/{chan_id}/messages/{m}"} for m in chan_msgs
                                 if messages[m]["x-producer"] == svc],
                }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"{TITLE} {service or 'platform'}", "version": "1.0.0",
                 "description": "Generated from contracts/registry.py; do not edit by hand."},
        "defaultContentType": "application/json",
        "channels": channels, "operations": operations, "components": {"messages": messages},
    }


def catalogue() -> str:
    lines = ["# Message catalogue", "", "Generated by `python -m contracts.export` from `contracts/registry.py`.",
             "Types marked *internal* are the project's own; the rest are fixed by the external contract.", ""]
    for t in ALL_TOPICS:
        specs = [s for s in ALL_SPECS if s.topic == t]
        readers = [svc for svc in SERVICES if t in CONSUMES[svc]]
        lines += [f"## `{t}`", "", f"Read by: {', '.join(readers) or 'outside systems'}. Key: "
                  f"`{specs[0].key_field if specs else 'order_id'}`. Dead letters: `{t}{DLQ_SUFFIX}`.", "",
                  "| type | from | actor roles | data fields (required in bold) | |", "|---|---|---|---|---|"]
        for s in specs:
            schema = s.model.model_json_schema()
            req = set(schema.get("required", []))
            fields = ", ".join(f"**{f}**" if f in req else f for f in schema.get("properties", {}))
            who = "outside" if s.producer == EXTERNAL else s.producer
            lines.append(f"| `{s.type}` v{s.version} | {who} | {', '.join(s.roles)} | {fields} | "
                         f"{'*internal* ' if s.internal else ''}{s.summary} |")
        lines.append("")
    return "\n".join(lines)


def render_all() -> dict[Path, str]:
    out: dict[Path, str] = {}
    dump = lambda o: json.dumps(o, indent=2, ensure_ascii=False, sort_keys=True) + "\n"  # noqa: E731
    seen = set()
    for s in ALL_SPECS:
        if s.type in seen:
            continue
        seen.add(s.type)
        out[HERE / "schemas" / f"{s.type}.v{s.version}.json"] = dump(message_schema(s))
    env_schema = Envelope.model_json_schema()
    env_schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out[HERE / "schemas" / "envelope.v1.json"] = dump(env_schema)
    for svc in SERVICES:
        out[HERE / "asyncapi" / f"{svc}.json"] = dump(asyncapi(svc))
    out[HERE / "asyncapi" / "platform.json"] = dump(asyncapi(None))
    out[ROOT / "docs" / "messages.md"] = catalogue()
    return out


def stale() -> list[Path]:
    files = render_all()
    wrong = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    extra = [p for d in ("schemas", "asyncapi") for p in (HERE / d).glob("*.json") if p not in files]
    return wrong + extra


def main(argv: list[str]) -> int:
    if "--check" in argv:
        bad = stale()
        for p in bad:
            print(f"stale: {p.relative_to(ROOT)}", file=sys.stderr)
        if bad:
            print("run `make export` and commit the result", file=sys.stderr)
        return 1 if bad else 0
    for d in ("schemas", "asyncapi"):
        for p in (HERE / d).glob("*.json"):
            p.unlink()
    for p, text in render_all().items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    print(f"wrote {len(render_all())} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
