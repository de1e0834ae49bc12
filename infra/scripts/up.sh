#!/usr/bin/env bash
# Start (or confirm running) Kafka in KRaft mode and one FerretDB, for an instance.
#   AFTERSALE_INSTANCE=dev|test   (ports and folders differ; see common.sh)
#   AFTERSALE_KAFKA_BROKERS=3     a cluster of three brokers (one by default)
#   --fresh                       wipe the instance's data first
# Idempotent: what already runs is left running. Prints the addresses as shell exports.
source "$(dirname "$0")/common.sh"

FRESH=0
SECURE="${AFTERSALE_KAFKA_SECURE:-0}"  # 1: SASL/SCRAM users and ACLs (see ops/security.py)
for a in "$@"; do case "$a" in --fresh) FRESH=1 ;; *) die "unknown option $a (only --fresh)" ;; esac; done

"$(dirname "$0")/fetch.sh"

if [ "$FRESH" = 1 ]; then
  "$(dirname "$0")/down.sh" >/dev/null 2>&1 || true
  rm -rf "$STATE_DIR" "$PG_DIR"
fi
mkdir -p "$KAFKA_DIR/data" "$FERRET_DIR/data"

check_port_free() {  # port what pidfile
  if port_open "$1" && ! pid_alive "$3"; then
    die "port $1 (for $2) is taken by another process ($(who_has_port "$1")); stop it, or pick other ports with AFTERSALE_KAFKA_PORT / AFTERSALE_MONGO_PORT"
  fi
}

start_kafka() {  # node
  local node="$1" dir port ctrl; dir=$(node_dir "$1"); port=$(node_port "$1"); ctrl=$(node_ctrl_port "$1")
  local pidf="$dir/kafka.pid" props="$dir/server.properties"
  mkdir -p "$dir/data"
  if pid_alive "$pidf" && port_open "$port"; then say "Kafka node $node already running (pid $(cat "$pidf"))"; return 0; fi
  check_port_free "$port" Kafka "$pidf"
  check_port_free "$ctrl" "the Kafka controller" "$pidf"
  local client=PLAINTEXT voters="" i
  [ "$SECURE" = 1 ] && client=SASL_PLAINTEXT
  for i in $(nodes); do voters="$voters${voters:+,}$i@127.0.0.1:$(node_ctrl_port "$i")"; done
  # The group offsets and transaction state are as durable as the platform's own topics: on a
  # cluster, 3 copies of which 2 must hold a write (what runtime/stream/layout.py asks of topics).
  local copies=$((KAFKA_BROKERS < 3 ? KAFKA_BROKERS : 3)) in_sync=$((KAFKA_BROKERS < 3 ? 1 : 2))
  cat > "$props" <<PROPS
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=$client://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=$client://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=$client
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=$copies
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$copies
transaction.state.log.min.isr=$in_sync
group.initial.rebalance.delay.ms=0
log.retention.hours=168
PROPS
  local scram=()
  if [ "$SECURE" = 1 ]; then
    # SASL/SCRAM for clients and between brokers; every principal needs an ACL for everything.
    # The controller listener stays PLAINTEXT on loopback (KRaft keeps SCRAM credentials in the
    # metadata log the controller itself serves), so its ANONYMOUS principal is a super user.
    cat >> "$props" <<PROPS
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(password admin)";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
PROPS
    for user in admin $(principals); do scram+=(--add-scram "SCRAM-SHA-256=[name=$user,password=$(password "$user")]"); done
  fi
  if [ ! -f "$dir/data/meta.properties" ]; then
    # Every node of a cluster is formatted with the same cluster id.
    [ -f "$KAFKA_DIR/cluster.id" ] || java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 > "$KAFKA_DIR/cluster.id"
    java -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.properties" -Dkafka.logs.dir="$dir" \
      kafka.tools.StorageTool format -t "$(cat "$KAFKA_DIR/cluster.id")" -c "$props" "${scram[@]}" >"$dir/format.log" 2>&1 \
      || { cat "$dir/format.log" >&2; die "formatting Kafka's storage (node $node) failed"; }
  fi
  say "starting Kafka $KAFKA_VERSION node $node of $KAFKA_BROKERS on 127.0.0.1:$port (logs: $dir)"
  local jmx=()  # the bench reads the broker's request counts over JMX (bench/broker.py)
  [ -n "${AFTERSALE_KAFKA_JMX_PORT:-}" ] && [ "$node" = 1 ] && jmx=(-Dcom.sun.management.jmxremote.port="$AFTERSALE_KAFKA_JMX_PORT"
    -Dcom.sun.management.jmxremote.rmi.port="$AFTERSALE_KAFKA_JMX_PORT" -Djava.rmi.server.hostname=127.0.0.1
    -Dcom.sun.management.jmxremote.host=127.0.0.1 -Dcom.sun.management.jmxremote.authenticate=false
    -Dcom.sun.management.jmxremote.ssl=false)
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true "${jmx[@]}" \
    -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.properties" -Dkafka.logs.dir="$dir" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$props" </dev/null >"$dir/stdout.log" 2>&1 &
  echo $! > "$pidf"
}

start_kafka_cluster() {
  # An instance's state was formatted for one number of brokers: another would not form a quorum.
  local was; was=$(cat "$KAFKA_DIR/brokers" 2>/dev/null || echo "$KAFKA_BROKERS")
  [ "$was" = "$KAFKA_BROKERS" ] || die "instance $INSTANCE was made with $was Kafka broker(s), not $KAFKA_BROKERS: start it with --fresh to remake it"
  [ "$SECURE" = 1 ] && [ "$KAFKA_BROKERS" != 1 ] && die "AFTERSALE_KAFKA_SECURE=1 runs one broker; a secured cluster is the compose file's"
  echo "$KAFKA_BROKERS" > "$KAFKA_DIR/brokers"
  local i
  for i in $(nodes); do start_kafka "$i"; done  # all of them first: a quorum needs a majority to start
  for i in $(nodes); do wait_for_port "$(node_port "$i")" 90 "Kafka node $i" "$(node_dir "$i")/server.log"; done
  if [ "$SECURE" = 1 ]; then apply_acls; fi
}

principals() { grep -v '^#' "$INFRA_DIR/kafka/acls.tsv" | cut -f1 | sort -u; }

# Local secrets only: <user>-<AFTERSALE_KAFKA_SECRET>. A deployment sets real ones (docker-compose.yml).
password() { printf '%s-%s' "$1" "${AFTERSALE_KAFKA_SECRET:-local-secret}"; }

apply_acls() {
  local stamp="$KAFKA_DIR/acls.applied" want
  want=$(sha256sum "$INFRA_DIR/kafka/acls.tsv" | cut -c1-16)
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  say "applying ACLs from infra/kafka/acls.tsv"
  local i
  for ((i = 0; i < 30; i++)); do
    if java -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.properties" -Dkafka.logs.dir="$KAFKA_DIR" \
        "$INFRA_DIR/kafka/CreateAcls.java" "127.0.0.1:$KAFKA_PORT" "$(password admin)" "$INFRA_DIR/kafka/acls.tsv" \
        >"$KAFKA_DIR/acls.log" 2>&1; then
      echo "$want" > "$stamp"; return 0
    fi
    sleep 1
  done
  cat "$KAFKA_DIR/acls.log" >&2
  die "applying the ACLs failed"
}

start_postgres() {
  [ "$FERRETDB_BACKEND" = postgresql ] || return 0
  local bin; bin=$(pg_bin)
  [ -n "$bin" ] || die "PostgreSQL binaries not found (infra/scripts/fetch.sh installs Debian's postgresql)"
  if [ "$(id -u)" = 0 ]; then mkdir -p "$PG_DIR" && chown postgres: "$PG_DIR"; else mkdir -p "$PG_DIR"; fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres --encoding=UTF8 >"$PG_DIR/initdb.log" 2>&1 \
      || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
  fi
  if as_pg "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1 && port_open "$PG_PORT"; then
    say "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    port_open "$PG_PORT" && die "port $PG_PORT (for PostgreSQL) is taken by another process ($(who_has_port "$PG_PORT")); set AFTERSALE_PG_PORT"
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT (data and log: $PG_DIR)"
    as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c synchronous_commit=on" \
      start >/dev/null || { tail -n 20 "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
  fi
  as_pg "$bin/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='ferretdb'" | grep -q 1 \
    || as_pg "$bin/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE ferretdb" >/dev/null
  # Lookups by _id through an index (FerretDB's own query cannot use its index): see the file.
  as_pg "$bin/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -d ferretdb -v ON_ERROR_STOP=1 -q \
    <"$INFRA_DIR/postgres/id-lookups.sql" >"$PG_DIR/id-lookups.log" 2>&1 \
    || { cat "$PG_DIR/id-lookups.log" >&2; die "preparing PostgreSQL for FerretDB's lookups failed"; }
}

start_ferretdb() {
  local pidf="$FERRET_DIR/ferretdb.pid"
  if pid_alive "$pidf" && port_open "$MONGO_PORT"; then say "FerretDB already running (pid $(cat "$pidf"))"; return 0; fi
  check_port_free "$MONGO_PORT" FerretDB "$pidf"
  local backend=(--handler=sqlite --sqlite-url="file:$FERRET_DIR/data/")
  # pgx gives FerretDB max(4, CPUs) connections to PostgreSQL by default: too few for four services.
  [ "$FERRETDB_BACKEND" = postgresql ] && backend=(--handler=postgresql --postgresql-url="postgres://postgres@127.0.0.1:$PG_PORT/ferretdb?pool_max_conns=100")
  say "starting FerretDB $FERRETDB_VERSION ($FERRETDB_BACKEND backend) on 127.0.0.1:$MONGO_PORT (logs: $FERRET_DIR)"
  # Started directly (not inside a subshell) so that $! is FerretDB itself and nothing else
  # keeps our stdout open.
  nohup "$FERRETDB_BIN" --listen-addr="127.0.0.1:$MONGO_PORT" "${backend[@]}" \
    --state-dir="$FERRET_DIR" --debug-addr="127.0.0.1:$FERRETDB_DEBUG_PORT" \
    --telemetry=disable --log-level=warn --log-format=text </dev/null >"$FERRET_DIR/ferretdb.log" 2>&1 &
  echo $! > "$pidf"
  wait_for_port "$MONGO_PORT" 30 FerretDB "$FERRET_DIR/ferretdb.log"
}

start_kafka_cluster
start_postgres
start_ferretdb
say "ready: Kafka $(kafka_bootstrap), MongoDB wire protocol (FerretDB) 127.0.0.1:$MONGO_PORT; state in $STATE_DIR"
echo "export KAFKA_BOOTSTRAP=$(kafka_bootstrap)"
[ "$SECURE" = 1 ] && echo "export AFTERSALE_KAFKA_SECURITY=SASL_SCRAM_256"
echo "export MONGO_URL=mongodb://127.0.0.1:$MONGO_PORT/"
