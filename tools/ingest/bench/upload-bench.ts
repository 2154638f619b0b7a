/**
 * Benchmark: uploads a generated ~1 GB General Payments CSV to a local S3 (moto) with the ingestion CLI and with
 * `aws s3 cp` against the same server in the same run; prints throughput (MB/s) and peak RSS of both.
 *
 *   npx tsx tools/ingest/bench/upload-bench.ts [--size-mb 1024] [--rounds 1] [--keep] [--file <kept CSV>]
 *
 * Each run is timed from process start to exit, against a freshly reset moto (a bucket holding gigabytes slows
 * moto down, which would favour whichever tool runs first). Peak RSS and the tool's CPU time come from GNU time
 * (`/usr/bin/time -v`); moto's CPU time during the run from /proc, since both tools share that cost.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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
  /** User + system CPU seconds of the tool's process tree. */
  readonly cpuSeconds: number;
  readonly motoCpuSeconds: number;
  /** 1-minute load average when the run started (2 cores: above 2 means others compete for the CPU). */
  readonly load: number;
}

/** The moto_server process listening on `port`. */
function motoPid(port: number): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.some((a) => a.endsWith("moto_server")) && argv.includes(String(port))) return Number(entry);
    } catch {
      // the process ended while listing
    }
  }
  throw new Error(`no moto_server process for port ${port}`);
}

/** User + system CPU seconds a process has used so far (clock ticks are 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const loadAverage = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);

/** Runs a command under GNU time and returns wall seconds, CPU and peak RSS; fails loudly on a non-zero exit. */
async function timed(
  tool: string,
  bytes: number,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  moto: number,
): Promise<Measured> {
  const load = loadAverage();
  const motoBefore = cpuSeconds(moto);
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
  const motoCpuSeconds = cpuSeconds(moto) - motoBefore;
  if (code !== 0) throw new Error(`${tool} exited ${code}\n${stdout}\n${stderr.slice(-4000)}`);
  const reported = (label: string) => Number(new RegExp(`${label}: ([\\d.]+)`).exec(stderr)?.[1]);
  return {
    tool,
    seconds,
    mbPerSecond: bytes / 1e6 / seconds,
    peakRssMb: reported("Maximum resident set size \\(kbytes\\)") / 1024,
    cpuSeconds: reported("User time \\(seconds\\)") + reported("System time \\(seconds\\)"),
    motoCpuSeconds,
    load,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main() {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number) =>
    args.includes(name) ? Number(args[args.indexOf(name) + 1]) || fallback : fallback;
  const sizeMb = option("--size-mb", 1024);
  const rounds = option("--rounds", 1);
  const work = mkdtempSync(join(tmpdir(), "ingest-bench-"));
  const moto = await startMotoServer();
  try {
    // --file: a CSV kept from an earlier run (--keep), named like CMS's files; else a new one.
    const kept = args.includes("--file") ? args[args.indexOf("--file") + 1] : undefined;
    const file = kept ?? join(work, "OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv");
    if (!kept) process.stderr.write(`generating ${sizeMb} MB General Payments CSV in ${work} ...\n`);
    const generated = kept
      ? { bytes: statSync(kept).size, records: undefined }
      : await writeGeneralCsv(file, sizeMb * 1024 * 1024);
    process.stderr.write(`${file}: ${generated.bytes} bytes\n`);

    const env = { ...process.env, ...localAwsEnv };
    const region = localAwsEnv.AWS_REGION;
    const pid = motoPid(moto.port);
    /** An empty server with the raw bucket and the ingestion table before every run. */
    const freshTarget = async () => {
      await moto.reset();
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
    };

    const ours = () =>
      timed(
        "ingest CLI",
        generated.bytes,
        process.execPath,
        [
          ...["--import", "tsx", "tools/ingest/cli.ts", "ingest"],
          ...["--bucket", "bench-raw", "--table", "bench-ingestion"],
          ...["--region", region, "--endpoint", moto.endpoint, file],
        ],
        env,
        pid,
      );
    const awscli = () =>
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
          "s3://bench-raw/awscli.csv",
        ],
        env,
        pid,
      );
    const measured: Measured[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first (the machine's load and page cache change over a run).
      const order = round % 2 === 0 ? [ours, awscli] : [awscli, ours];
      for (const run of order) {
        await freshTarget();
        measured.push({ ...(await run()), round });
      }
    }
    const row = (label: string | number, tool: string, m: Omit<Measured, "tool" | "round">) => ({
      round: label,
      tool,
      seconds: Number(m.seconds.toFixed(1)),
      "MB/s": Number(m.mbPerSecond.toFixed(1)),
      "peak RSS MB": Number(m.peakRssMb.toFixed(0)),
      "CPU s": Number(m.cpuSeconds.toFixed(1)),
      "moto CPU s": Number(m.motoCpuSeconds.toFixed(1)),
      load: Number(m.load.toFixed(2)),
    });
    const medians = ["ingest CLI", "aws s3 cp"].map((tool) => {
      const runs = measured.filter((m) => m.tool === tool);
      const of = (pick: (m: Measured) => number) => median(runs.map(pick));
      return row("median", tool, {
        seconds: of((m) => m.seconds),
        mbPerSecond: of((m) => m.mbPerSecond),
        peakRssMb: of((m) => m.peakRssMb),
        cpuSeconds: of((m) => m.cpuSeconds),
        motoCpuSeconds: of((m) => m.motoCpuSeconds),
        load: of((m) => m.load),
      });
    });
    const rows = [...measured.map((m) => row(m.round ?? 0, m.tool, m)), ...medians];
    console.table(rows);
    console.log(JSON.stringify({ bytes: generated.bytes, records: generated.records, results: rows }));
  } finally {
    await moto.stop();
    if (!args.includes("--keep")) rmSync(work, { recursive: true, force: true });
  }
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
