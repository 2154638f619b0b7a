-- description: What the marts must add up to: general payments and dollars per program year, straight from curated.
SELECT program_year, count(*) AS payments, sum(total_amount_of_payment_usdollars) AS total_usd
FROM general_payments
GROUP BY program_year
