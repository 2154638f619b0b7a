-- The marts: general payments (curated general_payments through v_general_payments) aggregated for the
-- dashboards. Each holds only what curated publishes (CMS publishes recipients' names, NPIs and addresses).
-- Their rows come from warehouse/sql/extract/<table>.sql; the loader rebuilds each table with
-- CREATE TABLE ... (LIKE marts.<table> INCLUDING ALL), so this file is the one definition of columns and
-- indexes. Index names are the ones PostgreSQL's default rule gives (<table>_<columns>_idx, shortened to 63
-- characters as PostgreSQL shortens them), the names LIKE gives the copies, so a swapped-in table carries the
-- same index names as the one created here (the tests re-run this file after a load and expect no change).

CREATE TABLE IF NOT EXISTS marts.payments_by_manufacturer_year (
  program_year integer NOT NULL,
  manufacturer text,
  payments bigint NOT NULL,
  total_usd numeric(20, 2) NOT NULL,
  recipients bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_by_manufacturer_year_program_year_total_usd_idx
  ON marts.payments_by_manufacturer_year (program_year, total_usd DESC);
CREATE INDEX IF NOT EXISTS payments_by_manufacturer_year_manufacturer_program_year_idx
  ON marts.payments_by_manufacturer_year (manufacturer, program_year);

CREATE TABLE IF NOT EXISTS marts.payments_by_recipient_year (
  program_year integer NOT NULL,
  recipient_kind text NOT NULL,
  recipient_id text,
  recipient_name text,
  recipient_state text,
  payments bigint NOT NULL,
  total_usd numeric(20, 2) NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_by_recipient_year_recipient_id_program_year_idx
  ON marts.payments_by_recipient_year (recipient_id, program_year);
CREATE INDEX IF NOT EXISTS payments_by_recipient_year_program_year_total_usd_idx
  ON marts.payments_by_recipient_year (program_year, total_usd DESC);

CREATE TABLE IF NOT EXISTS marts.payments_by_state_specialty_year (
  program_year integer NOT NULL,
  recipient_state text,
  specialty_top_level text,
  payments bigint NOT NULL,
  total_usd numeric(20, 2) NOT NULL,
  physicians bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_by_state_specialty_ye_program_year_recipient_state_idx
  ON marts.payments_by_state_specialty_year (program_year, recipient_state);
CREATE INDEX IF NOT EXISTS payments_by_state_specialty_y_specialty_top_level_program_y_idx
  ON marts.payments_by_state_specialty_year (specialty_top_level, program_year);

CREATE TABLE IF NOT EXISTS marts.top_payers (
  program_year integer NOT NULL,
  payer_rank integer NOT NULL,
  manufacturer text NOT NULL,
  payments bigint NOT NULL,
  total_usd numeric(20, 2) NOT NULL,
  share_of_year numeric(7, 4) NOT NULL,
  PRIMARY KEY (program_year, payer_rank)
);

CREATE TABLE IF NOT EXISTS marts.recipient_search (
  recipient_kind text NOT NULL,
  recipient_id text,
  recipient_name text,
  recipient_city text,
  recipient_state text,
  specialty_top_level text,
  first_program_year integer NOT NULL,
  last_program_year integer NOT NULL,
  payments bigint NOT NULL,
  total_usd numeric(20, 2) NOT NULL
);
CREATE INDEX IF NOT EXISTS recipient_search_recipient_name_idx
  ON marts.recipient_search USING gin (recipient_name extensions.gin_trgm_ops);
CREATE INDEX IF NOT EXISTS recipient_search_recipient_id_idx ON marts.recipient_search (recipient_id);
-- Biggest first: a common name fragment is answered by walking this index until 20 rows match.
CREATE INDEX IF NOT EXISTS recipient_search_total_usd_idx ON marts.recipient_search (total_usd DESC);
CREATE INDEX IF NOT EXISTS recipient_search_recipient_state_total_usd_idx
  ON marts.recipient_search (recipient_state, total_usd DESC);

-- The loader owns the marts (it drops and replaces them); readers only select.
DO $$
DECLARE
  mart record;
BEGIN
  FOR mart IN SELECT tablename FROM pg_tables WHERE schemaname = 'marts' LOOP
    EXECUTE format('ALTER TABLE marts.%I OWNER TO warehouse_loader', mart.tablename);
    EXECUTE format('GRANT SELECT ON marts.%I TO warehouse_reader, warehouse_admin', mart.tablename);
  END LOOP;
END
$$;
