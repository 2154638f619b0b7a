-- The warehouse's three group roles (NOLOGIN: people and services log in as their own users, granted one of
-- these; on RDS those users also get rds_iam for IAM database authentication, docs/warehouse.md).
--   warehouse_reader  BI tools: SELECT on the marts, nothing else
--   warehouse_loader  the loader: builds new mart tables and swaps them in
--   warehouse_admin   owns the schemas; people who change the warehouse
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warehouse_reader') THEN
    CREATE ROLE warehouse_reader NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warehouse_loader') THEN
    CREATE ROLE warehouse_loader NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warehouse_admin') THEN
    CREATE ROLE warehouse_admin NOLOGIN;
  END IF;
END
$$;

-- Nothing is readable or creatable by default: the public schema and temporary tables are closed to PUBLIC,
-- so a reader's only objects are the marts granted below.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
