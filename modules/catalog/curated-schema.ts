import openPayments from "../../datasets/open-payments.json";

/**
 * The Glue schema of the curated tables, derived from `datasets/open-payments.json` (canonical columns) plus
 * the columns the jobs add (contract 7: provenance on every row, derived analyst columns in curated).
 */

export type CanonicalType = "string" | "decimal" | "date" | "integer" | "boolean";

/** Glue/Hive type of each canonical type; decimal precision matches what the curate job writes. */
export const GLUE_TYPE: Record<CanonicalType, string> = {
  string: "string",
  decimal: "decimal(18,2)",
  date: "date",
  integer: "int",
  boolean: "boolean",
};

export interface GlueColumn {
  readonly name: string;
  readonly type: string;
}

/** The partition column of every cleaned and curated table. */
export const PARTITION_COLUMN: GlueColumn = { name: "program_year", type: GLUE_TYPE.integer };

/** Provenance columns on every cleaned/curated row (contract 7). */
export const PROVENANCE_COLUMNS: GlueColumn[] = [
  { name: "source_object", type: "string" },
  { name: "publication_stamp", type: "string" },
  { name: "layout_id", type: "string" },
  { name: "ingestion_id", type: "string" },
];

export type DatasetId = keyof typeof openPayments.datasets;

export interface CuratedTableSpec {
  readonly dataset: DatasetId;
  readonly tableName: string;
  readonly columns: GlueColumn[];
}

function glueType(dataset: string, column: string, type: string): string {
  if (!(type in GLUE_TYPE)) {
    throw new Error(
      `datasets/open-payments.json: canonicalColumns.${dataset}.${column} has type "${type}"; ` +
        `use one of ${Object.keys(GLUE_TYPE).join(", ")}.`,
    );
  }
  return GLUE_TYPE[type as CanonicalType];
}

function derivedColumns(dataset: DatasetId): GlueColumn[] {
  const hasPaymentDate = openPayments.datasets[dataset].paymentDateColumn !== null;
  return [
    ...(hasPaymentDate ? [{ name: "payment_month", type: GLUE_TYPE.date }] : []),
    { name: "specialty_top_level", type: "string" },
    { name: "manufacturer_name_normalized", type: "string" },
  ];
}

/** Every dataset with a curated table, with its full column list (partition column excluded). */
export function curatedTables(): CuratedTableSpec[] {
  return (Object.keys(openPayments.datasets) as DatasetId[]).flatMap((dataset) => {
    const tableName = openPayments.datasets[dataset].curatedTable;
    if (tableName === null) return [];
    const canonical = openPayments.canonicalColumns[dataset]
      .filter((c) => c.name !== PARTITION_COLUMN.name)
      .map((c) => ({ name: c.name, type: glueType(dataset, c.name, c.type) }));
    return [
      { dataset, tableName, columns: [...canonical, ...PROVENANCE_COLUMNS, ...derivedColumns(dataset)] },
    ];
  });
}

/**
 * The columns of a curated table created as an Iceberg table by Glue's CreateTable, which takes no partitions:
 * the partition column is a plain last column until the curate job adds the partition field.
 */
export function icebergColumns(spec: CuratedTableSpec): GlueColumn[] {
  return [...spec.columns, PARTITION_COLUMN];
}
