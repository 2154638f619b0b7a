-- description: One manufacturer's payments and dollars per program year (dashboard: year over year).
SELECT program_year, payments, total_usd
FROM marts.payments_by_manufacturer_year
WHERE manufacturer = %(manufacturer)s
ORDER BY program_year
