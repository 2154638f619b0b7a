-- description: The ten manufacturers paying the most in a program year (dashboard: spend per manufacturer).
SELECT manufacturer, total_usd
FROM marts.top_payers
WHERE program_year = %(year)s
ORDER BY payer_rank
LIMIT 10
