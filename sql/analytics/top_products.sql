-- description: The 25 products named most often across the five product slots of general payments per program year; dollars are the full payment amount attributed to every product it names, so they double-count and do not add up to the total.
SELECT program_year, product_rank, product_name, payments, attributed_usd
FROM (
  SELECT
    program_year,
    product_name,
    count(*) AS payments,
    sum(amount_usd) AS attributed_usd,
    row_number() OVER (PARTITION BY program_year ORDER BY sum(amount_usd) DESC, product_name) AS product_rank
  FROM (
    SELECT program_year, amount_usd, product_1_name AS product_name FROM v_general_payments
    UNION ALL
    SELECT program_year, amount_usd, product_2_name FROM v_general_payments
    UNION ALL
    SELECT program_year, amount_usd, product_3_name FROM v_general_payments
    UNION ALL
    SELECT program_year, amount_usd, product_4_name FROM v_general_payments
    UNION ALL
    SELECT program_year, amount_usd, product_5_name FROM v_general_payments
  ) AS slots
  WHERE product_name IS NOT NULL
  GROUP BY program_year, product_name
) AS ranked
WHERE product_rank <= 25
ORDER BY program_year, product_rank
