-- description: recipient_search.sql answered from curated.
-- params: name
SELECT recipient_kind, recipient_id, recipient_name, recipient_state, payments, total_usd
FROM (
  SELECT
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
  GROUP BY 1, 2
) AS recipients
WHERE lower(recipient_name) LIKE '%' || lower(?) || '%'
ORDER BY total_usd DESC, recipient_id
LIMIT 20
