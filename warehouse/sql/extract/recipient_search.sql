-- description: Mart recipient_search: one row per recipient (physician by NPI, teaching hospital by CCN, the rest in one unidentified row) with name, place, specialty, years and totals, for name search.
SELECT
  CASE
    WHEN recipient_npi IS NOT NULL THEN 'physician'
    WHEN teaching_hospital_ccn IS NOT NULL THEN 'teaching hospital'
    ELSE 'unidentified'
  END AS recipient_kind,
  coalesce(recipient_npi, teaching_hospital_ccn) AS recipient_id,
  max(coalesce(teaching_hospital_name, recipient_last_name || ', ' || recipient_first_name)) AS recipient_name,
  max(recipient_city) AS recipient_city,
  max(recipient_state) AS recipient_state,
  max(specialty_top_level) AS specialty_top_level,
  min(program_year) AS first_program_year,
  max(program_year) AS last_program_year,
  count(*) AS payments,
  sum(amount_usd) AS total_usd
FROM v_general_payments
GROUP BY
  CASE
    WHEN recipient_npi IS NOT NULL THEN 'physician'
    WHEN teaching_hospital_ccn IS NOT NULL THEN 'teaching hospital'
    ELSE 'unidentified'
  END,
  coalesce(recipient_npi, teaching_hospital_ccn)
