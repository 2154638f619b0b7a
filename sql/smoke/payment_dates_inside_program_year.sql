-- check: payment_dates_inside_program_year
-- description: Every general and research payment date falls inside the row's program year.
-- expect: no rows
SELECT dataset, program_year, count(*) AS dates_outside_year, min(date_of_payment) AS earliest, max(date_of_payment) AS latest
FROM (
  SELECT 'general' AS dataset, program_year, date_of_payment
  FROM general_payments
  UNION ALL
  SELECT 'research' AS dataset, program_year, date_of_payment
  FROM research_payments
) AS payments
WHERE year(date_of_payment) <> program_year
GROUP BY dataset, program_year
ORDER BY dataset, program_year
