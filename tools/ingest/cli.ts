import { createWriteStream } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { errorOutcome, jsonOption, runCommand, worstExitCode } from "../cli/conventions";
import { awsClients } from "./aws";
import { defaultApi, discover } from "./discover";
import { ExitCode, SourceUnreachableError, UsageError } from "./errors";
import { type FileOutcome, type IngestOptions, ingestFile } from "./ingest-file";
import { type Dataset, datasetIds, isDataset } from "./layouts";
import { IngestionLedger } from "./ledger";
import { defaultReporter, type Reporter } from "./progress";
import { RawStore } from "./raw-store";
import { resolveSources } from "./sources";
import { resolveTarget, type TargetFlags } from "./target";
import { captureCompanyTotals } from "./totals";
import { readManifest, rebuildOriginal, sealedFolder, verifyStoredParts } from "./verify";

/** Where the CLI writes: results to `out` (stdout), progress and logs to the reporter (stderr). */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly reporter: () => Reporter;
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  reporter: () => defaultReporter(),
};

function programYear(value: string): number {
  const year = Number(value);
  if (!/^\d{4}$/.test(value) || year < 2013)
    throw new InvalidArgumentError("expected a program year like 2023");
  return year;
}

const units: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = m ? units[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new InvalidArgumentError("expected a size like 256MiB, 64MB or 1048576");
  const bytes = Math.floor(Number(m[1]) * unit);
  // Parts far above 4 GiB defeat parallel parsing in Glue; below 1 KiB a part would be mostly header.
  if (bytes < 1024 || bytes > 4 * 1024 ** 3)
    throw new InvalidArgumentError("part size must be between 1KiB and 4GiB");
  return bytes;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number of seconds");
  return n;
}

/** A share between 0 and 1, e.g. 0.5 for "half". */
export function parseRatio(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError("expected a ratio between 0 and 1, e.g. 0.5");
  return n;
}

function dataset(value: string): Dataset {
  if (!isDataset(value)) throw new InvalidArgumentError(`expected one of ${datasetIds.join(", ")}`);
  return value;
}

function targetOptions(command: Command): Command {
  return command
    .option(
      "--outputs <file>",
      "the lake stack's `terraform output -json` (gives the raw bucket, the ingestion table and the region)",
    )
    .option("--bucket <name>", "raw bucket (overrides --outputs)")
    .option("--table <name>", "ingestion metadata table (overrides --outputs)")
    .option("--region <region>", "AWS region (overrides --outputs; default AWS_REGION)")
    .option("--endpoint <url>", "local AWS endpoint such as moto (default: LAKE_LOCAL_AWS_ENDPOINT)");
}

function summarize(outcome: FileOutcome, bucket: string): string {
  switch (outcome.status) {
    case "verified": {
      const { original, parts } = outcome.manifest;
      return `verified   ${outcome.manifestKey}  ${original.bytes} bytes, ${original.records} records, ${parts.length} part(s), ${outcome.seconds.toFixed(1)} s`;
    }
    case "unchanged":
      return `unchanged  ${outcome.file.fileStem}: ${outcome.reason} (sha256 ${outcome.sha256 ?? "?"})`;
    case "missing":
      return [
        `MISSING    ${outcome.file.fileStem}: the ingestion table says this content is verified` +
          `${outcome.manifestKey ? ` (s3://${bucket}/${outcome.manifestKey})` : ""}, but raw does not hold it:`,
        ...outcome.problems.map((p) => `             ${p}`),
        "           run again with --force to ingest it anew",
      ].join("\n");
    case "busy":
      return `busy       ${outcome.file.fileStem}: another run (${outcome.holder.ingestionId}, started ${outcome.holder.startedAt}) is ingesting it; nothing done`;
    case "planned":
      return [
        `would upload ${outcome.file.fileStem} (${outcome.layout}, ${outcome.bytes} bytes, ${outcome.records} records, sha256 ${outcome.sha256}):`,
        ...outcome.parts.map((p) =>
          p.key.endsWith("manifest.json")
            ? `  s3://${outcome.bucket}/${p.key}`
            : `  s3://${outcome.bucket}/${p.key}  ${p.bytes} bytes, ${p.records} records`,
        ),
      ].join("\n");
    case "failed":
      return (
        `FAILED     ${outcome.source}: ${outcome.error.message}` +
        (outcome.unsealed
          ? `\n           its folder stays unsealed (no manifest.json; readers ignore it): s3://${bucket}/${outcome.unsealed}`
          : "")
      );
  }
}

/** A failed or missing file fails the run (1); an unreachable environment or a usage error says so first. */
function exitCodeOfOutcomes(outcomes: readonly FileOutcome[]): ExitCode {
  return worstExitCode(
    outcomes.flatMap((o) =>
      o.status === "failed"
        ? [errorOutcome(o.error).exitCode]
        : o.status === "missing"
          ? [ExitCode.failed]
          : [],
    ),
  );
}

const examples = `
Examples:
  # What has CMS published for program year 2023?
  $ npm run ingest -- discover --program-year 2023

  # Ingest per-file CSV URLs (or a year ZIP) into the lake described by terraform's outputs
  $ terraform output -json > outputs.json
  $ npm run ingest -- ingest --outputs outputs.json \\
      https://download.cms.gov/openpayments/PGYR2023_P01302025_01212025/OP_DTL_OWNRSHP_PGYR2023_P01302025_01212025.csv

  # The seed's flow: local year folders, files deleted only once verified in S3; preview first
  $ npm run ingest -- ingest --outputs outputs.json --dry-run ./downloads/2023
  $ npm run ingest -- ingest --outputs outputs.json --move ./downloads/2023

  # Local AWS (moto): flags instead of an outputs file
  $ npm run ingest -- ingest --bucket lake-raw --table lake-ingestion --region us-east-1 \\
      --endpoint http://127.0.0.1:5000 ../shared/open-payments/real

  # After the raw bucket was rebuilt: ingest again what the ingestion table says is already there
  $ npm run ingest -- ingest --outputs outputs.json --force ./downloads/2023

  # What was loaded for general payments, PY2023? Is a stored file still byte-identical?
  $ npm run ingest -- history --outputs outputs.json --dataset general --program-year 2023
  $ npm run ingest -- rebuild --outputs outputs.json \\
      raw/general/program_year=2023/publication=P01302025_01212025/OP_DTL_GNRL_PGYR2023_P01302025_01212025/ --out original.csv

Exit codes: 0 ok (including "unchanged" and "busy"), 1 a file failed or is missing from raw (bad input, cut
download, far fewer records than before, checksum mismatch), 2 usage error, 3 environment unreachable (AWS
endpoint, credentials, bucket or table missing; a CMS URL or local path that cannot be read).
See tools/ingest/README.md.`;

export function buildProgram(
  io: CliIo = defaultIo,
  setExit: (code: ExitCode) => void = () => undefined,
): Command {
  const program = new Command("ingest")
    .description(
      "Streams CMS Open Payments files into the lake's raw zone as record-aligned parts with a manifest,\n" +
        "recorded in the ingestion table (DynamoDB): verified, never overwritten, safe to re-run.",
    )
    .addHelpText("after", examples)
    .showHelpAfterError("(add --help for usage and examples)")
    // Before the subcommands are added: they copy these settings when created.
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();

  program
    .command("discover")
    .description(
      "list the files CMS publishes for a program year (from CMS's dataset catalog; datasets matched by title)",
    )
    .requiredOption("--program-year <yyyy>", "program year", programYear)
    .option("--api <url>", "root of CMS's Open Payments data API", defaultApi)
    .addOption(jsonOption())
    .action(async (opts: { programYear: number; api: string; json?: boolean }) => {
      const files = await discover(opts.programYear, opts.api);
      if (opts.json) io.out(`${JSON.stringify(files, null, 2)}\n`);
      else
        for (const f of files)
          io.out(
            `${f.dataset.padEnd(16)} ${f.downloadURL}   (${f.title}; id ${f.identifier}; modified ${f.modified ?? "?"})\n`,
          );
      if (!files.length)
        throw new SourceUnreachableError(`CMS lists no files for program year ${opts.programYear}`);
    });

  targetOptions(
    program
      .command("ingest")
      .description("ingest CMS CSVs or year ZIPs (URLs, local files or folders) into raw/")
      .argument(
        "<sources...>",
        "per-file CSV URLs, year ZIP URLs, s3://<bucket>/<key> CSVs, local CSV/ZIP files or folders",
      ),
  )
    .option("--dry-run", "print exactly what would be uploaded where, with sizes; write nothing")
    .option(
      "--force",
      "ingest even when the same content is already the file's verified version (e.g. after the raw bucket was rebuilt)",
    )
    .addOption(
      new Option(
        "--max-shrink <ratio>",
        "refuse a new version with more than this share fewer records than the previous verified one",
      )
        .default(0.5)
        .argParser(parseRatio),
    )
    .option("--allow-shrink", "accept a new version however many fewer records it has")
    .option("--move", "delete each local file after its upload is verified")
    .addOption(
      new Option("--part-size <size>", "raw part size (record-aligned)")
        .default(256 * 1024 * 1024, "256MiB")
        .argParser(parseSize),
    )
    .option("--program-year <yyyy>", "program year, for files without CMS names", programYear)
    .option(
      "--publication <stamp>",
      "publication stamp (P<MMDDYYYY>[_<MMDDYYYY>]), for files without CMS names",
    )
    .addOption(
      new Option("--lease-seconds <s>", "how long a silent run keeps a file before another may take over")
        .default(900)
        .argParser(positiveSeconds),
    )
    .addOption(
      new Option("--stall-seconds <s>", "give up on a download that sends nothing for this long")
        .default(60)
        .argParser(positiveSeconds),
    )
    .addOption(jsonOption())
    .action(
      async (
        sources: string[],
        opts: TargetFlags & {
          dryRun?: boolean;
          force?: boolean;
          maxShrink: number;
          allowShrink?: boolean;
          move?: boolean;
          partSize: number;
          programYear?: number;
          publication?: string;
          leaseSeconds: number;
          stallSeconds: number;
          json?: boolean;
        },
      ) => {
        if (opts.publication && !/^P\d{8}(_\d{8})?$/.test(opts.publication)) {
          throw new UsageError(
            `--publication ${opts.publication}: expected P<MMDDYYYY> or P<MMDDYYYY>_<MMDDYYYY>`,
          );
        }
        if (opts.move && opts.dryRun) throw new UsageError("--move and --dry-run exclude each other");
        const target = resolveTarget(opts);
        const { s3, ddb } = awsClients(target);
        const reporter = io.reporter();
        const options: IngestOptions = {
          partSize: opts.partSize,
          dryRun: Boolean(opts.dryRun),
          force: Boolean(opts.force),
          maxShrink: opts.maxShrink,
          allowShrink: Boolean(opts.allowShrink),
          move: Boolean(opts.move),
          leaseMs: opts.leaseSeconds * 1000,
          programYear: opts.programYear,
          publication: opts.publication,
        };
        const deps = {
          store: new RawStore(s3, target.rawBucket),
          ledger: new IngestionLedger(ddb, target.table),
          reporter,
        };
        const resolved = await resolveSources(sources, { idleTimeoutMs: opts.stallSeconds * 1000, s3 });
        const outcomes: FileOutcome[] = resolved.failed.map((f) => ({
          status: "failed",
          source: f.source,
          error: f.error,
        }));
        try {
          for (const s of resolved.skipped) reporter.event("skipped", s);
          for (const file of resolved.files) outcomes.push(await ingestFile(file, options, deps));
        } finally {
          resolved.close();
          reporter.close();
          s3.destroy();
          ddb.destroy();
        }
        if (opts.json) io.out(`${JSON.stringify(outcomes.map(jsonOutcome), null, 2)}\n`);
        else for (const o of outcomes) io.out(`${summarize(o, target.rawBucket)}\n`);
        setExit(exitCodeOfOutcomes(outcomes));
      },
    );

  targetOptions(
    program
      .command("history")
      .description("ingestion history of a dataset from the ingestion table, newest publication last"),
  )
    .requiredOption("--dataset <dataset>", `one of ${datasetIds.join(", ")}`, dataset)
    .option("--program-year <yyyy>", "only this program year", programYear)
    .addOption(jsonOption())
    .action(async (opts: TargetFlags & { dataset: Dataset; programYear?: number; json?: boolean }) => {
      const target = resolveTarget(opts);
      const { ddb } = awsClients(target);
      const records = await new IngestionLedger(ddb, target.table).history(opts.dataset, opts.programYear);
      if (opts.json) io.out(`${JSON.stringify(records, null, 2)}\n`);
      else {
        for (const r of records) {
          io.out(
            `${r.programYear} ${r.publication.padEnd(19)} ${r.fileStem} ${r.status.padEnd(8)} ` +
              `${r.records ?? "-"} records ${r.bytes ?? "-"} bytes ${r.updatedAt}${r.reason ? ` reason: ${r.reason}` : ""}\n`,
          );
        }
        if (!records.length) io.out("no ingestions recorded\n");
      }
    });

  targetOptions(
    program
      .command("rebuild")
      .description("rebuild an original file byte for byte from its raw parts and check its SHA-256")
      .argument(
        "<folder>",
        "a file's raw folder, raw/<dataset>/program_year=…/publication=…/<stem>/ (its newest sealed ingestion), or one ingestion's folder, …/<stem>/ingestion=<id>/",
      ),
  )
    .option("--out <file>", "write the rebuilt file here (default: verify only)")
    .addOption(jsonOption())
    .action(async (prefix: string, opts: TargetFlags & { out?: string; json?: boolean }) => {
      const target = resolveTarget(opts);
      const { s3 } = awsClients(target);
      const store = new RawStore(s3, target.rawBucket);
      const folder = await sealedFolder(
        store,
        prefix
          .replace(/^s3:\/\/[^/]+\//, "")
          .replace(/manifest\.json$/, "")
          .replace(/\/?$/, "/"),
      );
      const manifest = await readManifest(store, folder);
      await verifyStoredParts(store, folder, manifest);
      const out = opts.out ? createWriteStream(opts.out) : undefined;
      const result = await rebuildOriginal(store, folder, manifest, out);
      if (out) await new Promise((resolve) => out.end(resolve));
      if (opts.json) {
        io.out(`${JSON.stringify({ folder, ...result, manifest: manifest.original }, null, 2)}\n`);
      } else {
        io.out(
          `${result.matches ? "OK" : "MISMATCH"} ${manifest.original.fileName}: ${result.bytes} bytes, sha256 ${result.sha256}` +
            `${result.matches ? "" : ` (manifest: ${manifest.original.sha256}, ${manifest.original.bytes} bytes)`}\n`,
        );
      }
      if (!result.matches) setExit(ExitCode.failed);
    });

  targetOptions(
    program
      .command("totals")
      .description("capture CMS's per-company totals for a program year into raw/reference/company_totals/"),
  )
    .requiredOption("--program-year <yyyy>", "program year", programYear)
    .option("--title <text>", "CMS summary dataset title to look for", "Payments by Reporting Entity")
    .option("--api <url>", "root of CMS's Open Payments data API", defaultApi)
    .addOption(jsonOption())
    .action(
      async (opts: TargetFlags & { programYear: number; title: string; api: string; json?: boolean }) => {
        const target = resolveTarget(opts);
        const { s3 } = awsClients(target);
        const captured = await captureCompanyTotals(
          new RawStore(s3, target.rawBucket),
          opts.programYear,
          opts.title,
          opts.api,
        );
        io.out(
          opts.json
            ? `${JSON.stringify({ bucket: target.rawBucket, ...captured }, null, 2)}\n`
            : `captured ${captured.rows} rows of "${captured.title}" into s3://${target.rawBucket}/${captured.key}\n`,
        );
      },
    );

  return program;
}

function jsonOutcome(outcome: FileOutcome) {
  return outcome.status === "failed" ? { ...outcome, error: outcome.error.message } : outcome;
}

/** Runs the CLI and returns its exit code (never calls process.exit, so tests can run it in-process). */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let code: ExitCode = ExitCode.ok;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  return runCommand(
    "ingest",
    async () => {
      await program.parseAsync([...argv], { from: "user" });
      return code;
    },
    io.err,
  );
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
