-- The FLIP model service's runtime database role: data rights only, no DDL.
--
-- Two roles use the database (SPEC §6; template.yaml):
--   the owner    owns the schema (tables, indexes, alembic_version); its secret is MigrationSecretArn,
--                read only by the migrate function, which runs the Alembic migrations;
--   the runtime  every other function (DbSecretArn): SELECT, INSERT, UPDATE, DELETE on the tables,
--                nothing else: it cannot create, alter, drop or truncate anything, nor grant.
--
-- Once, as the RDS master user (rds_superuser), create both roles and the database:
--   CREATE ROLE flip_owner LOGIN PASSWORD '...';      -- store in the MigrationSecretArn secret
--   CREATE ROLE flip_runtime LOGIN PASSWORD '...';    -- store in the DbSecretArn secret
--   GRANT flip_owner TO CURRENT_USER;                 -- lets the master create a database it owns
--   CREATE DATABASE flip OWNER flip_owner;
-- Then deploy, invoke the migrate function, and run this file AS THE OWNER in that database:
--   psql "host=<endpoint> dbname=flip user=flip_owner sslmode=verify-full sslrootcert=shared/certs/rds-ca-bundle.pem" \
--        -v runtime_role=flip_runtime -f scripts/db/runtime_role.sql
-- Running it again is harmless. Tables that later migrations create get the same rights through the
-- default privileges set below, so a migration needs no new grant.
-- tests/deploy/test_runtime_role.py runs this file on a migrated database and the service's
-- statements as the runtime role.

\set ON_ERROR_STOP on

-- Connect to this database only; create nothing in it (PUBLIC may, on PostgreSQL before 15).
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"DBNAME" TO :"runtime_role";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"runtime_role";

-- The data, today's tables and those migrations create later.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"runtime_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"runtime_role";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"runtime_role";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"runtime_role";

-- The schema's versions are the migrations' business: readable, not writable (FLIP's, the service's,
-- and how the service's first migration found the database).
REVOKE INSERT, UPDATE, DELETE ON TABLE alembic_version FROM :"runtime_role";
REVOKE INSERT, UPDATE, DELETE ON TABLE flip_models_alembic_version FROM :"runtime_role";
REVOKE INSERT, UPDATE, DELETE ON TABLE model_service_install FROM :"runtime_role";
