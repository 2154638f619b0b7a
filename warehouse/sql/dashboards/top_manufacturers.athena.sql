-- description: top_manufacturers.sql answered from curated.
-- params: year
SELECT manufacturer_name_normalized AS manufacturer, sum(amount_usd) AS total_usd
FROM v_general_payments
WHERE program_year = ? AND manufacturer_name_normalized IS NOT NULL
GROUP BY manufacturer_name_normalized
ORDER BY total_usd DESC, manufacturer
LIMIT 10
