-- description: Mart payments_by_manufacturer_year: payments, dollars and distinct recipients per program year and manufacturer (normalized name).
SELECT
  program_year,
  manufacturer_name_normalized AS manufacturer,
  count(*) AS payments,
  sum(amount_usd) AS total_usd,
  count(DISTINCT coalesce(recipient_npi, teaching_hospital_ccn)) AS recipients
FROM v_general_payments
GROUP BY program_year, manufacturer_name_normalized
