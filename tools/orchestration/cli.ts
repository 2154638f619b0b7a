import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { Command } from "commander";
import { runCommand, UsageError } from "../cli/conventions";
import { localAwsEnv, startMotoServer } from "../local-aws/moto-server";
import { WORKGROUP_CHECK_ID } from "../smoke/workgroup-check";
import { handler as validateLanding } from "./handlers/landing-validator";
import { createLocalRefreshTarget, LOCAL_REFRESH_NAMES } from "./local-fixture";
import { drain } from "./local-queue";
import { runRefreshLocally } from "./local-run";
import { type LocalSpark, startLocalSpark } from "./local-spark";

const repoRoot = resolve(__dirname, "..", "..");

/** Small generated CMS files (the project's sample generator), when no files are given. */
function sampleFiles(): { dir: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "refresh-demo-"));
  execFileSync(
    join(repoRoot, ".venv", "bin", "python"),
    [
      join(repoRoot, "glue-scripts", "sample_data.py"),
      ...[
        "--out",
        dir,
        // One dirty record in 250 (quarantined): under the clean job's 1% threshold, so the jobs succeed.
        "--rows",
        "250",
        "--dirty-every",
        "1000",
        "--years",
        "2023",
        "--layouts",
        "general.modern-91,ownership.modern-30",
      ],
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  return {
    dir,
    files: readdirSync(dir)
      .filter((f) => f.endsWith(".csv"))
      .map((f) => join(dir, f)),
  };
}

/**
 * `demo`: the hands-off refresh on a fresh local AWS: CMS files (generated, or --files) are dropped into landing/
 * as a person would, with one mislabelled copy; the landing validator sorts them (S3 → SQS → handler), then the
 * state machine runs (discover → ingest → Glue → smoke → SNS summary) and every step's time is printed.
 * With --spark the Glue jobs' scripts run on local Spark and every smoke check runs on the local Athena engine
 * (about 40 s more); without, moto's job runs only step through states and smoke checks the workgroup alone
 * (docs/orchestration.md: why `make demo` runs without).
 */
async function demo(opts: { files?: string[]; spark?: boolean }, out: (s: string) => void): Promise<number> {
  const given = opts.files?.map((f) => resolve(f));
  for (const f of given ?? []) {
    if (!statSync(f, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`--files ${f}: no such file`);
  }
  const generated = given ? undefined : sampleFiles();
  const files = given ?? generated?.files ?? [];
  Object.assign(process.env, localAwsEnv);
  const moto = await startMotoServer();
  process.env.LAKE_LOCAL_AWS_ENDPOINT = moto.endpoint;
  const lake = await createLocalRefreshTarget(moto.endpoint, localAwsEnv.AWS_REGION);
  const workDir = mkdtempSync(join(tmpdir(), "refresh-demo-spark-"));
  try {
    const drop = (name: string, body: Buffer) =>
      lake.s3.send(
        new PutObjectCommand({ Bucket: LOCAL_REFRESH_NAMES.cleaned, Key: `landing/${name}`, Body: body }),
      );
    for (const f of files) await drop(basename(f), readFileSync(f));
    // A General file saved under a Research name: the validator must refuse it.
    const general = files.find((f) => basename(f).includes("_GNRL_"));
    if (general) await drop(basename(general).replace("_GNRL_", "_RSRCH_"), readFileSync(general));
    await drain(lake.sqs, lake.landingQueue, validateLanding);
    const listed = async (prefix: string) =>
      (await lake.s3.send(new ListObjectsV2Command({ Bucket: LOCAL_REFRESH_NAMES.cleaned, Prefix: prefix })))
        .Contents ?? [];
    const rejected = (await listed("rejected/")).filter((o) => o.Key?.endsWith(".reason.json"));
    out(
      `landing/: ${files.length + (general ? 1 : 0)} files dropped; the validator accepted ${(await listed("incoming/")).length} into incoming/, rejected ${rejected.length} into rejected/ (with the reason beside each)`,
    );

    let spark: LocalSpark | undefined;
    if (opts.spark) {
      const started = Date.now();
      spark = await startLocalSpark({ endpoint: moto.endpoint, dataKeyArn: lake.dataKeyArn, workDir });
      out(`local Spark driver for the Glue jobs started in ${Date.now() - started} ms (log: ${spark.log})`);
    } else {
      out("Glue jobs: moto's job runs only (no script runs; --spark runs them on local Spark)");
    }
    // Without Spark nothing is curated: only the smoke check that reads the workgroup back can run.
    const { smokeLocalWarehouse: _, ...motoSettings } = lake.settings;
    const result = await runRefreshLocally({
      definition: lake.definition(),
      input: { sources: [] },
      endpoint: moto.endpoint,
      region: localAwsEnv.AWS_REGION,
      settings: spark ? lake.settings : { ...motoSettings, smokeOnly: WORKGROUP_CHECK_ID },
      spark,
      onStep: (s) => out(`  ${s.state.padEnd(24)} ${String(s.ms).padStart(6)} ms`),
    }).finally(() => spark?.close());
    const notices = await lake.published();
    out(
      `refresh ${result.status} in ${result.ms} ms${result.status === "FAILED" ? `: ${result.error}: ${result.cause}` : ""}`,
    );
    for (const n of notices) out(`SNS: ${n.Subject}`);
    return result.status === "SUCCEEDED" ? 0 : 1;
  } finally {
    lake.close();
    await moto.stop();
    if (generated) rmSync(generated.dir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  }
}

export async function main(argv: readonly string[], out = (s: string) => process.stdout.write(`${s}\n`)) {
  let code = 0;
  const program = new Command("orchestration")
    .description("The hands-off refresh (docs/orchestration.md), run locally")
    .exitOverride();
  program
    .command("demo")
    .description(
      "run the refresh state machine on a fresh local AWS: landing validator, then the whole refresh",
    )
    .option("--files <paths...>", "CMS CSV files to drop into landing/ (default: small generated samples)")
    .option("--spark", "run the Glue jobs' scripts on local Spark and every smoke check (about 40 s more)")
    .action(async (opts: { files?: string[]; spark?: boolean }) => {
      code = await demo(opts, out);
    });
  return runCommand("orchestration", async () => {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
