-- check: amounts_non_negative
-- description: No curated payment or investment amount is negative.
-- expect: no rows
SELECT dataset, program_year, count(*) AS negative_amounts, min(amount) AS lowest_amount
FROM (
  SELECT 'general' AS dataset, program_year, total_amount_of_payment_usdollars AS amount
  FROM general_payments
  UNION ALL
  SELECT 'research' AS dataset, program_year, total_amount_of_payment_usdollars AS amount
  FROM research_payments
  UNION ALL
  SELECT 'ownership' AS dataset, program_year, total_amount_invested_usdollars AS amount
  FROM ownership_interests
) AS amounts
WHERE amount < 0
GROUP BY dataset, program_year
ORDER BY dataset, program_year
