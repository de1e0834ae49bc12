-- Lookups by _id for FerretDB 1.24 on PostgreSQL: run by infra/scripts/up.sh on every start.
--
-- FerretDB finds a document by _id (find, and the read before every update and replace) with
--   SELECT _jsonb FROM <table> WHERE _jsonb->$1 @> $2
-- which its own btree index on (_jsonb->'_id') cannot serve: every lookup scans the whole
-- collection, so each write to the query model costs more as the collection grows (measured here:
-- ~2 ms of PostgreSQL CPU per lookup at 5,000 documents, ~16 ms for 1 KB documents).
-- Two changes let PostgreSQL use an index instead:
--  1. plan every execution with its parameters (the key '_id' becomes a constant), and
--  2. give every FerretDB table a GIN index on (_jsonb->'_id'), which serves @>.
-- MongoDB itself (docker-compose) needs none of this.

ALTER DATABASE ferretdb SET plan_cache_mode = force_custom_plan;

-- Without fastupdate: by default a GIN index keeps new entries in a pending list, unsorted, that
-- every lookup reads whole until a vacuum merges it (up to 4 MB). A view's lookups then cost more
-- with every document written since: 1.3 ms per lookup at 20,000 new documents, 0.1 ms merged.
CREATE OR REPLACE FUNCTION aftersale_index_id(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE idx text := left((SELECT relname FROM pg_class WHERE oid = tbl), 50) || '_id_gin';
        qualified text := format('%I.%I', (SELECT nspname FROM pg_namespace n JOIN pg_class c
                                           ON c.relnamespace = n.oid WHERE c.oid = tbl), idx);
BEGIN
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> ''_id'')) WITH (fastupdate = off)',
                 idx, tbl);
  -- an index made before: merge what it has pending, and keep it merged from now on
  EXECUTE format('ALTER INDEX %s SET (fastupdate = off)', qualified);
  PERFORM gin_clean_pending_list(qualified::regclass);
END $$;

CREATE OR REPLACE FUNCTION aftersale_on_create_table() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' LOOP
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = r.objid AND attname = '_jsonb' AND NOT attisdropped) THEN
      PERFORM aftersale_index_id(r.objid::regclass);
    END IF;
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS aftersale_id_lookups;
CREATE EVENT TRIGGER aftersale_id_lookups ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION aftersale_on_create_table();

-- Tables created before this trigger existed.
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT a.attrelid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE a.attname = '_jsonb' AND NOT a.attisdropped AND c.relkind = 'r' LOOP
    PERFORM aftersale_index_id(r.attrelid::regclass);
  END LOOP;
END $$;
