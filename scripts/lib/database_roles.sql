-- CSP Atlas: the database, its two roles and PostGIS (SECURITY.md, "Least privilege in the database").
-- A superuser runs it with psql, connected to any database of the cluster, e.g. for an external server:
--
--   psql -h HOST -U postgres -d postgres -v ON_ERROR_STOP=1 -v db=atlas -v owner=atlas_owner -v app=atlas_app
--   postgres=# \set owner_password 'a long random password'
--   postgres=# \set app_password 'another long random password'
--   postgres=# \i scripts/lib/database_roles.sql
--
-- scripts/lib/common.sh (the private cluster) and scripts/lib/docker_initdb.sh (docker compose) run it the same way.
-- It can run again: it creates what is missing, sets the passwords, and hands tables that an earlier set-up made
-- as another role (the superuser, before these roles) to the owner. The app's grants are not here: they follow
-- the schema, so `scripts/atlas db upgrade` applies them as the owner after each migration (server/store/roles.py).

SET client_min_messages = warning;  -- not "extension postgis already exists" at every start

SELECT format('CREATE ROLE %I', :'owner') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I', :'app') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
ALTER ROLE :"app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'app_password';
-- A member of the owner role could SET ROLE to it.
SELECT format('REVOKE %I FROM %I', r.rolname, :'app') FROM pg_auth_members m
JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = :'app') \gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"owner";

\connect :db
SET client_min_messages = warning;
-- Only a superuser may create PostGIS (PostgreSQL 15 does not trust it); the owner's migrations find it here.
CREATE EXTENSION IF NOT EXISTS postgis;
-- Nobody but the schema's owner (the database owner) creates objects in public; PostgreSQL 15's default.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Hand over what an earlier set-up created as another role. Extension members stay the superuser's; sequences
-- of serial and identity columns follow their tables.
SELECT format('ALTER %s %s OWNER TO %I', kind, name, :'owner') FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                ELSE 'TABLE' END AS kind, c.oid::regclass::text AS name
    FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = :'owner')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype IN ('e', 'a', 'i'))
    UNION ALL
    SELECT 'FUNCTION', p.oid::regprocedure::text FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
      AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = :'owner')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                      AND d.deptype = 'e')
    UNION ALL
    SELECT 'TYPE', t.oid::regtype::text FROM pg_type t
    WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r')
      AND t.typowner <> (SELECT oid FROM pg_roles WHERE rolname = :'owner')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                      AND d.deptype = 'e')
) AS objects ORDER BY kind DESC \gexec
