-- description: Concentration per program year: the share of general-payment dollars carried by the largest 1 % of payments (ceiling of 1 % of the count, ties broken by Record_ID).
SELECT
  program_year,
  count(*) AS payments,
  count_if(payment_rank <= top_count) AS top_payments,
  sum(amount_usd) AS total_usd,
  sum(CASE WHEN payment_rank <= top_count THEN amount_usd ELSE 0 END) AS top_total_usd,
  round(
    CAST(sum(CASE WHEN payment_rank <= top_count THEN amount_usd ELSE 0 END) AS double)
    / CAST(sum(amount_usd) AS double),
    6
  ) AS top_share_of_dollars,
  approx_percentile(amount_usd, 0.99) AS approx_p99_amount_usd
FROM (
  SELECT
    program_year,
    amount_usd,
    row_number() OVER (PARTITION BY program_year ORDER BY amount_usd DESC, record_id) AS payment_rank,
    CAST(ceiling(count(*) OVER (PARTITION BY program_year) * 0.01) AS bigint) AS top_count
  FROM v_general_payments
) AS ranked
GROUP BY program_year
ORDER BY program_year
