-- description: specialties_in_state.sql answered from curated.
-- params: year, state
SELECT specialty_top_level, count(*) AS payments, sum(amount_usd) AS total_usd,
  count(DISTINCT recipient_npi) AS physicians
FROM v_general_payments
WHERE program_year = ? AND recipient_state = ?
GROUP BY specialty_top_level
ORDER BY total_usd DESC, specialty_top_level NULLS LAST
