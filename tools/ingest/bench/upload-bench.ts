/**
 * Benchmark: uploads a generated ~1 GB General Payments CSV to a local S3 (moto) with the ingestion CLI and with
 * `aws s3 cp` against the same server in the same run; prints throughput (MB/s) and peak RSS of both.
 *
 *   npx tsx tools/ingest/bench/upload-bench.ts [--size-mb 1024] [--rounds 1] [--keep]
 *
 * Peak RSS comes from GNU time (`/usr/bin/time -v`, maximum resident set size of the process tree).
 */
import { spawn } from "node:child_process";
import { linkSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { localAwsEnv, startMotoServer } from "../../local-aws/moto-server";
import { writeGeneralCsv } from "./general-csv";
import { createIngestionTarget } from "./local-lake";

const repoRoot = resolve(__dirname, "..", "..", "..");

interface Measured {
  readonly tool: string;
  readonly round?: number;
  readonly seconds: number;
  readonly mbPerSecond: number;
  readonly peakRssMb: number;
}

/** Runs a command under GNU time and returns wall seconds and peak RSS; fails loudly on a non-zero exit. */
async function timed(
  tool: string,
  bytes: number,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn("/usr/bin/time", ["-v", command, ...args], {
    env,
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const code: number = await new Promise((ok) => child.on("close", (c) => ok(c ?? -1)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`${tool} exited ${code}\n${stdout}\n${stderr.slice(-4000)}`);
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1]);
  return { tool, seconds, mbPerSecond: bytes / 1e6 / seconds, peakRssMb: rssKb / 1024 };
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number) =>
    args.includes(name) ? Number(args[args.indexOf(name) + 1]) || fallback : fallback;
  const sizeMb = option("--size-mb", 1024);
  const rounds = option("--rounds", 1);
  const work = mkdtempSync(join(tmpdir(), "ingest-bench-"));
  const moto = await startMotoServer();
  try {
    const file = join(work, "OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv");
    process.stderr.write(`generating ${sizeMb} MB General Payments CSV in ${work} ...\n`);
    const generated = await writeGeneralCsv(file, sizeMb * 1024 * 1024);
    process.stderr.write(`${generated.bytes} bytes, ${generated.records} records\n`);

    const env = { ...process.env, ...localAwsEnv };
    const region = localAwsEnv.AWS_REGION;
    const s3 = new S3Client({
      region,
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: localCredentials(),
    });
    const ddb = new DynamoDBClient({ region, endpoint: moto.endpoint, credentials: localCredentials() });
    await createIngestionTarget(s3, ddb, "bench-raw", "bench-ingestion");
    s3.destroy();
    ddb.destroy();

    const ours = (round: number) =>
      timed(
        "ingest CLI",
        generated.bytes,
        process.execPath,
        [
          ...[
            "--import",
            "tsx",
            "tools/ingest/cli.ts",
            "ingest",
            "--bucket",
            "bench-raw",
            "--table",
            "bench-ingestion",
          ],
          ...["--region", region, "--endpoint", moto.endpoint],
          // A new name per round: the same name again would be a no-op (identical content already verified).
          copyAs(file, `OP_DTL_GNRL_PGYR${2023 - round}_P01302025_01212025.csv`),
        ],
        env,
      );
    const awscli = (round: number) =>
      timed(
        "aws s3 cp",
        generated.bytes,
        join(repoRoot, ".venv", "bin", "aws"),
        [
          "--endpoint-url",
          moto.endpoint,
          "s3",
          "cp",
          "--only-show-errors",
          file,
          `s3://bench-raw/awscli/${round}.csv`,
        ],
        env,
      );
    const measured: Measured[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first: moto slows down as it holds more data.
      const order = round % 2 === 0 ? [ours, awscli] : [awscli, ours];
      for (const run of order) measured.push({ ...(await run(round)), round });
    }
    const rows = measured.map((m) => ({
      round: m.round,
      tool: m.tool,
      seconds: Number(m.seconds.toFixed(1)),
      "MB/s": Number(m.mbPerSecond.toFixed(1)),
      "peak RSS MB": Number(m.peakRssMb.toFixed(0)),
    }));
    console.table(rows);
    console.log(JSON.stringify({ bytes: generated.bytes, records: generated.records, results: rows }));
  } finally {
    await moto.stop();
    if (!args.includes("--keep")) rmSync(work, { recursive: true, force: true });
  }
}

/** A hard link under a CMS name (same bytes, no copy on disk). */
function copyAs(file: string, name: string): string {
  const path = join(dirname(file), name);
  if (path !== file) linkSync(file, path);
  return path;
}

function localCredentials() {
  return {
    accessKeyId: localAwsEnv.AWS_ACCESS_KEY_ID,
    secretAccessKey: localAwsEnv.AWS_SECRET_ACCESS_KEY,
    sessionToken: localAwsEnv.AWS_SESSION_TOKEN,
  };
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
