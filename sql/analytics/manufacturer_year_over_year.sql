-- description: General-payment dollars per manufacturer (normalized name) and program year, with the change from the company's previous program year in dollars and percent.
SELECT
  manufacturer,
  program_year,
  total_usd,
  previous_year,
  previous_total_usd,
  total_usd - previous_total_usd AS change_usd,
  round(CAST(total_usd - previous_total_usd AS double) / CAST(previous_total_usd AS double) * 100, 2) AS change_pct
FROM (
  SELECT
    manufacturer,
    program_year,
    total_usd,
    lag(program_year) OVER (PARTITION BY manufacturer ORDER BY program_year) AS previous_year,
    lag(total_usd) OVER (PARTITION BY manufacturer ORDER BY program_year) AS previous_total_usd
  FROM (
    SELECT manufacturer_name_normalized AS manufacturer, program_year, sum(amount_usd) AS total_usd
    FROM v_general_payments
    WHERE manufacturer_name_normalized IS NOT NULL
    GROUP BY manufacturer_name_normalized, program_year
  ) AS yearly
) AS with_previous
ORDER BY manufacturer, program_year
