-- description: Mart payments_by_state_specialty_year: payments, dollars and distinct physicians per program year, recipient state and top-level specialty.
SELECT
  program_year,
  recipient_state,
  specialty_top_level,
  count(*) AS payments,
  sum(amount_usd) AS total_usd,
  count(DISTINCT recipient_npi) AS physicians
FROM v_general_payments
GROUP BY program_year, recipient_state, specialty_top_level
