-- description: state_totals.sql answered from curated.
-- params: year
SELECT recipient_state, count(*) AS payments, sum(amount_usd) AS total_usd
FROM v_general_payments
WHERE program_year = ?
GROUP BY recipient_state
ORDER BY total_usd DESC, recipient_state NULLS LAST
