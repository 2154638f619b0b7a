-- description: Mart top_payers: the 100 manufacturers paying the most in each program year, with their share of the year's dollars (unnamed payers ranked last and left out).
SELECT program_year, payer_rank, manufacturer, payments, total_usd, share_of_year
FROM (
  SELECT
    program_year,
    manufacturer_name_normalized AS manufacturer,
    count(*) AS payments,
    sum(amount_usd) AS total_usd,
    CAST(
      round(100 * sum(amount_usd) / nullif(sum(sum(amount_usd)) OVER (PARTITION BY program_year), 0), 4)
      AS decimal(7, 4)
    ) AS share_of_year,
    CAST(
      row_number() OVER (
        PARTITION BY program_year
        ORDER BY manufacturer_name_normalized IS NULL, sum(amount_usd) DESC, manufacturer_name_normalized
      ) AS integer
    ) AS payer_rank
  FROM v_general_payments
  GROUP BY program_year, manufacturer_name_normalized
) AS ranked
WHERE payer_rank <= 100 AND manufacturer IS NOT NULL
