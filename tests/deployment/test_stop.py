"""`make run`'s runner sent SIGTERM, as a service manager or `kill` would: it stops every process it
started (the four services, the payment simulator, the workbench) and exits; nothing is left."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from ops.launcher import health

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
