#!/usr/bin/env bash
# One-shot job of docker-compose.yml, run in the Kafka image against the broker's internal
# listener: creates the SCRAM users and the ACLs of infra/kafka/acls.tsv. Idempotent.
set -euo pipefail
set -f  # the table's `*` names are Kafka's wildcard, never file names to expand
BIN=/opt/kafka/bin
BOOT=kafka:19092
# The internal listener authenticates too: PLAIN, as admin.
ADMIN=/tmp/admin.properties
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="%s";\n' \
  "${KAFKA_ADMIN_PASSWORD:?set KAFKA_ADMIN_PASSWORD in .env}" > "$ADMIN"
upper() { echo "$1" | tr 'a-z-' 'A-Z_'; }

for user in admin $(grep -v '^#' /setup/acls.tsv | cut -f1 | sort -u); do
  var="KAFKA_$(upper "$user")_PASSWORD"
  pass="${!var:?set $var in .env}"
  $BIN/kafka-configs.sh --bootstrap-server "$BOOT" --command-config "$ADMIN" --alter --entity-type users --entity-name "$user" \
    --add-config "SCRAM-SHA-256=[iterations=8192,password=$pass]" >/dev/null
  echo "user $user ready"
done

# One kafka-acls call per (principal, operation, resource, pattern): the topics go together.
grep -v '^#' /setup/acls.tsv | awk -F'\t' '{k=$1"\t"$2"\t"$3"\t"$5; a[k]=a[k]" --"$3" "$4} END {for (k in a) print k"\t"a[k]}' |
while IFS=$'\t' read -r principal op resource pattern names; do
  extra=()
  [ "$op" = Write ] && extra=(--operation Describe)
  # shellcheck disable=SC2086
  $BIN/kafka-acls.sh --bootstrap-server "$BOOT" --command-config "$ADMIN" --add --allow-principal "User:$principal" --operation "$op" "${extra[@]}" \
    --resource-pattern-type "$pattern" $names >/dev/null
  echo "acl $principal $op $resource ($pattern)"
done
