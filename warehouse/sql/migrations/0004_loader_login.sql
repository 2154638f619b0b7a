-- The loader job's login (modules/warehouse WarehouseLoader, LOADER_DATABASE_USER): a member of
-- warehouse_loader with no password. On RDS it also gets rds_iam, so it logs in with an IAM token only (the
-- job's role may rds-db:connect as this user and no other); where rds_iam does not exist (a local server) it
-- cannot log in at all.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'warehouse_loader_iam') THEN
    CREATE ROLE warehouse_loader_iam LOGIN IN ROLE warehouse_loader;
  END IF;
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
    GRANT rds_iam TO warehouse_loader_iam;
  END IF;
END
$$;
