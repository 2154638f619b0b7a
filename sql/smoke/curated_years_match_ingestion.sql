-- check: curated_years_match_ingestion
-- description: Each curated table exists and holds, for every program year the ingestion table verified, as many rows as were ingested.
-- expect: matches ingestion
SELECT 'general' AS dataset, program_year, count(*) AS records
FROM general_payments
GROUP BY program_year
UNION ALL
SELECT 'research' AS dataset, program_year, count(*) AS records
FROM research_payments
GROUP BY program_year
UNION ALL
SELECT 'ownership' AS dataset, program_year, count(*) AS records
FROM ownership_interests
GROUP BY program_year
