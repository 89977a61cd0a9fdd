#!/bin/sh
# Run once by the postgres image's entrypoint, when it initializes an empty data volume:
# create Dagster's own database next to the workbook's (POSTGRES_DB, created by the image).
# `docker compose down -v` deletes the volume, so the next `up` runs this again.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v dagster_db="$DAGSTER_POSTGRES_DB" <<'SQL'
select format('create database %I', :'dagster_db')
where not exists (select from pg_database where datname = :'dagster_db')
\gexec
SQL
