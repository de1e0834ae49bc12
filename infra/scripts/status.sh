#!/usr/bin/env bash
# Is an instance's infrastructure up? Exit 0 only when both Kafka and FerretDB answer.
source "$(dirname "$0")/common.sh"
ok=0
show() {  # name pidfile port logdir
  if pid_alive "$2" && port_open "$3"; then echo "$1: running (pid $(cat "$2")) on 127.0.0.1:$3, logs in $4"
  elif pid_alive "$2"; then echo "$1: starting or stuck (pid $(cat "$2")), port $3 closed; logs in $4"; ok=1
  else echo "$1: stopped"; ok=1; fi
}
echo "instance $INSTANCE (state in $STATE_DIR)"
KAFKA_BROKERS=$(cat "$KAFKA_DIR/brokers" 2>/dev/null || echo "$KAFKA_BROKERS")
for i in $(nodes); do
  if [ "$KAFKA_BROKERS" = 1 ]; then name=Kafka; else name="Kafka node $i"; fi
  show "$name" "$(node_dir "$i")/kafka.pid" "$(node_port "$i")" "$(node_dir "$i")"
done
show FerretDB "$FERRET_DIR/ferretdb.pid" "$MONGO_PORT" "$FERRET_DIR"
if [ "$FERRETDB_BACKEND" = postgresql ]; then
  if port_open "$PG_PORT"; then echo "PostgreSQL: running on 127.0.0.1:$PG_PORT, data and log in $PG_DIR"; else echo "PostgreSQL: stopped"; ok=1; fi
fi
exit $ok
