import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type BuildOptions, buildSync, version as esbuildVersion, type Metafile } from "esbuild";
import { BUILD_DIR, reproducibleZipBytes, writeAtomically } from "../core";

const repoRoot = join(__dirname, "..", "..");

/** Where built bundles are kept between processes (BUILD_DIR: inside the checkout). */
export const BUNDLE_CACHE_DIR = join(BUILD_DIR, "lambda-bundles");

/**
 * What runs in AWS, each bundled from the project's own code: the Lambda handlers (tools/orchestration/handlers,
 * which call tools/ingest and tools/smoke) and, for files too large for Lambda, the ingest CLI itself for CodeBuild.
 */
export const BUNDLES = {
  discover: { entry: "tools/orchestration/handlers/discover.ts", extra: [] },
  ingest: { entry: "tools/orchestration/handlers/ingest.ts", extra: [] },
  smoke: { entry: "tools/orchestration/handlers/smoke.ts", extra: ["sql/smoke"] },
  "landing-validator": { entry: "tools/orchestration/handlers/landing-validator.ts", extra: [] },
  "ingest-cli": { entry: "tools/ingest/cli.ts", extra: [] },
} as const;
export type BundleName = keyof typeof BUNDLES;

/** The file inside each zip that Lambda loads (`index.handler`) or CodeBuild runs (`node index.js ingest ...`). */
export const BUNDLE_MAIN = "index.js";

export interface LambdaBundle {
  readonly name: BundleName;
  /** The reproducible zip (in the cache folder, named by its hash). */
  readonly zipFile: string;
  /** base64 SHA-256 of the zip: what Lambda reports as CodeSha256 (the function's source_code_hash). */
  readonly sourceCodeHash: string;
  readonly zipBytes: number;
  readonly codeBytes: number;
  /** The largest inputs of the bundle (what its cold start loads), biggest first. */
  readonly largestInputs: { readonly path: string; readonly bytes: number }[];
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

function largestInputs(metafile: Metafile): LambdaBundle["largestInputs"] {
  const output = Object.values(metafile.outputs)[0];
  const byPackage = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    // Group node_modules by package (@scope/name), the project's own files stay as they are.
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = m ? m[1] : path;
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()]
    .map(([path, bytes]) => ({ path, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
}

function buildOptions(name: BundleName): BuildOptions & { write: false; metafile: true } {
  return {
    entryPoints: [join(repoRoot, BUNDLES[name].entry)],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    keepNames: true,
    legalComments: "none",
    write: false,
    metafile: true,
    outfile: join(BUILD_DIR, "orchestration", name, BUNDLE_MAIN),
    logLevel: "silent",
    absWorkingDir: repoRoot,
  };
}

/** The files a bundle carries beside its code (e.g. the smoke checks' SQL), by repository path. */
function extraFiles(name: BundleName): [string, Uint8Array][] {
  return BUNDLES[name].extra.flatMap((dir) =>
    filesUnder(dir).map((f): [string, Uint8Array] => [
      f.split("\\").join("/"),
      readFileSync(join(repoRoot, f)),
    ]),
  );
}

/** The zip's bytes, built afresh (no cache): esbuild then fflate with fixed timestamps and sorted entries. */
export function bundleZip(name: BundleName): { zip: Uint8Array; code: Uint8Array; metafile: Metafile } {
  const result = buildSync(buildOptions(name));
  const code = result.outputFiles[0].contents;
  const zip = reproducibleZipBytes([[BUNDLE_MAIN, code], ...extraFiles(name)]);
  return { zip, code, metafile: result.metafile };
}

/**
 * What a bundle was built from, recorded beside its zip. Bundling takes about a second per bundle (esbuild over
 * the AWS SDK) and every synth process, each test file among them, would otherwise repeat it for unchanged code.
 * The zip is reused only while every file esbuild read is unchanged byte for byte, under the same esbuild,
 * options, carried files and package-lock.json, and while the zip itself still has the recorded SHA-256.
 */
interface BundleManifest {
  readonly fingerprint: string;
  /** Every input esbuild read, by path from the repository root, with its SHA-256 (hex). */
  readonly inputs: Record<string, string>;
  /** The zip's file name in the cache folder, and its SHA-256 (hex). */
  readonly zip: string;
  readonly zipSha256: string;
  readonly codeBytes: number;
  readonly largestInputs: LambdaBundle["largestInputs"];
}

const sha256Hex = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

// Per process: the bundles share most of their ~700 inputs (the AWS SDK).
const fileHashes = new Map<string, string | undefined>();
function fileHash(path: string): string | undefined {
  if (!fileHashes.has(path)) {
    const file = join(repoRoot, path);
    fileHashes.set(path, existsSync(file) ? sha256Hex(readFileSync(file)) : undefined);
  }
  return fileHashes.get(path);
}

function fingerprint(name: BundleName): string {
  const hash = createHash("sha256").update(
    JSON.stringify({ esbuildVersion, options: buildOptions(name), spec: BUNDLES[name] }),
  );
  const lock = join(repoRoot, "package-lock.json");
  // Length-prefixed, so no two different lists of files hash alike.
  for (const [path, bytes] of [
    ["package-lock.json", existsSync(lock) ? readFileSync(lock) : new Uint8Array()] as const,
    ...extraFiles(name),
  ]) {
    hash.update(`${path}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest("hex");
}

function toBundle(
  name: BundleName,
  zipFile: string,
  zip: Uint8Array,
  manifest: BundleManifest,
): LambdaBundle {
  return {
    name,
    zipFile,
    sourceCodeHash: Buffer.from(manifest.zipSha256, "hex").toString("base64"),
    zipBytes: zip.length,
    codeBytes: manifest.codeBytes,
    largestInputs: manifest.largestInputs,
  };
}

/** The bundle recorded in `cacheDir`, or undefined when anything it was built from has changed. */
function cachedBundle(name: BundleName, cacheDir: string, fp: string): LambdaBundle | undefined {
  const manifestFile = join(cacheDir, `${name}.json`);
  if (!existsSync(manifestFile)) return undefined;
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as BundleManifest;
  } catch {
    return undefined;
  }
  const inputs = Object.entries(manifest.inputs ?? {});
  if (manifest.fingerprint !== fp || inputs.length === 0) return undefined;
  if (inputs.some(([path, sha]) => fileHash(path) !== sha)) return undefined;
  const zipFile = join(cacheDir, manifest.zip);
  if (!existsSync(zipFile)) return undefined;
  const zip = readFileSync(zipFile);
  if (sha256Hex(zip) !== manifest.zipSha256) return undefined;
  return toBundle(name, zipFile, zip, manifest);
}

const built = new Map<string, LambdaBundle>();

/**
 * The bundle as a zip file named by its hash: built once per process, and reused across processes from
 * `cacheDir` while nothing it was built from has changed (BundleManifest).
 */
export function buildBundle(name: BundleName, cacheDir: string = BUNDLE_CACHE_DIR): LambdaBundle {
  const key = `${cacheDir}\0${name}`;
  const inProcess = built.get(key);
  if (inProcess) return inProcess;
  const fp = fingerprint(name);
  let bundle = cachedBundle(name, cacheDir, fp);
  if (!bundle) {
    const { zip, code, metafile } = bundleZip(name);
    const zipSha256 = sha256Hex(zip);
    const manifest: BundleManifest = {
      fingerprint: fp,
      inputs: Object.fromEntries(Object.keys(metafile.inputs).map((path) => [path, fileHash(path) ?? ""])),
      zip: `${name}-${zipSha256.slice(0, 32)}.zip`,
      zipSha256,
      codeBytes: code.length,
      largestInputs: largestInputs(metafile).map((i) => ({
        ...i,
        path: relative(repoRoot, join(repoRoot, i.path)),
      })),
    };
    const zipFile = join(cacheDir, manifest.zip);
    mkdirSync(cacheDir, { recursive: true });
    writeAtomically(zipFile, zip);
    writeAtomically(join(cacheDir, `${name}.json`), `${JSON.stringify(manifest, null, 1)}\n`);
    bundle = toBundle(name, zipFile, zip, manifest);
  }
  built.set(key, bundle);
  return bundle;
}

/**
 * What the CodeBuild project for large files runs (its buildspec) and the local run runs alike: the ingest CLI
 * bundle on one source, against the lake named by the build's environment (a local run's moto endpoint comes in
 * LAKE_LOCAL_AWS_ENDPOINT, which the CLI reads itself). No `${...}`: terraform would read it as interpolation.
 */
export const INGEST_BUILD_COMMAND =
  'node index.js ingest --json --bucket "$RAW_BUCKET" --table "$INGESTION_TABLE" --region "$AWS_REGION" "$INGEST_SOURCE"';
