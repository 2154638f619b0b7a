-- check: payment_dates_inside_program_year
-- description: No dataset-year of general or research payments has more than 1 % of its payment dates outside the program year (the Glue jobs keep such rows and hold them to --max_rule_violation_ratio 0.01).
-- expect: no rows
SELECT
  dataset,
  program_year,
  outside_year,
  total,
  round(CAST(outside_year AS double) / total, 6) AS outside_share,
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
WHERE CAST(outside_year AS double) / total > 0.01
ORDER BY dataset, program_year
