/**
 * Key design of the ingestion audit table (contract 6), shared by the table definition and the ingestion tool.
 *
 * One item per ingestion version of one CMS file:
 *   pk     = FILE#<dataset>#<program_year>#<file stem>   all versions of one file together
 *   sk     = V#<sha256>                                  a changed file (new bytes) is a new item
 *   gsi1pk = DATASET#<dataset>                           history of one dataset...
 *   gsi1sk = PY#<YYYY>#<publication>#<file stem>         ...sorted by program year, then publication
 *
 * "Has this exact file already been ingested?" is one GetItem (pk + sk); "every version of this file" is a
 * Query on pk; "what was loaded for general, PY2023" is a Query on gsi1 with begins_with(gsi1sk, "PY#2023#").
 */
export const INGESTION_TABLE_KEYS = {
  partitionKey: "pk",
  sortKey: "sk",
  historyIndex: "gsi1",
  historyPartitionKey: "gsi1pk",
  historySortKey: "gsi1sk",
} as const;

export interface IngestedFile {
  readonly dataset: string;
  readonly programYear: number;
  readonly fileStem: string;
  readonly publication: string;
  readonly sha256: string;
}

export function ingestionItemKeys(file: IngestedFile): Record<string, string> {
  return {
    [INGESTION_TABLE_KEYS.partitionKey]: `FILE#${file.dataset}#${file.programYear}#${file.fileStem}`,
    [INGESTION_TABLE_KEYS.sortKey]: `V#${file.sha256}`,
    [INGESTION_TABLE_KEYS.historyPartitionKey]: `DATASET#${file.dataset}`,
    [INGESTION_TABLE_KEYS.historySortKey]: `PY#${file.programYear}#${file.publication}#${file.fileStem}`,
  };
}
