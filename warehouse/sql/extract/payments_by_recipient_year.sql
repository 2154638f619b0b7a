-- description: Mart payments_by_recipient_year: payments and dollars per program year and recipient (physician by NPI, teaching hospital by CCN; the rest in one unidentified row per year).
SELECT
  program_year,
  CASE
    WHEN recipient_npi IS NOT NULL THEN 'physician'
    WHEN teaching_hospital_ccn IS NOT NULL THEN 'teaching hospital'
    ELSE 'unidentified'
  END AS recipient_kind,
  coalesce(recipient_npi, teaching_hospital_ccn) AS recipient_id,
  max(coalesce(teaching_hospital_name, recipient_last_name || ', ' || recipient_first_name)) AS recipient_name,
  max(recipient_state) AS recipient_state,
  count(*) AS payments,
  sum(amount_usd) AS total_usd
FROM v_general_payments
GROUP BY
  program_year,
  CASE
    WHEN recipient_npi IS NOT NULL THEN 'physician'
    WHEN teaching_hospital_ccn IS NOT NULL THEN 'teaching hospital'
    ELSE 'unidentified'
  END,
  coalesce(recipient_npi, teaching_hospital_ccn)
