-- marts: what BI reads. marts_load: where the loader builds the next marts before swapping them in (never
-- visible to readers). warehouse_meta: migrations applied and load history (loader and admin only).
CREATE SCHEMA IF NOT EXISTS marts AUTHORIZATION warehouse_admin;
CREATE SCHEMA IF NOT EXISTS marts_load AUTHORIZATION warehouse_admin;
GRANT USAGE ON SCHEMA marts TO warehouse_reader;
-- The loader drops and creates mart tables (it owns them) in both schemas.
GRANT USAGE, CREATE ON SCHEMA marts, marts_load TO warehouse_loader;
GRANT USAGE ON SCHEMA warehouse_meta TO warehouse_loader, warehouse_admin;

-- pg_trgm backs the recipient name search (a trusted extension: RDS and a local server both allow it), in a
-- schema of its own: the loader needs its operator classes to rebuild the marts' indexes, not the public schema.
CREATE SCHEMA IF NOT EXISTS extensions AUTHORIZATION warehouse_admin;
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions;
GRANT USAGE ON SCHEMA extensions TO warehouse_loader, warehouse_admin;

CREATE TABLE IF NOT EXISTS warehouse_meta.loads (
  load_id text PRIMARY KEY,
  loaded_at timestamptz NOT NULL DEFAULT now(),
  source text NOT NULL,
  payments bigint NOT NULL,
  total_usd numeric(20, 2) NOT NULL
);
GRANT SELECT, INSERT ON warehouse_meta.loads TO warehouse_loader;
GRANT SELECT ON warehouse_meta.loads TO warehouse_admin;
