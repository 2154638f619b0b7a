import { z } from "zod";
import { datasetIds, rawZone } from "./layouts";
import type { FileIdentity } from "./ledger";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();

/** manifest.json beside a file's parts (contract 2). `records` never counts the header line. */
export const manifestSchema = z.object({
  version: z.literal(1),
  ingestionId: z.string().min(1),
  dataset: z.enum(datasetIds as [string, ...string[]]),
  programYear: z.number().int(),
  publication: z.string().regex(/^P\d{8}(_\d{8})?$/),
  layout: z.string().min(1),
  source: z.string().min(1),
  ingestedAt: z.string().min(1),
  original: z.object({ fileName: z.string().min(1), sha256: sha256Hex, bytes: count, records: count }),
  parts: z
    .array(z.object({ key: z.string().min(1), sha256: sha256Hex, bytes: count, records: count }))
    .min(1),
});
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestPart = Manifest["parts"][number];

/** `raw/<dataset>/program_year=<YYYY>/publication=<stamp>/<file stem>/` */
export function rawPrefix(file: FileIdentity): string {
  return `${rawZone}/${file.dataset}/program_year=${file.programYear}/publication=${file.publication}/${file.fileStem}/`;
}

export const partFileName = (index: number) => `part-${String(index).padStart(5, "0")}.csv`;
export const manifestFileName = "manifest.json";
