-- description: General payments per program year and nature of payment, by count and by dollars, with each nature's share of the year (food is most payments, consulting and royalties most dollars).
SELECT
  program_year,
  payment_nature,
  count(*) AS payments,
  sum(amount_usd) AS total_usd,
  round(CAST(count(*) AS double) / sum(count(*)) OVER (PARTITION BY program_year), 6) AS share_of_payments,
  round(
    CAST(sum(amount_usd) AS double) / CAST(sum(sum(amount_usd)) OVER (PARTITION BY program_year) AS double),
    6
  ) AS share_of_dollars
FROM v_general_payments
GROUP BY program_year, payment_nature
ORDER BY program_year, total_usd DESC, payment_nature
