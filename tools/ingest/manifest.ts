import { randomBytes } from "node:crypto";
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

/** `raw/<dataset>/program_year=<YYYY>/publication=<stamp>/<file stem>/`: every ingestion of the file is under it. */
export function fileFolder(file: FileIdentity): string {
  return `${rawZone}/${file.dataset}/program_year=${file.programYear}/publication=${file.publication}/${file.fileStem}/`;
}

/**
 * `<file folder>ingestion=<id>/`: the folder one ingestion writes, never written again by any other. Its parts
 * and, once every part is verified, its manifest.json (written last: a folder without one is unsealed, and
 * readers ignore it).
 */
export function rawPrefix(file: FileIdentity, ingestionId: string): string {
  return `${fileFolder(file)}${ingestionSegment}${ingestionId}/`;
}

export const ingestionSegment = "ingestion=";

/**
 * A new ingestion id: the UTC time to the millisecond and 6 random hex digits, e.g. `20250201T120304123Z-3f9a1c`.
 * Fixed width, so the lexical order of ingestion folders is their time order (readers take the latest).
 */
export function newIngestionId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(".", "");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/** Whether an id is one of newIngestionId's (runs before per-ingestion folders used UUIDs). */
export const isSortableIngestionId = (id: string) => /^\d{8}T\d{9}Z-[0-9a-f]{6}$/.test(id);

export const partFileName = (index: number) => `part-${String(index).padStart(5, "0")}.csv`;
export const manifestFileName = "manifest.json";
