-- description: The 25 recipients (physicians by NPI, teaching hospitals by CCN) receiving the most general-payment dollars in each program year.
SELECT program_year, recipient_rank, recipient_kind, recipient_id, recipient_name, payments, total_usd
FROM (
  SELECT
    program_year,
    CASE WHEN recipient_npi IS NOT NULL THEN 'physician' ELSE 'teaching hospital' END AS recipient_kind,
    coalesce(recipient_npi, teaching_hospital_ccn) AS recipient_id,
    max(coalesce(teaching_hospital_name, recipient_last_name || ', ' || recipient_first_name)) AS recipient_name,
    count(*) AS payments,
    sum(amount_usd) AS total_usd,
    row_number() OVER (
      PARTITION BY program_year ORDER BY sum(amount_usd) DESC, coalesce(recipient_npi, teaching_hospital_ccn)
    ) AS recipient_rank
  FROM v_general_payments
  WHERE coalesce(recipient_npi, teaching_hospital_ccn) IS NOT NULL
  GROUP BY
    program_year,
    CASE WHEN recipient_npi IS NOT NULL THEN 'physician' ELSE 'teaching hospital' END,
    coalesce(recipient_npi, teaching_hospital_ccn)
) AS ranked
WHERE recipient_rank <= 25
ORDER BY program_year, recipient_rank
