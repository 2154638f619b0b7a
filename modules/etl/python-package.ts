import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

/** Name of the Python package the Glue entry scripts import (contract 3). */
export const PACKAGE_NAME = "open_payments_lake";
/** Where the datasets file travels inside the package, so jobs read layouts from package data on Glue. */
export const PACKAGED_DATASETS_FILE = "open-payments.json";

export interface StagedPackage {
  /** Directory holding `open_payments_lake/` ready to be zipped (its content is exactly the zip's). */
  readonly directory: string;
  /** SHA-256 over every file's relative path and bytes: changes exactly when the package changes. */
  readonly sha256: string;
}

// Byte-code caches and tests are not part of what Glue runs.
const EXCLUDED = /(^|\/)(__pycache__|tests)(\/|$)|\.pyc$/;

function listFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? listFiles(root, path) : [relative(root, path)];
    })
    .filter((file) => !EXCLUDED.test(file))
    .sort();
}

/** SHA-256 over the sorted relative paths and contents of `entries`. */
export function contentHash(entries: Array<{ path: string; bytes: Buffer }>): string {
  const hash = createHash("sha256");
  for (const entry of [...entries].sort((a, b) => a.path.localeCompare(b.path))) {
    hash.update(entry.path).update("\0").update(entry.bytes).update("\0");
  }
  return hash.digest("hex");
}

/**
 * Copies `<scriptsDir>/open_payments_lake/` plus the datasets file into a staging directory named by the
 * content hash, so the zip is rebuilt (and re-uploaded under a new key) exactly when something in it changes.
 */
export function stagePythonPackage(scriptsDir: string, datasetsFile: string): StagedPackage {
  const source = join(scriptsDir, PACKAGE_NAME);
  if (!existsSync(source)) {
    throw new Error(`Glue Python package ${source} does not exist; the jobs import ${PACKAGE_NAME} from it.`);
  }
  const entries = [
    ...listFiles(source).map((file) => ({
      path: `${PACKAGE_NAME}/${file}`,
      bytes: readFileSync(join(source, file)),
    })),
    { path: `${PACKAGE_NAME}/${PACKAGED_DATASETS_FILE}`, bytes: readFileSync(datasetsFile) },
  ];
  const sha256 = contentHash(entries);
  const directory = join(tmpdir(), "open-payments-lake-glue-package", sha256);
  if (!existsSync(directory)) {
    // Build next to the final place and rename, so a concurrent synth never sees a half-copied package.
    const partial = `${directory}.${process.pid}.partial`;
    rmSync(partial, { recursive: true, force: true });
    for (const entry of entries) {
      const target = join(partial, entry.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, entry.bytes);
    }
    try {
      renameSync(partial, directory);
    } catch (e) {
      // Another synth staged the same content first: identical by construction.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(directory)) throw e;
    }
  }
  return { directory, sha256 };
}
