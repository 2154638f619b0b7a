-- description: Dollars and physicians per top-level specialty in one state and program year (dashboard: spend per specialty).
SELECT specialty_top_level, payments, total_usd, physicians
FROM marts.payments_by_state_specialty_year
WHERE program_year = %(year)s AND recipient_state = %(state)s
ORDER BY total_usd DESC, specialty_top_level NULLS LAST
