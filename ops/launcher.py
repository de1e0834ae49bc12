"""Start, watch and stop the service processes (the demo, the tests and the benchmark share it)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = {
    "refund": ("services.refund", "AFTERSALE_REFUND_HTTP_PORT", 8081),
    "seller": ("services.seller", "AFTERSALE_SELLER_HTTP_PORT", 8082),
    "arbitration": ("services.arbitration", "AFTERSALE_ARBITRATION_HTTP_PORT", 8083),
    "notify": ("services.notify", "AFTERSALE_NOTIFY_HTTP_PORT", 8084),
    "workbench": ("services.arbitration.workbench", "AFTERSALE_WORKBENCH_HTTP_PORT", 8085),
    "paysim": ("sim.payments", "PAYSIM_HTTP_PORT", 8089),
}


def health(port: int, timeout: float = 1.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        try:
            return json.loads(e.read())
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


@dataclass
class Proc:
    name: str
    module: str
    port: int
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        if health(self.port) is not None:
            raise RuntimeError(f"port {self.port} for {self.name} already answers: another {self.name} is running "
                               f"(stop it, or give this one another port)")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen([sys.executable, "-m", self.module], env=self.env, stdout=log,
                                      stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1])
        self.starts += 1

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def ready(self) -> bool:
        h = health(self.port)
        # Only our own process counts: an old one still holding the port is not this one.
        return bool(h and h.get("ready") and self.popen is not None and h.get("pid") == self.popen.pid)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode if self.popen else '?'}; "
                                   f"see {self.log_path}:\n{tail(self.log_path)}")
            if self.ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout} s; see {self.log_path}:\n{tail(self.log_path)}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        if not self.alive():
            return self.popen.returncode if self.popen else None
        assert self.popen is not None
        self.popen.send_signal(sig)
        return self.stopped(timeout)

    def stopped(self, timeout: float = 20.0) -> int | None:
        """Wait for it to exit; SIGKILL it when it has not within `timeout` (a graceful stop is bounded)."""
        if self.popen is None:
            return None
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(5)

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as a crash."""
        self.stop(signal.SIGKILL)


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class System:
    procs: dict[str, Proc] = field(default_factory=dict)

    def start(self, names: list[str] | None = None, timeout: float = 60.0) -> None:
        chosen = [self.procs[n] for n in (names or list(self.procs))]
        try:
            for p in chosen:
                p.start()
            for p in chosen:
                p.wait_ready(timeout)
        except BaseException:
            for p in chosen:  # leave nothing running behind a failed start
                p.stop()
            raise

    def stop(self) -> None:
        """All at once: SIGTERM to each (it commits the batch in hand), then wait for each."""
        running = [p for p in self.procs.values() if p.alive()]
        for p in running:
            assert p.popen is not None
            p.popen.send_signal(signal.SIGTERM)
        for p in running:
            p.stopped()

    def replica(self, name: str, n: int, port: int) -> Proc:
        """Another replica of a part: its environment, with instance id `n` (a static group member
        of its own) and its own HTTP port and log. Not started, and not one of `procs`."""
        first = self.procs[name]
        port_var = SERVICES[name][1]
        env = {**first.env, port_var: str(port), "AFTERSALE_INSTANCE_ID": str(n)}
        return Proc(f"{name}-{n}", first.module, port, env, first.log_path.with_name(f"{name}-{n}.log"))

    def restart(self, name: str, *, kill: bool = False, timeout: float = 60.0,
                env: dict[str, str] | None = None, wait: bool = True) -> None:
        """Stop (or SIGKILL) a service and start it again, optionally with changed environment."""
        p = self.procs[name]
        p.kill() if kill else p.stop()
        if env is not None:
            p.env = {**p.env, **env}
        p.start()
        if wait:
            p.wait_ready(timeout)


def make_system(base_env: dict[str, str], log_dir: Path, names: list[str] | None = None,
                port_base: int | None = None) -> System:
    system = System()
    for i, name in enumerate(names or ["refund", "seller", "arbitration", "notify"]):
        module, port_var, default_port = SERVICES[name]
        port = (port_base + i) if port_base else int(base_env.get(port_var) or os.environ.get(port_var) or default_port)
        env = {**os.environ, **base_env, port_var: str(port), "PYTHONUNBUFFERED": "1",
               "AFTERSALE_INSTANCE_ID": base_env.get("AFTERSALE_INSTANCE_ID", "0")}
        system.procs[name] = Proc(name, module, port, env, log_dir / f"{name}.log")
    return system
