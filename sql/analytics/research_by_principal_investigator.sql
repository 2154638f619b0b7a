-- description: Research payments per principal investigator NPI (any of the five PI slots) and program year: payments, dollars attributed to the PI (a payment with several PIs counts for each) and studies.
SELECT
  program_year,
  pi_npi,
  count(*) AS payments,
  sum(amount_usd) AS attributed_usd,
  count(DISTINCT study_name) AS studies
FROM (
  SELECT DISTINCT program_year, record_id, amount_usd, study_name, pi_npi
  FROM (
    SELECT program_year, record_id, amount_usd, study_name, pi_1_npi AS pi_npi FROM v_research_payments
    UNION ALL
    SELECT program_year, record_id, amount_usd, study_name, pi_2_npi FROM v_research_payments
    UNION ALL
    SELECT program_year, record_id, amount_usd, study_name, pi_3_npi FROM v_research_payments
    UNION ALL
    SELECT program_year, record_id, amount_usd, study_name, pi_4_npi FROM v_research_payments
    UNION ALL
    SELECT program_year, record_id, amount_usd, study_name, pi_5_npi FROM v_research_payments
  ) AS slots
  WHERE pi_npi IS NOT NULL
) AS investigators
GROUP BY program_year, pi_npi
ORDER BY program_year, attributed_usd DESC, pi_npi
