-- The query models' logins, for docker-compose.yml's PostgreSQL behind FerretDB: run once, by
-- compose-users.sh, when the postgres image makes a new data directory.
--
-- FerretDB 1.x has no users of its own: a client logs in (PLAIN) as a PostgreSQL role, and each
-- MongoDB database is a schema of the `ferretdb` database. So each part of the platform is a role
-- that owns its own database and nothing else; a reader gets SELECT on what it reads:
--   refund, seller, arbitration, notify   own aftersale_<service>
--   workbench                             owns aftersale_workbench; reads arbitration's and seller's
--   ops (the operator's CLI)              reads all five
-- Passwords come in as psql variables (compose-users.sh), never in this file.

CREATE ROLE aftersale_apps NOLOGIN;  -- every login below: what all of them may see
CREATE ROLE refund LOGIN PASSWORD :'refund_password' IN ROLE aftersale_apps;
CREATE ROLE seller LOGIN PASSWORD :'seller_password' IN ROLE aftersale_apps;
CREATE ROLE arbitration LOGIN PASSWORD :'arbitration_password' IN ROLE aftersale_apps;
CREATE ROLE notify LOGIN PASSWORD :'notify_password' IN ROLE aftersale_apps;
CREATE ROLE workbench LOGIN PASSWORD :'workbench_password' IN ROLE aftersale_apps;
CREATE ROLE ops LOGIN PASSWORD :'ops_password' IN ROLE aftersale_apps;

-- Each database made now, owned by its part, so no other login can take its name first. FerretDB
-- still runs CREATE SCHEMA IF NOT EXISTS before a database's first collection, which PostgreSQL
-- checks against the right to create schemas even when the schema exists.
CREATE SCHEMA aftersale_refund AUTHORIZATION refund;
CREATE SCHEMA aftersale_seller AUTHORIZATION seller;
CREATE SCHEMA aftersale_arbitration AUTHORIZATION arbitration;
CREATE SCHEMA aftersale_notify AUTHORIZATION notify;
CREATE SCHEMA aftersale_workbench AUTHORIZATION workbench;
GRANT CREATE ON DATABASE ferretdb TO refund, seller, arbitration, notify, workbench;
GRANT USAGE ON SCHEMA aftersale_refund, aftersale_seller, aftersale_arbitration, aftersale_notify,
  aftersale_workbench TO aftersale_apps;

-- Readers: every table the owner makes from now on.
ALTER DEFAULT PRIVILEGES FOR ROLE arbitration IN SCHEMA aftersale_arbitration GRANT SELECT ON TABLES TO workbench, ops;
ALTER DEFAULT PRIVILEGES FOR ROLE seller IN SCHEMA aftersale_seller GRANT SELECT ON TABLES TO workbench, ops;
ALTER DEFAULT PRIVILEGES FOR ROLE refund IN SCHEMA aftersale_refund GRANT SELECT ON TABLES TO ops;
ALTER DEFAULT PRIVILEGES FOR ROLE notify IN SCHEMA aftersale_notify GRANT SELECT ON TABLES TO ops;
ALTER DEFAULT PRIVILEGES FOR ROLE workbench IN SCHEMA aftersale_workbench GRANT SELECT ON TABLES TO ops;

-- Every login may read every database's catalogue (FerretDB's _ferretdb_database_metadata: the
-- names of its collections, no documents). FerretDB 1.x loads the catalogue of all databases
-- once, as whichever login comes first; a catalogue that login could not see would look missing,
-- and FerretDB would then try to make that database again (and drop it when that fails).
CREATE OR REPLACE FUNCTION aftersale_share_catalogue() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' LOOP
    IF (SELECT relname FROM pg_class WHERE oid = r.objid) = '_ferretdb_database_metadata' THEN
      EXECUTE format('GRANT SELECT ON %s TO aftersale_apps', r.objid::regclass);
    END IF;
  END LOOP;
END $$;
CREATE EVENT TRIGGER aftersale_share_catalogue ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION aftersale_share_catalogue();
