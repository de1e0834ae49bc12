# Shared settings of the infrastructure scripts. Sourced, not run.
# An "instance" is one broker + one database with their own ports and folders:
# `dev` for `make run`, `test` for `make test`; both can run side by side.
set -euo pipefail

AFTERSALE_CACHE="${AFTERSALE_CACHE:-$HOME/.cache/aftersale}"
KAFKA_VERSION="${AFTERSALE_KAFKA_VERSION:-4.1.1}"
FERRETDB_VERSION="${AFTERSALE_FERRETDB_VERSION:-v1.24.2}"
KAFKA_LIBS="$AFTERSALE_CACHE/kafka-$KAFKA_VERSION/libs"
FERRETDB_BIN="$AFTERSALE_CACHE/bin/ferretdb-$FERRETDB_VERSION"
INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

INSTANCE="${AFTERSALE_INSTANCE:-dev}"
# Every port stays below 32768, outside Linux's ephemeral range, so no client socket can hold it.
case "$INSTANCE" in
  dev)  def_kafka=9092;  def_ctrl=9093;  def_mongo=27017; def_debug=8088;  def_pg=25432 ;;
  test) def_kafka=19092; def_ctrl=19093; def_mongo=27019; def_debug=18088; def_pg=25433 ;;
  secure) def_kafka=19192; def_ctrl=19193; def_mongo=27039; def_debug=18188; def_pg=25434 ;;
  bench) def_kafka=19292; def_ctrl=19293; def_mongo=27049; def_debug=18288; def_pg=25435 ;;
  cluster) def_kafka=19392; def_ctrl=19393; def_mongo=27059; def_debug=18388; def_pg=25437 ;;
  *)    def_kafka=29092; def_ctrl=29093; def_mongo=27029; def_debug=28088; def_pg=25436 ;;
esac
KAFKA_PORT="${AFTERSALE_KAFKA_PORT:-$def_kafka}"
KAFKA_CONTROLLER_PORT="${AFTERSALE_KAFKA_CONTROLLER_PORT:-$def_ctrl}"
MONGO_PORT="${AFTERSALE_MONGO_PORT:-$def_mongo}"
FERRETDB_DEBUG_PORT="${AFTERSALE_FERRETDB_DEBUG_PORT:-$def_debug}"
STATE_DIR="$AFTERSALE_CACHE/state/$INSTANCE"
KAFKA_DIR="$STATE_DIR/kafka"
# Brokers of the instance's Kafka cluster (KRaft, each also a controller voter). Node i listens on
# KAFKA_PORT + 2(i-1) and its controller on KAFKA_CONTROLLER_PORT + 2(i-1); node 1 keeps the
# single broker's folder, nodes 2.. have node-<i>/ in it.
KAFKA_BROKERS="${AFTERSALE_KAFKA_BROKERS:-1}"
node_dir() { if [ "$1" = 1 ]; then echo "$KAFKA_DIR"; else echo "$KAFKA_DIR/node-$1"; fi; }
node_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
node_ctrl_port() { echo $((KAFKA_CONTROLLER_PORT + 2 * ($1 - 1))); }
nodes() { seq 1 "$KAFKA_BROKERS"; }
kafka_bootstrap() { local i out=""; for i in $(nodes); do out="$out${out:+,}127.0.0.1:$(node_port "$i")"; done; echo "$out"; }
FERRET_DIR="$STATE_DIR/ferretdb"
# FerretDB's backend: PostgreSQL (default: it filters in SQL and takes concurrent writes) or SQLite.
FERRETDB_BACKEND="${AFTERSALE_FERRETDB_BACKEND:-postgresql}"
PG_PORT="${AFTERSALE_PG_PORT:-$def_pg}"
# PostgreSQL refuses to run as root; as root its data lives where the `postgres` user can reach it.
if [ "$(id -u)" = 0 ]; then PG_DIR="${AFTERSALE_PG_DIR:-/var/lib/aftersale/$INSTANCE/postgres}"; else PG_DIR="${AFTERSALE_PG_DIR:-$STATE_DIR/postgres}"; fi
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

say()  { printf '[infra:%s] %s\n' "$INSTANCE" "$*" >&2; }
die()  { printf '[infra:%s] ERROR: %s\n' "$INSTANCE" "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

who_has_port() {
  if command -v ss >/dev/null 2>&1; then ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n 1; fi
}

wait_for_port() {  # port seconds what logfile
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    port_open "$1" && return 0
    sleep 0.1
  done
  [ -n "${4:-}" ] && [ -f "$4" ] && tail -n 30 "$4" >&2
  die "$3 did not open port $1 within $2 s; its log is above (and in $4)"
}
