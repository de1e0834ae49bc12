#!/bin/sh
# Run by the postgres image (docker-compose.yml mounts it in /docker-entrypoint-initdb.d) once, on
# a new data directory, as the superuser: the query models' logins of users.sql, with the
# passwords compose gives this container.
set -eu
for v in DB_REFUND_PASSWORD DB_SELLER_PASSWORD DB_ARBITRATION_PASSWORD DB_NOTIFY_PASSWORD \
         DB_WORKBENCH_PASSWORD DB_OPS_PASSWORD; do
  eval "value=\${$v:-}"
  case "$value" in
    ""|change-me*) echo "compose-users.sh: $v is unset or still the placeholder from .env.example" >&2; exit 1 ;;
  esac
done
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-ferretdb}" \
  -v refund_password="$DB_REFUND_PASSWORD" -v seller_password="$DB_SELLER_PASSWORD" \
  -v arbitration_password="$DB_ARBITRATION_PASSWORD" -v notify_password="$DB_NOTIFY_PASSWORD" \
  -v workbench_password="$DB_WORKBENCH_PASSWORD" -v ops_password="$DB_OPS_PASSWORD" \
  -f /aftersale/users.sql
