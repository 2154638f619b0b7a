-- check: record_id_unique_non_null
-- description: Record_ID is present and unique per dataset and program year in the curated tables.
-- expect: no rows
SELECT dataset, program_year, record_id, copies
FROM (
  SELECT 'general' AS dataset, program_year, record_id, count(*) AS copies
  FROM general_payments
  GROUP BY program_year, record_id
  UNION ALL
  SELECT 'research' AS dataset, program_year, record_id, count(*) AS copies
  FROM research_payments
  GROUP BY program_year, record_id
  UNION ALL
  SELECT 'ownership' AS dataset, program_year, record_id, count(*) AS copies
  FROM ownership_interests
  GROUP BY program_year, record_id
) AS keys
WHERE record_id IS NULL OR trim(record_id) = '' OR copies > 1
ORDER BY dataset, program_year, record_id
