#!/usr/bin/env bash
# psql on the PostgreSQL behind an instance's FerretDB (database `ferretdb`; each MongoDB database
# is a schema there). Arguments go to psql, e.g.: AFTERSALE_INSTANCE=test infra/scripts/psql.sh -tAc 'SELECT 1'
source "$(dirname "$0")/common.sh"
[ "$FERRETDB_BACKEND" = postgresql ] || die "this instance's FerretDB runs on $FERRETDB_BACKEND, not PostgreSQL"
as_pg "$(pg_bin)/psql" -h "$PG_DIR" -p "$PG_PORT" -U postgres -d ferretdb "$@"
