import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { buildSync, type Metafile } from "esbuild";
import { zipSync } from "fflate";

const repoRoot = join(__dirname, "..", "..");

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
  /** The reproducible zip (a temporary file named by its hash). */
  readonly zipFile: string;
  /** base64 SHA-256 of the zip: what Lambda reports as CodeSha256 (the function's source_code_hash). */
  readonly sourceCodeHash: string;
  readonly zipBytes: number;
  readonly codeBytes: number;
  /** The largest inputs of the bundle (what its cold start loads), biggest first. */
  readonly largestInputs: { readonly path: string; readonly bytes: number }[];
}

// Fixed timestamps and sorted entries: the same code always gives the same zip, byte for byte.
const ZIP_EPOCH = new Date("1980-01-01T00:00:00Z");

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

/** The zip's bytes, built afresh (no cache): esbuild then fflate with fixed timestamps and sorted entries. */
export function bundleZip(name: BundleName): { zip: Uint8Array; code: Uint8Array; metafile: Metafile } {
  const spec = BUNDLES[name];
  const result = buildSync({
    entryPoints: [join(repoRoot, spec.entry)],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    keepNames: true,
    legalComments: "none",
    write: false,
    metafile: true,
    outfile: join(repoRoot, ".build", "orchestration", name, BUNDLE_MAIN),
    logLevel: "silent",
    absWorkingDir: repoRoot,
  });
  const code = result.outputFiles[0].contents;
  const entries: [string, Uint8Array][] = [
    [BUNDLE_MAIN, code],
    ...spec.extra.flatMap((dir) =>
      filesUnder(dir).map((f): [string, Uint8Array] => [
        f.split("\\").join("/"),
        readFileSync(join(repoRoot, f)),
      ]),
    ),
  ];
  const zip = zipSync(
    Object.fromEntries(
      entries.sort(([a], [b]) => a.localeCompare(b)).map(([p, bytes]) => [p, [bytes, { mtime: ZIP_EPOCH }]]),
    ),
    { level: 9 },
  );
  return { zip, code, metafile: result.metafile };
}

const built = new Map<BundleName, LambdaBundle>();

/** The bundle as a zip file named by its hash (built once per process and name). */
export function buildBundle(name: BundleName): LambdaBundle {
  const cached = built.get(name);
  if (cached) return cached;
  const { zip, code, metafile } = bundleZip(name);
  const sha = createHash("sha256").update(zip);
  const hex = sha.copy().digest("hex");
  const dir = join(tmpdir(), "open-payments-lake-lambda");
  const zipFile = join(dir, `${name}-${hex.slice(0, 32)}.zip`);
  if (!existsSync(zipFile)) {
    mkdirSync(dir, { recursive: true });
    // Write then rename: a concurrent synth never reads a half-written zip.
    const partial = `${zipFile}.${process.pid}.partial`;
    writeFileSync(partial, zip);
    renameSync(partial, zipFile);
  }
  const bundle: LambdaBundle = {
    name,
    zipFile,
    sourceCodeHash: sha.digest("base64"),
    zipBytes: zip.length,
    codeBytes: code.length,
    largestInputs: largestInputs(metafile).map((i) => ({
      ...i,
      path: relative(repoRoot, join(repoRoot, i.path)),
    })),
  };
  built.set(name, bundle);
  return bundle;
}

/**
 * What the CodeBuild project for large files runs (its buildspec) and the local run runs alike: the ingest CLI
 * bundle on one source, against the lake named by the build's environment (a local run's moto endpoint comes in
 * LAKE_LOCAL_AWS_ENDPOINT, which the CLI reads itself). No `${...}`: terraform would read it as interpolation.
 */
export const INGEST_BUILD_COMMAND =
  'node index.js ingest --json --bucket "$RAW_BUCKET" --table "$INGESTION_TABLE" --region "$AWS_REGION" "$INGEST_SOURCE"';
