"""What the broker was asked during a phase: its request counters by kind, read over JMX.

`make bench` starts its broker with a JMX port (AFTERSALE_KAFKA_JMX_PORT); Kafka's own JmxTool
reads `kafka.network:type=RequestMetrics,name=RequestsPerSec` once before and once after a phase
(outside the CPU meter's interval is not possible: it is a JVM of its own, about 0.4 s of CPU per
reading, counted in no part). EndTxn is one per transaction, committed or aborted.
"""
from __future__ import annotations

import csv
import io
import os
import subprocess
from pathlib import Path

OBJECT = "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=*,version=*"


def _libs() -> str:
    cache = Path(os.environ.get("AFTERSALE_CACHE", Path.home() / ".cache" / "aftersale"))
    return str(cache / f"kafka-{os.environ.get('AFTERSALE_KAFKA_VERSION', '4.1.1')}" / "libs" / "*")


def parse(output: str) -> dict[str, int]:
    """JmxTool's one-time CSV (a header of `object:Count` names, a row of values) as counts per
    request kind, the versions of a kind summed."""
    rows = [line for line in output.splitlines() if line.startswith('"time"') or line[:1].isdigit()]
    if len(rows) < 2:
        raise ValueError(f"no counters in JmxTool's answer: {output[-300:]!r}")
    header, values = next(csv.reader(io.StringIO(rows[0]))), next(csv.reader(io.StringIO(rows[1])))
    counts: dict[str, int] = {}
    for name, value in zip(header[1:], values[1:]):
        kind = next(part.split("=", 1)[1] for part in name.split(":", 1)[1].split(",") if part.startswith("request="))
        counts[kind] = counts.get(kind, 0) + int(float(value))
    return counts


class BrokerRequests:
    def __init__(self, jmx_port: int) -> None:
        self.url = f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{jmx_port}/jmxrmi"

    def read(self) -> dict[str, int]:
        out = subprocess.run(
            ["java", "-cp", _libs(), "org.apache.kafka.tools.JmxTool", "--jmx-url", self.url,
             "--object-name", OBJECT, "--attributes", "Count", "--one-time", "true"],
            capture_output=True, text=True, timeout=60, check=True)
        return parse(out.stdout)


# Sub-kinds Kafka also counts under Fetch: summed with it, a consumer's fetch would count twice.
SUBKINDS = {"FetchConsumer", "FetchFollower"}


def _rates(before: dict[str, int], after: dict[str, int], per: float) -> dict[str, float]:
    """Requests by kind that moved, divided by `per` (the busiest first), with their sum."""
    moved = {k: after.get(k, 0) - before.get(k, 0) for k in after if k not in SUBKINDS}
    moved = {k: v for k, v in moved.items() if v > 0}
    return {"all": round(sum(moved.values()) / per, 1),
            **{k: round(v / per, 2) for k, v in sorted(moved.items(), key=lambda kv: -kv[1])}}


def per_dispute(before: dict[str, int], after: dict[str, int], disputes: int) -> dict[str, float]:
    """Requests per dispute by kind, with their sum and the transactions (EndTxn)."""
    rates = _rates(before, after, max(1, disputes))
    return {"all": rates.pop("all"), "transactions": rates.get("EndTxn", 0.0), **rates}


def per_second(before: dict[str, int], after: dict[str, int], seconds: float) -> dict[str, float]:
    """For a phase without disputes (idle): requests per second by kind."""
    return _rates(before, after, seconds)
