#!/bin/sh
# docker-compose.yml mounts this into the PostGIS image's /docker-entrypoint-initdb.d: it runs once, when the
# image creates its database, as POSTGRES_USER (the superuser, whose password the entrypoint has put in PGPASSWORD).
# The same roles as the private cluster of scripts/run: scripts/lib/database_roles.sql.
# Not `set -eu`: the entrypoint sources this file when it is not executable. It stops on any error of psql.
: "${ATLAS_OWNER_PASSWORD:?is not set}" "${ATLAS_APP_PASSWORD:?is not set}"
# \getenv (psql 15) keeps the passwords off the command line and out of psql's parsing of quotes.
printf '%s\n' '\getenv owner_password ATLAS_OWNER_PASSWORD' '\getenv app_password ATLAS_APP_PASSWORD' \
  "\\i ${ATLAS_ROLES_SQL:-/atlas/database_roles.sql}" \
  | psql -X -q -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
      -v db="${POSTGRES_DB:-atlas}" -v owner=atlas_owner -v app=atlas_app
