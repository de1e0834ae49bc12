"""Where the CPU goes during a benchmark phase: the services, Kafka, FerretDB and PostgreSQL.

Read from /proc (Linux): each process's user + system time, summed per part of the system, so
a phase can say how many of the machine's cores each part kept busy.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
DRIVER = "bench driver"  # the bench's own process: the load generator, a part like the others
# The parts around the services and Kafka: the load generator, the payment simulator, the database.
OUTSIDE = (DRIVER, "paysim", "ferretdb", "postgresql")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of stat)


def _infra_part(pid: int) -> str | None:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    if "kafka" in cmd and cmd.startswith("java"):
        return "kafka"
    if cmd.startswith("postgres") or "/postgres " in cmd:  # before FerretDB: its backends name the database "ferretdb"
        return "postgresql"
    if "ferretdb" in cmd:
        return "ferretdb"
    return None


class CpuMeter:
    """CPU seconds per part between start() and stop(); `parts` names the known processes."""

    def __init__(self, parts: dict[str, int]) -> None:
        self.parts = parts
        self.before: dict[int, tuple[str, float]] = {}
        self.started = 0.0

    def _sample(self) -> dict[int, tuple[str, float]]:
        out = {pid: (name, _cpu_seconds(pid)) for name, pid in self.parts.items()}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) not in out:
                part = _infra_part(int(entry.name))
                if part:
                    out[int(entry.name)] = (part, _cpu_seconds(int(entry.name)))
        return out

    def start(self) -> None:
        self.before = self._sample()
        self.started = time.perf_counter()

    def used(self) -> tuple[float, dict[str, float]]:
        """Seconds since start() and the CPU seconds each part used meanwhile, unrounded."""
        after = self._sample()
        elapsed = time.perf_counter() - self.started
        used: dict[str, float] = {}
        for pid, (name, seconds) in after.items():
            used[name] = used.get(name, 0.0) + seconds - self.before.get(pid, (name, 0.0))[1]
        return elapsed, used

    def stop(self) -> dict[str, float]:
        """Average cores each part kept busy over the interval, and how long it was."""
        elapsed, used = self.used()
        return {"seconds": round(elapsed, 1), **{name: round(s / elapsed, 2) for name, s in sorted(used.items())},
                "all": round(sum(used.values()) / elapsed, 3)}  # of the unrounded parts
