"""Where the tests find Kafka and MongoDB, in this order:
1. KAFKA_BOOTSTRAP and MONGO_URL point to running services: use them.
2. A Docker engine answers: testcontainers starts Kafka (KRaft) and mongo:7.
3. Otherwise the project's own scripts start Kafka from Maven Central jars and FerretDB
   (instance `test`, its own ports and folder, see infra/scripts/common.sh).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Infra:
    bootstrap: str
    mongo_url: str
    how: str
    _cleanup: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for c in self._cleanup:
            c.stop()


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def start_infra(fresh: bool = False) -> Infra:
    """`fresh`: the project's own test instance starts empty (only that one is ever wiped)."""
    bootstrap, mongo = os.environ.get("KAFKA_BOOTSTRAP"), os.environ.get("MONGO_URL")
    if bootstrap and mongo:
        return Infra(bootstrap, mongo, "environment (KAFKA_BOOTSTRAP, MONGO_URL)")
    if docker_available():
        from testcontainers.community.kafka import KafkaContainer
        from testcontainers.community.mongodb import MongoDbContainer

        kafka = KafkaContainer("confluentinc/cp-kafka:7.8.0").with_kraft().start()
        mongo_c = MongoDbContainer("mongo:7.0").start()
        return Infra(kafka.get_bootstrap_server(), mongo_c.get_connection_url(), "testcontainers",
                     [kafka, mongo_c])
    found = instance_up(os.environ.get("AFTERSALE_INSTANCE", "test"), fresh)
    return Infra(found["KAFKA_BOOTSTRAP"], found["MONGO_URL"], "project scripts (Kafka jars + FerretDB)")


def instance_up(instance: str, fresh: bool = False, **env: str) -> dict[str, str]:
    """The project's scripts start an instance (ports and folder of its own): what it exports
    (KAFKA_BOOTSTRAP, MONGO_URL, ...)."""
    args = [str(ROOT / "infra/scripts/up.sh"), *(["--fresh"] if fresh else [])]
    out = subprocess.run(args, env={**os.environ, **env, "AFTERSALE_INSTANCE": instance}, capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise RuntimeError(f"infra/scripts/up.sh failed:\n{out.stderr[-4000:]}")
    return dict(re.findall(r"^export (\w+)=(\S+)$", out.stdout, re.M))


def instance_down(instance: str, **env: str) -> None:
    subprocess.run([str(ROOT / "infra/scripts/down.sh")], env={**os.environ, **env, "AFTERSALE_INSTANCE": instance},
                   capture_output=True)


def state_dir(instance: str | None = None) -> Path:
    """Where the project's scripts keep an instance's Kafka, FerretDB and pid files."""
    base = Path(os.environ.get("AFTERSALE_CACHE", Path.home() / ".cache/aftersale"))
    return base / "state" / (instance or os.environ.get("AFTERSALE_INSTANCE", "test"))


def kill_and_wait(pidfile: Path, sig: int = signal.SIGKILL, timeout_s: float = 30.0) -> int:
    """Signal the process a pid file names and wait until it is gone; its pid."""
    pid = int(pidfile.read_text())
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        time.sleep(0.1)
    raise AssertionError(f"{pidfile} (pid {pid}) outlived signal {sig} by {timeout_s} s")

