"""Boot what docker-compose.yml names, without a container engine (run by test_compose_boot.py).

It runs inside private network and mount namespaces (`unshare -n -m`), so the file's own host
names and ports hold: `kafka`, `postgres` and `ferretdb` resolve to this namespace's loopback, the broker listens
on 9092, 19092 and 9093 as compose says, and nothing clashes with the suite's own Kafka. Each part
starts from its resolved compose definition (environment with env_file merged, command or
entrypoint, file volumes mounted where the container would see them), and each healthcheck
command is run against the running part. PostgreSQL starts as its image does (initdb with the
superuser's password, the init scripts compose mounts, then password logins over TCP), FerretDB
from the same version's binary with the environment compose gives it. What it cannot check: the
images themselves (the broker runs from the project's Kafka 4.1.1 jars, the apps from this
checkout, PostgreSQL is Debian's 15), container networking beyond host names, named volumes,
restart policies.

    python -m tests.deployment.compose_boot WORKDIR   (WORKDIR holds resolved.json; writes result.json)
"""
from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from runtime.views.history import history_of
from services.refund.queries import read_order
from tests.deployment.compose import broker_properties
from tests.support.infra import ROOT

CACHE = Path(os.environ.get("AFTERSALE_CACHE", Path.home() / ".cache/aftersale"))
KAFKA_LIBS = CACHE / "kafka-4.1.1" / "libs"
FERRETDB = CACHE / "bin" / "ferretdb-v1.24.2"
PG_HOME, PG_SOCKETS = Path("/var/lib/postgresql"), Path("/var/run/postgresql")  # as in the postgres image
INITDB = Path("/docker-entrypoint-initdb.d")
CLUSTER_ID = "5L6g3nShT-eMCtK--X86sw"  # the apache/kafka image's default CLUSTER_ID
# The image's tools, as wrappers of the same classes (its bin/ scripts are kafka-run-class.sh calls).
TOOLS = {"kafka-broker-api-versions.sh": "org.apache.kafka.tools.BrokerApiVersionsCommand",
         "kafka-configs.sh": "kafka.admin.ConfigCommand", "kafka-acls.sh": "org.apache.kafka.tools.AclCommand"}
JVM_QUICK = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xmx256m"


class Boot:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.compose = json.loads((work / "resolved.json").read_text())["services"]
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.result: dict[str, Any] = {"steps": {}, "healthchecks": {}}
        self.logs = work / "logs"
        self.logs.mkdir(exist_ok=True)

    # ---- the namespace: host names, the image's paths -------------------------------------

    def namespace(self) -> None:
        run(["ip", "link", "set", "lo", "up"])
        hosts = self.work / "hosts"
        hosts.write_text(f"127.0.0.1 localhost {socket.gethostname()} " + " ".join(self.compose) + "\n")
        run(["mount", "--bind", str(hosts), "/etc/hosts"])
        run(["mount", "-t", "tmpfs", "tmpfs", "/opt"])  # private to this namespace
        bin_ = Path("/opt/kafka/bin")
        bin_.mkdir(parents=True)
        for name, cls in TOOLS.items():
            (bin_ / name).write_text(f'#!/bin/sh\nexec java {JVM_QUICK} -cp "{KAFKA_LIBS}/*" '
                                     f'-Dlog4j2.configurationFile={ROOT}/infra/kafka/log4j2.properties '
                                     f'-Dkafka.logs.dir={self.logs} {cls} "$@"\n')
            (bin_ / name).chmod(0o755)

    def mount_volumes(self, name: str) -> None:
        """A service's file volumes (`./x:/target:ro`), bound where the container would see them."""
        for v in self.compose[name].get("volumes") or []:
            source, target = (v["source"], v["target"]) if isinstance(v, dict) else v.split(":")[:2]
            if Path(source).is_relative_to(self.work):  # the file was resolved beside a copy of compose
                source = str(ROOT / Path(source).relative_to(self.work))
            if not Path(source).is_file():
                continue  # named volumes: not checked here
            parent = Path(target).parent
            if not parent.exists():
                parent.mkdir(parents=True)  # the mount point (an empty folder; removed by the test)
                self.result.setdefault("made", []).append(str(parent))
            if not os.path.ismount(parent) and str(parent) not in self.result.get("tmpfs", []):
                run(["mount", "-t", "tmpfs", "tmpfs", str(parent)])
                self.result.setdefault("tmpfs", []).append(str(parent))
            Path(target).touch()
            run(["mount", "--bind", source, target])

    # ---- parts ----------------------------------------------------------------------------

    def env_of(self, name: str, **extra: str) -> dict[str, str]:
        env = {k: str(v) for k, v in (self.compose[name].get("environment") or {}).items()}
        path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"  # the image's `aftersale` and `python`
        return {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "PYTHONPATH": str(ROOT),
                "AFTERSALE_LOG_FORMAT": "json", **env, **extra}

    def kafka(self) -> None:
        props = broker_properties(self.compose["kafka"]["environment"])
        props["log.dirs"] = str(self.work / "kafka-data")  # the named volume: a folder here
        path = self.work / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        java = ["java", "-cp", f"{KAFKA_LIBS}/*", f"-Dlog4j2.configurationFile={ROOT}/infra/kafka/log4j2.properties",
                f"-Dkafka.logs.dir={self.logs}"]
        run([*java, "kafka.tools.StorageTool", "format", "-t", CLUSTER_ID, "-c", str(path)])
        self.start("kafka", [*java, "-Xmx768m", "kafka.Kafka", str(path)], {"PATH": os.environ["PATH"]})
        self.healthy("kafka", timeout=90)

    def one_shot(self, name: str) -> None:
        """A job (kafka-setup, topics): its entrypoint or command, to a zero exit."""
        svc = self.compose[name]
        self.mount_volumes(name)
        argv = svc.get("entrypoint") or svc.get("command")
        argv = shlex.split(argv) if isinstance(argv, str) else list(argv)
        began = time.monotonic()
        out = subprocess.run(argv, env=self.env_of(name), cwd=ROOT, capture_output=True, text=True, timeout=600)
        (self.logs / f"{name}.log").write_text(out.stdout + out.stderr)
        self.result["steps"][name] = {"exit": out.returncode, "seconds": round(time.monotonic() - began, 1),
                                      "tail": (out.stdout + out.stderr)[-1500:]}
        if out.returncode != 0:
            raise Failed(f"{name} exited {out.returncode}")

    def postgres(self) -> None:
        """As the postgres image's entrypoint does on an empty volume: initdb with the superuser's
        password, the database POSTGRES_DB, each /docker-entrypoint-initdb.d file in name order
        (*.sql through psql, *.sh run) against a server on its socket only, then the server for
        everyone, password logins (scram-sha-256) over TCP."""
        env = self.env_of("postgres")
        for d in (PG_HOME, PG_SOCKETS):  # the image's paths, private to this namespace
            run(["mount", "-t", "tmpfs", "tmpfs", str(d)])
            shutil.chown(d, "postgres", "postgres")
        self.mount_volumes("postgres")
        data, pg = PG_HOME / "data", pg_bin()
        pwfile = PG_HOME / "pwfile"
        pwfile.write_text(env["POSTGRES_PASSWORD"] + "\n")
        shutil.chown(pwfile, "postgres")
        as_postgres([pg / "initdb", "-D", data, "--username=postgres", f"--pwfile={pwfile}", "--auth-local=trust",
                     "--auth-host=scram-sha-256", "--encoding=UTF8"], env)
        pwfile.unlink()
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write("host all all all scram-sha-256\n")
        as_postgres([pg / "pg_ctl", "-D", data, "-w", "-l", PG_HOME / "init.log", "-o", "-c listen_addresses=''", "start"], env)
        psql = ["psql", "-v", "ON_ERROR_STOP=1", "--username", "postgres", "--no-password", "--no-psqlrc"]
        as_postgres([*psql, "--dbname", "postgres", "-c", f'CREATE DATABASE "{env["POSTGRES_DB"]}"'], env)
        for f in sorted(INITDB.iterdir()):
            if f.suffix == ".sql":
                as_postgres([*psql, "--dbname", env["POSTGRES_DB"], "-f", f], env)
            elif f.suffix == ".sh":
                as_postgres([f] if os.access(f, os.X_OK) else ["sh", f], {**env, "POSTGRES_USER": "postgres"})
            self.result.setdefault("initdb", []).append(f.name)
        as_postgres([pg / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"], env)
        self.start("postgres", [str(pg / "postgres"), "-D", str(data), "-c", "listen_addresses=*"], env, user="postgres")
        self.healthy("postgres", timeout=60)

    def ferretdb(self) -> None:
        """Its image's binary and defaults (listen :27017, debug :8088, state in /state), with the
        environment compose gives it."""
        (self.work / "ferret").mkdir()
        image_env = {"FERRETDB_LISTEN_ADDR": ":27017", "FERRETDB_DEBUG_ADDR": ":8088",
                     "FERRETDB_STATE_DIR": str(self.work / "ferret")}
        self.start("ferretdb", [str(FERRETDB)], {"PATH": os.environ["PATH"], **image_env,
                                                 **{k: str(v) for k, v in self.compose["ferretdb"]["environment"].items()}})
        wait_port(27017, 30)

    def app(self, name: str) -> None:
        svc = self.compose[name]
        argv = svc["command"]
        argv = shlex.split(argv) if isinstance(argv, str) else list(argv)
        self.start(name, [sys.executable if a == "python" else a for a in argv], self.env_of(name))

    def paysim(self) -> None:
        """The payment system's stand-in (not in compose), as the payment system's principal."""
        env = self.env_of("refund", PAYSIM_SECURITY="SASL_SCRAM_256", PAYSIM_USERNAME="payment-system",
                          PAYSIM_PASSWORD=self.secret("payment-system"), PAYSIM_GROUP="payment-system-sim",
                          PAYSIM_HTTP_PORT="8089", KAFKA_BOOTSTRAP="kafka:9092")
        self.start("paysim", [sys.executable, "-m", "sim.payments"], env)

    def secret(self, principal: str) -> str:
        """An outside system's password, from the .env the setup job reads whole (no service sees it)."""
        return self.env_of("kafka-setup")[f"KAFKA_{principal.upper().replace('-', '_')}_PASSWORD"]

    # ---- running things ---------------------------------------------------------------------

    def start(self, name: str, argv: list[str], env: dict[str, str], user: str | None = None) -> None:
        self.procs[name] = subprocess.Popen(argv, env=env, cwd="/" if user else ROOT, user=user,
                                            stdout=open(self.logs / f"{name}.log", "wb"), stderr=subprocess.STDOUT)

    def healthy(self, name: str, timeout: float) -> None:
        """Its compose healthcheck command, run until it passes (as Docker would, every second here)."""
        test = [t.replace("$$", "$") for t in self.compose[name]["healthcheck"]["test"]]  # as compose runs it
        argv = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else \
            [sys.executable if a == "python" else a for a in test[1:]]
        deadline, tries, last = time.monotonic() + timeout, 0, None
        while time.monotonic() < deadline:
            tries += 1
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise Failed(f"{name} exited {proc.returncode}: {(self.logs / f'{name}.log').read_text()[-2000:]}")
            last = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=self.env_of(name))  # in its container
            if last.returncode == 0:
                self.result["healthchecks"][name] = {"passed": True, "tries": tries}
                return
            time.sleep(1)
        self.result["healthchecks"][name] = {"passed": False, "tries": tries,
                                             "last": (last.stdout + last.stderr)[-500:] if last else ""}
        raise Failed(f"{name}'s healthcheck never passed")

    def stop(self) -> None:
        for name, p in reversed(list(self.procs.items())):
            if p.poll() is None:
                # PostgreSQL's SIGTERM waits for its clients to leave; SIGINT is its fast shutdown.
                p.send_signal(signal.SIGINT) if name == "postgres" else p.terminate()
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()

    # ---- a dispute through it all ----------------------------------------------------------

    async def dispute(self) -> dict[str, Any]:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

        from contracts.build import encode, envelope, key_of
        from runtime.stream.kafka_auth import aiokafka_kwargs

        def creds(user: str) -> dict[str, Any]:
            return aiokafka_kwargs("SASL_SCRAM_256", user, self.secret(user))

        order = f"O-compose-{uuid.uuid4().hex[:8]}"
        watch = AIOKafkaConsumer("refund.events", bootstrap_servers="kafka:9092", group_id=None,
                                 auto_offset_reset="earliest", isolation_level="read_committed", **creds("ops"))
        await watch.start()

        async def send(user: str, topic: str, type_: str, data: dict, actor: tuple[str, str]) -> None:
            p = AIOKafkaProducer(bootstrap_servers="kafka:9092", **creds(user))
            await p.start()
            try:
                env = envelope(type_, data, actor={"role": actor[0], "id": actor[1]})
                await p.send_and_wait(topic, encode(env), key=key_of(env))
            finally:
                await p.stop()

        async def seen(type_: str, timeout: float = 60) -> dict | None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for recs in (await watch.getmany(timeout_ms=500)).values():
                    for r in recs:
                        env = json.loads(r.value)
                        if env["data"].get("order_id") == order:
                            self.result.setdefault("events", []).append(env["type"])
                            if env["type"] == type_:
                                return env
            return None

        try:
            await send("order-system", "orders.events", "order.paid", {
                "order_id": order, "buyer_id": "B1", "seller_id": "S1", "amount_fen": 12900, "currency": "CNY",
                "paid_at": "2026-12-01T08:00:00Z"}, ("system", "orders"))
            await send("order-system", "orders.events", "order.shipped", {
                "order_id": order, "carrier": "SF", "tracking_no": "SF1", "shipped_at": "2026-12-01T09:00:00Z"},
                ("system", "orders"))
            await send("buyer-app", "refund.commands", "refund.request", {
                "order_id": order, "kind": "refund_only", "reason": "quality", "amount_fen": 12900,
                "refund_to": "original", "description": "坏了", "evidence": []}, ("buyer", "B1"))
            requested = await seen("refund.requested")
            if requested is None:
                return {"ok": False, "why": "no refund.requested"}
            await send("seller-backend", "seller.commands", "seller.approve", {
                "order_id": order, "refund_id": requested["data"]["refund_id"]}, ("seller", "S1"))
            completed = await seen("refund.completed", timeout=90)
            return {"ok": completed is not None, "order_id": order,
                    "amount_fen": completed["data"]["amount_fen"] if completed else None}
        finally:
            await watch.stop()

    # ---- the database's logins ----------------------------------------------------------------

    async def logins(self) -> dict[str, Any]:
        """What each login may do, after the dispute made every service's collections: its own
        database, what it reads, and nothing else; no login, nothing."""
        from pymongo import AsyncMongoClient
        from pymongo.errors import PyMongoError

        url = self.env_of("refund")["MONGO_URL"].replace("ferretdb", "127.0.0.1")
        ops = {"username": "ops", "password": self.env_of("postgres")["DB_OPS_PASSWORD"]}

        async def attempt(who: str | None, db: str, write: bool = False) -> str:
            env = self.env_of(who) if who in self.compose else {}
            login = ops if who == "ops" else {"username": env["AFTERSALE_MONGO_USERNAME"],
                                              "password": env["AFTERSALE_MONGO_PASSWORD"]} if who else {}
            client = AsyncMongoClient(url if who else url.split("?")[0], serverSelectionTimeoutMS=5000,
                                      timeoutMS=10000, **login)
            try:
                names = sorted(await client[f"aftersale_{db}"].list_collection_names())
                if not names:
                    return "no collection to try"
                coll = client[f"aftersale_{db}"][names[0]]  # one that exists: FerretDB answers none without looking
                if write:
                    await coll.insert_one({"_id": f"probe-{uuid.uuid4().hex[:6]}"})
                else:
                    await coll.find_one({})
                return "allowed"
            except PyMongoError as e:
                return f"refused: {str(e)[-160:]}"  # PostgreSQL's own words come last
            finally:
                await client.close()

        # The refund service's query model holds the dispute (read as the operators' login).
        client = AsyncMongoClient(url, serverSelectionTimeoutMS=5000, timeoutMS=10000, **ops)
        try:
            order_id, refund_db = self.result["dispute"].get("order_id"), client["aftersale_refund"]
            order, deadline = None, time.monotonic() + 30
            while order is None and time.monotonic() < deadline:
                order = await read_order(refund_db, order_id)
                await asyncio.sleep(0.5) if order is None else None
            history = len(await history_of(refund_db, order_id))
            self.result["refund_query_model"] = {"order": order is not None, "history": history}
            # The other query models are written as asynchronously: a change that emitted no event
            # (arbitration following the refund) reaches them up to AFTERSALE_DEFERRED_STATE_S later.
            for db in ("seller", "arbitration"):
                while not await client[f"aftersale_{db}"].list_collection_names() and time.monotonic() < deadline + 30:
                    await asyncio.sleep(0.5)
        finally:
            await client.close()
        return {
            "anonymous reads refund": await attempt(None, "refund"),
            "ops reads refund": await attempt("ops", "refund"),
            "ops writes refund": await attempt("ops", "refund", write=True),
            "refund reads refund": await attempt("refund", "refund"),
            "refund reads arbitration": await attempt("refund", "arbitration"),
            "refund writes arbitration": await attempt("refund", "arbitration", write=True),
            "seller reads refund": await attempt("seller", "refund"),
            "workbench reads arbitration": await attempt("workbench", "arbitration"),
            "workbench reads seller": await attempt("workbench", "seller"),
            "workbench reads refund": await attempt("workbench", "refund"),
            "workbench writes arbitration": await attempt("workbench", "arbitration", write=True),
        }

    # ---- all of it --------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self.namespace()
            self.kafka()
            for job in ("kafka-setup", "topics"):
                self.one_shot(job)
                self.healthy(job, timeout=10)
            self.postgres()
            self.ferretdb()
            for name in ("refund", "seller", "arbitration", "notify", "workbench"):
                self.app(name)
            self.paysim()
            for name in ("refund", "seller", "arbitration", "notify", "workbench"):
                self.healthy(name, timeout=120)
            self.result["dispute"] = asyncio.run(self.dispute())
            self.result["logins"] = asyncio.run(self.logins())
            # kafka-ui's image cannot run here, nor its healthcheck (wget); ferretdb's has none.
            self.result["not_checked"] = ["ferretdb", "kafka-ui"]
        except Exception as e:  # noqa: BLE001 - said in the result, whatever it is
            self.result["failed"] = f"{type(e).__name__}: {e}"
        finally:
            self.stop()
            (self.work / "result.json").write_text(json.dumps(self.result, indent=1, ensure_ascii=False))


class Failed(Exception):
    pass


def pg_bin() -> Path:
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]


def as_postgres(argv: list[Any], env: dict[str, str]) -> None:
    """As the image's entrypoint runs things: the postgres user, its socket, this environment."""
    run(["runuser", "-u", "postgres", "--", "env", *(f"{k}={v}" for k, v in env.items()), *map(str, argv)])


def run(argv: list[str]) -> None:
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode != 0:
        raise Failed(f"{' '.join(argv)}: {out.stderr[-2000:]}")


def wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise Failed(f"nothing listens on {port}")


if __name__ == "__main__":
    Boot(Path(sys.argv[1])).run()
