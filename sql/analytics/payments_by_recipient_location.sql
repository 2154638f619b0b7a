-- description: General payments per program year, recipient state and city: payments, dollars and distinct recipients (physicians by NPI, hospitals by CCN).
SELECT
  program_year,
  recipient_state,
  recipient_city,
  count(*) AS payments,
  sum(amount_usd) AS total_usd,
  count(DISTINCT coalesce(recipient_npi, teaching_hospital_ccn)) AS recipients
FROM v_general_payments
GROUP BY program_year, recipient_state, recipient_city
ORDER BY program_year, recipient_state, recipient_city
