"""docker-compose.yml is a real deployment: it validates, names every part, pins every image,
and gives every service a healthcheck. Validated by Debian's docker-compose, which needs no engine."""
from __future__ import annotations

import re


import pytest

from tests.deployment.compose import broker_properties, resolve
from tests.support.infra import ROOT

SERVICES = {"refund", "seller", "arbitration", "notify"}


@pytest.fixture(scope="module")
def resolved(tmp_path_factory) -> dict:
    return resolve(tmp_path_factory.mktemp("compose"))


def test_the_compose_file_names_every_part(resolved) -> None:
    assert SERVICES | {"kafka", "postgres", "ferretdb", "kafka-setup", "topics", "kafka-ui", "workbench"} \
        == set(resolved["services"])
    assert set(resolved["volumes"]) >= {"kafka-data", "pg-data"}


# FerretDB's image is one binary without a shell, and its own `ping` asks nothing unless a setup
# database is given (which needs its experimental authentication): the services report whether
# they reach it instead.
WITHOUT_HEALTHCHECK = {"ferretdb"}


def test_every_service_has_a_healthcheck_and_every_image_is_pinned(resolved) -> None:
    for name, svc in resolved["services"].items():
        if name not in WITHOUT_HEALTHCHECK:
            assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        image = svc.get("image", "")
        assert re.fullmatch(r"[\w./-]+:v?\d+(\.\d+)*[\w.-]*", image), f"{name}: image {image!r} is not pinned"
        assert not image.endswith(":latest")


def test_the_services_restart_authenticate_and_take_configuration_from_the_environment(resolved) -> None:
    for name in SERVICES:
        svc = resolved["services"][name]
        env = svc["environment"]
        assert svc["restart"] == "unless-stopped"
        assert env["AFTERSALE_KAFKA_USERNAME"] == name and env["AFTERSALE_KAFKA_SECURITY"] == "SASL_SCRAM_256"
        assert env["AFTERSALE_KAFKA_PASSWORD"].startswith("change-me"), "secrets come from .env"
        assert svc["command"] == ["python", "-m", f"services.{name}"]
        assert svc["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert env["AFTERSALE_INSTANCE_ID"] == "hostname"  # one static member id per replica (--scale)
    kafka = resolved["services"]["kafka"]["environment"]
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "StandardAuthorizer" in kafka["KAFKA_AUTHORIZER_CLASS_NAME"]
    # Every listener authenticates, and admin is the only super user: nobody is anonymous.
    assert kafka["KAFKA_SUPER_USERS"] == "User:admin"
    protocols = dict(p.split(":") for p in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}


def test_the_workbench_writes_decisions_as_the_arbitrator_console(resolved) -> None:
    svc = resolved["services"]["workbench"]
    env = svc["environment"]
    assert svc["command"] == ["python", "-m", "services.arbitration.workbench"]
    assert env["AFTERSALE_KAFKA_USERNAME"] == "arbitrator-console"
    assert env["AFTERSALE_WORKBENCH_SECRET"].startswith("change-me"), "the session key comes from .env"
    assert env["AFTERSALE_WORKBENCH_HTTPS_ONLY"] == "true"


def test_the_image_is_small_pinned_and_runs_as_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", text, re.M)
    assert bases and all(re.search(r":\d+\.\d+\.\d+-slim", b) for b in bases)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")


def test_kafka_ui_reads_as_its_own_principal_behind_a_login_on_loopback(resolved) -> None:
    ui = resolved["services"]["kafka-ui"]
    env = ui["environment"]
    assert 'username="kafka-ui"' in env["KAFKA_CLUSTERS_0_PROPERTIES_SASL_JAAS_CONFIG"]
    assert env["KAFKA_CLUSTERS_0_READONLY"] == "true" and env["AUTH_TYPE"] == "LOGIN_FORM"
    assert env["SPRING_SECURITY_USER_PASSWORD"].startswith("change-me")
    # compose v1 renders a port as "ip:host:container", v2 as a mapping
    assert all((p.startswith("127.0.0.1:") if isinstance(p, str) else p.get("host_ip") == "127.0.0.1")
               for p in ui["ports"])
    from ops.security import acl_rows
    assert {r[1] for r in acl_rows() if r[0] == "kafka-ui"} == {"Read", "Describe", "DescribeConfigs"}


def test_the_broker_has_a_login_module_for_its_sasl_listener(resolved) -> None:
    props = broker_properties(resolved["services"]["kafka"]["environment"])
    assert "SASL_PLAINTEXT://:9092" in props["listeners"]
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-256"
    assert "ScramLoginModule required" in props["listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config"]


def test_the_setup_job_never_expands_the_acl_tables_wildcards() -> None:
    script = (ROOT / "infra/kafka/compose-setup.sh").read_text()
    assert re.search(r"^set -f", script, re.M), "kafka-acls.sh must get `*`, not the files of the working directory"


def test_each_service_sees_its_own_secret_and_no_other_principals(resolved) -> None:
    for name in SERVICES | {"workbench", "topics"}:
        env = resolved["services"][name]["environment"]
        others = [k for k in env if k.startswith("KAFKA_") and k.endswith("_PASSWORD")]
        assert others == [], f"{name} sees {others}"
        assert "env_file" not in resolved["services"][name]


def test_each_part_logs_in_to_the_database_as_itself(resolved) -> None:
    services = resolved["services"]
    roles = set(re.findall(r"^CREATE ROLE (\w+) LOGIN", (ROOT / "infra/postgres/users.sql").read_text(), re.M))
    assert roles == SERVICES | {"workbench", "ops"}
    for name in SERVICES | {"workbench"}:
        env = services[name]["environment"]
        assert env["AFTERSALE_MONGO_USERNAME"] == name
        assert env["AFTERSALE_MONGO_PASSWORD"].startswith("change-me-db-"), "from .env"
        assert "@" not in env["MONGO_URL"] and "authMechanism=PLAIN" in env["MONGO_URL"]
        assert not [k for k in env if k.startswith("DB_")], f"{name} sees other logins' passwords"
    # FerretDB has no login of its own: a client that does not log in gets nothing.
    assert "@" not in services["ferretdb"]["environment"]["FERRETDB_POSTGRESQL_URL"]
    mounts = [v["target"] if isinstance(v, dict) else v.split(":")[1] for v in services["postgres"]["volumes"]]
    assert "/docker-entrypoint-initdb.d/20-users.sh" in mounts and "/aftersale/users.sql" in mounts


def test_one_broker_by_default_with_topics_laid_out_for_it(resolved) -> None:
    assert not {"kafka-2", "kafka-3"} & set(resolved["services"])
    props = broker_properties(resolved["services"]["kafka"]["environment"])
    assert props["controller.quorum.voters"] == "1@kafka:9093" and props["offsets.topic.replication.factor"] == "1"
    for name in SERVICES | {"topics"}:
        env = resolved["services"][name]["environment"]
        assert (env["KAFKA_BOOTSTRAP"], env["AFTERSALE_REPLICATION_FACTOR"], env["AFTERSALE_MIN_INSYNC_REPLICAS"]) \
            == ("kafka:9092", "1", "1")


def test_the_cluster_profile_runs_three_voting_brokers_and_lays_every_topic_on_all_three(tmp_path) -> None:
    cluster = resolve(tmp_path, cluster=True)
    brokers = {n: broker_properties(cluster["services"][n]["environment"]) for n in ("kafka", "kafka-2", "kafka-3")}
    assert {p["node.id"] for p in brokers.values()} == {"1", "2", "3"}
    voters = "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"
    for name, props in brokers.items():
        assert props["controller.quorum.voters"] == voters and props["process.roles"] == "broker,controller"
        assert props["advertised.listeners"] == f"SASL_PLAINTEXT://{name}:9092,INTERNAL://{name}:19092"
        # The group offsets and the transaction log are as durable as the topics: one broker may go.
        assert (props["offsets.topic.replication.factor"], props["transaction.state.log.replication.factor"],
                props["transaction.state.log.min.isr"], props["min.insync.replicas"]) == ("3", "3", "2", "2")
        # Everything else is the single broker's: the same authentication and authorizer.
        same = {k: v for k, v in props.items() if k not in ("node.id", "advertised.listeners")}
        assert same == {k: v for k, v in brokers["kafka"].items() if k not in ("node.id", "advertised.listeners")}
        assert cluster["services"][name]["healthcheck"]["test"][1].count(f"--bootstrap-server {name}:19092") == 1
    volumes = {cluster["services"][n]["volumes"][0].split(":")[0] for n in brokers}
    assert volumes == {"kafka-data", "kafka-2-data", "kafka-3-data"}, "each broker its own disk"
    for name in SERVICES | {"topics", "workbench"}:
        env = cluster["services"][name]["environment"]
        assert env["KAFKA_BOOTSTRAP"] == "kafka:9092,kafka-2:9092,kafka-3:9092"
        assert (env["AFTERSALE_REPLICATION_FACTOR"], env["AFTERSALE_MIN_INSYNC_REPLICAS"], env["AFTERSALE_PARTITIONS"]) \
            == ("3", "2", "6")
