import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { BUILD_DIR, reproducibleZipBytes, writeAtomically } from "../core";

/** Name of the Python package the Glue entry scripts import (contract 3). */
export const PACKAGE_NAME = "open_payments_lake";
/** Where the datasets file travels inside the package, so jobs read layouts from package data on Glue. */
export const PACKAGED_DATASETS_FILE = "open-payments.json";

export interface PythonPackageZip {
  /** The zip Glue loads through --extra-py-files: `open_payments_lake/...` at its root. */
  readonly zipFile: string;
  /** SHA-256 over every file's path and bytes: changes exactly when the package changes. */
  readonly sha256: string;
}

// Byte-code caches and tests are not part of what Glue runs.
const EXCLUDED = /(^|\/)(__pycache__|tests)(\/|$)|\.pyc$/;

export function listFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? listFiles(root, path) : [relative(root, path).split("\\").join("/")];
    })
    .filter((file) => !EXCLUDED.test(file))
    .sort();
}

/** SHA-256 over the sorted paths and contents of `entries`. */
export function contentHash(entries: Array<{ path: string; bytes: Uint8Array }>): string {
  const hash = createHash("sha256");
  for (const entry of [...entries].sort((a, b) => a.path.localeCompare(b.path))) {
    hash.update(entry.path).update("\0").update(entry.bytes).update("\0");
  }
  return hash.digest("hex");
}

/**
 * Zips `<scriptsDir>/open_payments_lake/` plus the datasets file (as `open_payments_lake/open-payments.json`),
 * reproducibly, into a file under .build/ named by the content hash; built once per content and reused by every
 * stack that deploys it.
 */
export function buildPythonPackage(scriptsDir: string, datasetsFile: string): PythonPackageZip {
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
  return reproducibleZip(entries, "glue-package");
}

/**
 * `entries` zipped reproducibly (fixed timestamps, sorted paths) into `.build/<folder>/<sha256>.zip`: built
 * once per content and reused by every stack that deploys it.
 */
export function reproducibleZip(
  entries: Array<{ path: string; bytes: Uint8Array }>,
  folder: string,
): PythonPackageZip {
  const sha256 = contentHash(entries);
  const dir = join(BUILD_DIR, folder);
  const zipFile = join(dir, `${sha256}.zip`);
  if (!existsSync(zipFile)) {
    mkdirSync(dir, { recursive: true });
    writeAtomically(zipFile, reproducibleZipBytes(entries.map((e) => [e.path, e.bytes] as const)));
  }
  return { zipFile, sha256 };
}
