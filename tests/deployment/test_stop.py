"""`make run`'s runner sent SIGTERM, as a service manager or `kill` would: it stops every process it
started (the four services, the payment simulator, the workbench) and exits; nothing is left."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from ops.launcher import health
from ops.topics import ensure_topics
from tests.support.infra import instance_down, instance_up

PORTS = {"AFTERSALE_REFUND_HTTP_PORT": 28081, "AFTERSALE_SELLER_HTTP_PORT": 28082,
         "AFTERSALE_ARBITRATION_HTTP_PORT": 28083, "AFTERSALE_NOTIFY_HTTP_PORT": 28084,
         "AFTERSALE_WORKBENCH_HTTP_PORT": 28085, "PAYSIM_HTTP_PORT": 28089}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is gone but for its exit status
        return f.read().split(") ")[-1][0] != "Z"


def test_sigterm_to_the_runner_stops_everything_it_started(env: dict[str, str], tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    # Groups and databases of its own: it must not take partitions from the suite's services.
    own = {**os.environ, **env, **{k: str(v) for k, v in PORTS.items()}, "AFTERSALE_GROUP_SUFFIX": f"-stop{run}",
           "AFTERSALE_DB_PREFIX": f"stop{run}_", "AFTERSALE_OFFSET_RESET": "latest"}
    runner = subprocess.Popen([sys.executable, "-m", "ops.runner", "--no-demo", "--logs", str(tmp_path)], env=own,
                              stdout=subprocess.DEVNULL, stderr=open(tmp_path / "runner.log", "wb"),
                              cwd=Path(__file__).resolve().parents[2])
    pids: dict[int, int] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(pids) < len(PORTS):
            assert runner.poll() is None, (tmp_path / "runner.log").read_text()
            for port in PORTS.values():
                h = health(port)
                if h and h.get("pid") and h.get("ready"):
                    pids[port] = h["pid"]
            time.sleep(0.5)
        assert len(pids) == len(PORTS), f"not all started: {pids}; {(tmp_path / 'runner.log').read_text()[-2000:]}"

        runner.send_signal(signal.SIGTERM)
        assert runner.wait(60) == 0
        left = [pid for pid in pids.values() if alive(pid)]
        assert left == [], f"still running after the runner exited: {left}"
        assert "stopping the services" in (tmp_path / "runner.log").read_text()
    finally:
        if runner.poll() is None:
            runner.kill()
        for pid in pids.values():  # a failed run leaves nothing behind for the next test
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


STOP_TIMEOUT_S = 8


def test_a_service_sent_sigterm_with_kafka_gone_exits_within_its_stop_timeout(tmp_path: Path) -> None:
    """Kafka dies under a running service (a broker host lost, `make run`'s infrastructure stopped
    first); the service, sent SIGTERM, does not wait for it: it exits within its stop timeout."""
    root = Path(__file__).resolve().parents[2]
    found = instance_up("stopping", fresh=True)
    # As every deployment does before its services start (the compose topics job, `make run`): the
    # refund service reads a table the arbitration service writes, which must exist.
    asyncio.run(ensure_topics(found["KAFKA_BOOTSTRAP"]))
    port = 28191
    service = None
    try:
        env = {**os.environ, "KAFKA_BOOTSTRAP": found["KAFKA_BOOTSTRAP"], "MONGO_URL": found["MONGO_URL"],
               "AFTERSALE_REFUND_HTTP_PORT": str(port), "AFTERSALE_STOP_TIMEOUT_S": str(STOP_TIMEOUT_S),
               "AFTERSALE_DB_PREFIX": "stopping_", "AFTERSALE_LOG_FORMAT": "json"}
        service = subprocess.Popen([sys.executable, "-m", "services.refund"], env=env, cwd=root,
                                   stdout=open(tmp_path / "refund.log", "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (health(port) or {}).get("ready"):
            assert service.poll() is None, (tmp_path / "refund.log").read_text()[-3000:]
            time.sleep(0.5)
        assert (health(port) or {}).get("ready"), (tmp_path / "refund.log").read_text()[-3000:]

        cache = Path(os.environ.get("AFTERSALE_CACHE", Path.home() / ".cache/aftersale"))
        kafka_pid = int((cache / "state/stopping/kafka/kafka.pid").read_text())
        os.kill(kafka_pid, signal.SIGKILL)
        while alive(kafka_pid):
            time.sleep(0.1)
        time.sleep(2)  # the service notices: its fetches and commits now fail

        began = time.monotonic()
        service.send_signal(signal.SIGTERM)
        code = service.wait(STOP_TIMEOUT_S + 20)
        took = time.monotonic() - began
        assert code == 0 and took < STOP_TIMEOUT_S + 5, f"exit {code} after {took:.1f} s"
        assert b"service_stopped" in (tmp_path / "refund.log").read_bytes()
    finally:
        if service is not None and service.poll() is None:
            service.kill()
        instance_down("stopping")
