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
