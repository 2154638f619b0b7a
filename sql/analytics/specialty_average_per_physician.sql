-- description: General payments to physicians per program year and top-level specialty: dollars, distinct physicians (by NPI) and the average received per physician.
SELECT
  program_year,
  specialty_top_level,
  count(DISTINCT recipient_npi) AS physicians,
  sum(amount_usd) AS total_usd,
  CAST(round(sum(amount_usd) / count(DISTINCT recipient_npi), 2) AS decimal(18, 2)) AS average_usd_per_physician
FROM v_general_payments
WHERE recipient_npi IS NOT NULL AND specialty_top_level IS NOT NULL
GROUP BY program_year, specialty_top_level
ORDER BY program_year, total_usd DESC, specialty_top_level
