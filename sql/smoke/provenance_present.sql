-- check: provenance_present
-- description: Every curated row names the raw object, publication and layout it came from.
-- expect: no rows
SELECT dataset, program_year, count(*) AS rows_without_provenance
FROM (
  SELECT 'general' AS dataset, program_year, source_object, publication_stamp, layout_id
  FROM general_payments
  UNION ALL
  SELECT 'research' AS dataset, program_year, source_object, publication_stamp, layout_id
  FROM research_payments
  UNION ALL
  SELECT 'ownership' AS dataset, program_year, source_object, publication_stamp, layout_id
  FROM ownership_interests
) AS provenance
WHERE source_object IS NULL OR publication_stamp IS NULL OR layout_id IS NULL
GROUP BY dataset, program_year
ORDER BY dataset, program_year
