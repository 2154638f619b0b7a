-- description: General payments per calendar month of payment: payments and dollars (a program year's months are complete only after its June publication).
SELECT
  CAST(date_trunc('month', payment_date) AS date) AS payment_month,
  count(*) AS payments,
  sum(amount_usd) AS total_usd
FROM v_general_payments
GROUP BY CAST(date_trunc('month', payment_date) AS date)
ORDER BY payment_month
