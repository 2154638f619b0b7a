-- check: amount_scan_is_columnar
-- description: A one-column aggregate over every year of general payments reads at most 2 GiB (raw CSV is 6-9 GB per year), proving the curated zone is columnar.
-- expect: bytes scanned <= 2147483648
SELECT program_year, sum(total_amount_of_payment_usdollars) AS total_usd
FROM general_payments
GROUP BY program_year
