import lake from "../../datasets/open-payments.json";

/** The lake's zones, in data-flow order; `datasets/open-payments.json` is their single source of truth. */
export const ZONES = lake.zones as readonly Zone[];
export type Zone = "raw" | "cleaned" | "curated";

const expected: readonly Zone[] = ["raw", "cleaned", "curated"];
if (ZONES.length !== expected.length || ZONES.some((z, i) => z !== expected[i])) {
  throw new Error(
    `datasets/open-payments.json: zones must be ${expected.join(", ")} (got ${ZONES.join(", ")})`,
  );
}

/**
 * Where the curated Iceberg tables live in the curated bucket (one folder per table): under the curated/ prefix,
 * which the job role may write and the analyst and crawler roles may read.
 */
export const ICEBERG_PREFIX = "curated/iceberg";

/** The folder of one curated Iceberg table in the curated bucket, e.g. `curated/iceberg/general_payments`. */
export function icebergTableFolder(tableName: string): string {
  return `${ICEBERG_PREFIX}/${tableName}`;
}
