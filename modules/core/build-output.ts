import { renameSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { zipSync } from "fflate";

/**
 * Where synth keeps what it builds for deployment (the zips of the code Glue and Lambda run): inside the
 * checkout, which only its owner can write. Not the shared temporary folder, where anybody could leave a file
 * under a zip's predictable name for a later synth to deploy.
 */
export const BUILD_DIR = resolve(__dirname, "..", "..", ".build");

// Fixed timestamps and sorted entries: the same files always give the same zip, byte for byte, so the same
// code always uploads the same object.
const ZIP_EPOCH = new Date("1980-01-01T00:00:00Z");

/** `entries` (path, bytes) as a reproducible zip. */
export function reproducibleZipBytes(entries: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  const sorted = [...entries].sort(([a], [b]) => a.localeCompare(b));
  return zipSync(Object.fromEntries(sorted.map(([path, bytes]) => [path, [bytes, { mtime: ZIP_EPOCH }]])), {
    level: 9,
  });
}

/** Write then rename: a concurrent synth never reads a half-written file. */
export function writeAtomically(file: string, bytes: Uint8Array | string): void {
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, bytes);
  renameSync(partial, file);
}
