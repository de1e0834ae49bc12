#!/usr/bin/env bash
# Stop an instance's Kafka and FerretDB (TERM, then KILL after a grace period). Idempotent.
source "$(dirname "$0")/common.sh"
told=""  # pidfiles of processes already sent TERM

stop_pid() {  # pidfile name
  local pidf="$1" pid i
  if ! pid_alive "$pidf"; then
    rm -f "$pidf"
    case " $told " in *" $pidf "*) say "$2 stopped" ;; *) say "$2 is not running" ;; esac
    return 0
  fi
  pid=$(cat "$pidf")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then say "$2 did not stop in 15 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidf"
  say "$2 stopped"
}

stop_pid "$FERRET_DIR/ferretdb.pid" FerretDB
if [ "$FERRETDB_BACKEND" = postgresql ] && [ -n "$(pg_bin)" ] && [ -f "$PG_DIR/data/PG_VERSION" ]; then
  if as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    as_pg "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null && say "PostgreSQL stopped"
  else
    say "PostgreSQL is not running"
  fi
fi
# A cluster's brokers are told to stop together: one by one, the last would wait for a quorum
# already gone (15 s, then killed).
for pidf in "$KAFKA_DIR/kafka.pid" "$KAFKA_DIR"/node-*/kafka.pid; do
  if pid_alive "$pidf"; then kill -TERM "$(cat "$pidf")" 2>/dev/null || true; told="$told $pidf"; fi
done
stop_pid "$KAFKA_DIR/kafka.pid" Kafka
for pidf in "$KAFKA_DIR"/node-*/kafka.pid; do  # the other brokers of a cluster, however it was started
  if [ -e "$pidf" ]; then stop_pid "$pidf" "Kafka $(basename "$(dirname "$pidf")")"; fi
done
