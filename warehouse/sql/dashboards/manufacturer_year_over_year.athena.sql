-- description: manufacturer_year_over_year.sql answered from curated.
-- params: manufacturer
SELECT program_year, count(*) AS payments, sum(amount_usd) AS total_usd
FROM v_general_payments
WHERE manufacturer_name_normalized = ?
GROUP BY program_year
ORDER BY program_year
