-- description: The ten manufacturers (normalized names, so spelling variants of one company add up) paying the most general-payment dollars in each program year.
SELECT program_year, manufacturer_rank, manufacturer, payments, total_usd
FROM (
  SELECT
    program_year,
    manufacturer_name_normalized AS manufacturer,
    count(*) AS payments,
    sum(amount_usd) AS total_usd,
    row_number() OVER (
      PARTITION BY program_year ORDER BY sum(amount_usd) DESC, manufacturer_name_normalized
    ) AS manufacturer_rank
  FROM v_general_payments
  WHERE manufacturer_name_normalized IS NOT NULL
  GROUP BY program_year, manufacturer_name_normalized
) AS ranked
WHERE manufacturer_rank <= 10
ORDER BY program_year, manufacturer_rank
