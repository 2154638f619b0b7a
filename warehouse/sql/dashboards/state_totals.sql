-- description: Payments and dollars per recipient state in a program year (dashboard: spend per state).
SELECT recipient_state, sum(payments)::bigint AS payments, sum(total_usd) AS total_usd
FROM marts.payments_by_state_specialty_year
WHERE program_year = %(year)s
GROUP BY recipient_state
ORDER BY total_usd DESC, recipient_state NULLS LAST
