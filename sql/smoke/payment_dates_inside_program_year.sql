-- check: payment_dates_inside_program_year
-- description: In every dataset-year of general and research payments, at most 1 % of payment dates fall outside the program year (the jobs' --max_rule_violation_ratio); the worst dataset-year is shown.
-- expect: value <= 0.01
SELECT
  round(CAST(outside_year AS double) / total, 6) AS outside_share,
  dataset,
  program_year,
  outside_year,
  total,
  earliest,
  latest
FROM (
  SELECT
    dataset,
    program_year,
    sum(CASE WHEN year(date_of_payment) <> program_year THEN 1 ELSE 0 END) AS outside_year,
    count(*) AS total,
    min(date_of_payment) AS earliest,
    max(date_of_payment) AS latest
  FROM (
    SELECT 'general' AS dataset, program_year, date_of_payment
    FROM general_payments
    UNION ALL
    SELECT 'research' AS dataset, program_year, date_of_payment
    FROM research_payments
  ) AS payments
  GROUP BY dataset, program_year
) AS per_year
ORDER BY outside_share DESC, dataset, program_year
LIMIT 1
