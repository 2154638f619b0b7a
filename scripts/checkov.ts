// checkov over the synthesized Terraform JSON, judged against security/checkov-skips.json.
//
// Inline `checkov:skip` comments cannot be written into cdk.tf.json, so every accepted finding is listed in the
// skips file with its check id, stack and resource address and a justification. The run fails on any failed
// check that no entry justifies, and on any entry that justifies nothing (a stale skip hides the next real
// finding at that address).
//
//   npx tsx scripts/checkov.ts [cdktf.out]     (after `npx cdktf synth`; exit 1 on findings)
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";

const repoRoot = resolve(__dirname, "..");
export const skipsFile = join(repoRoot, "security", "checkov-skips.json");
const checkovBinary = join(repoRoot, ".venv-checkov", "bin", "checkov");

const skipSchema = z.object({
  check: z.string().regex(/^CKV2?_[A-Z0-9]+_\d+$/, "a checkov check id such as CKV_AWS_144"),
  /** Stack name; `*` matches any run of characters (e.g. `lake-*`). */
  stack: z.string().min(1),
  /** Resource address in the stack (`aws_s3_bucket.raw_bucket_1A2B3C4D`); `*` as above. */
  resource: z
    .string()
    .regex(/^[a-z0-9_]+\.[A-Za-z0-9_*-]+$/, "<resource type>.<name>, `*` allowed in the name"),
  justification: z.string().min(40, "say why the finding is acceptable for this resource (40+ characters)"),
});
const skipsSchema = z.object({ $comment: z.string().optional(), skips: z.array(skipSchema) });

export type CheckovSkip = z.infer<typeof skipSchema>;

/** One check result of one resource. */
export interface Finding {
  readonly check: string;
  readonly name: string;
  readonly stack: string;
  readonly resource: string;
}

export interface Verdict {
  readonly passed: number;
  /** Failed checks with the entry that justifies each. */
  readonly justified: ReadonlyArray<{ finding: Finding; skip: CheckovSkip }>;
  /** Failed checks no entry justifies: each one fails the run. */
  readonly unjustified: readonly Finding[];
  /** Entries that match no failed check: each one fails the run. */
  readonly stale: readonly CheckovSkip[];
}

export function loadSkips(file = skipsFile): CheckovSkip[] {
  const parsed = skipsSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`${file} is invalid:\n${issues}`);
  }
  return parsed.data.skips;
}

function pattern(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

function matches(skip: CheckovSkip, finding: Finding): boolean {
  return (
    skip.check === finding.check &&
    pattern(skip.stack).test(finding.stack) &&
    pattern(skip.resource).test(finding.resource)
  );
}

/** Pure judgement of checkov's failed checks against the skips file. */
export function judge(passed: number, failed: readonly Finding[], skips: readonly CheckovSkip[]): Verdict {
  const justified: { finding: Finding; skip: CheckovSkip }[] = [];
  const unjustified: Finding[] = [];
  const used = new Set<CheckovSkip>();
  for (const finding of failed) {
    const skip = skips.find((s) => matches(s, finding));
    if (skip) {
      justified.push({ finding, skip });
      used.add(skip);
    } else {
      unjustified.push(finding);
    }
  }
  return { passed, justified, unjustified, stale: skips.filter((s) => !used.has(s)) };
}

interface CheckovResult {
  readonly check_id: string;
  readonly check_name: string;
  readonly file_path: string;
  readonly resource: string;
}
interface CheckovReport {
  readonly check_type?: string;
  readonly results?: { passed_checks?: CheckovResult[]; failed_checks?: CheckovResult[] };
  readonly summary?: { parsing_errors?: number };
}

/**
 * Runs checkov over `<outdir>/stacks` (every stack directory at once: one start-up) and returns its passed count
 * and failed checks. The stack of a finding is the first segment of its file path.
 */
export async function scanStacks(outdir: string): Promise<{ passed: number; failed: Finding[] }> {
  if (!existsSync(checkovBinary)) {
    throw new Error(
      `${checkovBinary} is missing: run \`make setup\` (it installs requirements-checkov.lock)`,
    );
  }
  const stacksDir = join(outdir, "stacks");
  if (!existsSync(stacksDir))
    throw new Error(`${stacksDir} does not exist: synthesize first (npx cdktf synth)`);
  const args = [
    "-d",
    stacksDir,
    "--framework",
    "terraform_json",
    "-o",
    "json",
    "--skip-download",
    "--compact",
  ];
  // checkov exits 1 when a check fails; its JSON report on stdout is what counts.
  const stdout = await promisify(execFile)(checkovBinary, args, { maxBuffer: 256 * 1024 * 1024 }).then(
    (r) => r.stdout,
    (error: { code?: number; stdout?: string; stderr?: string }) => {
      if (error.code === 1 && error.stdout) return error.stdout;
      throw new Error(`checkov failed (exit ${error.code}):\n${error.stderr ?? ""}`);
    },
  );
  const parsed = JSON.parse(stdout) as CheckovReport | CheckovReport[];
  const reports = (Array.isArray(parsed) ? parsed : [parsed]).filter(
    (r) => r.check_type === "terraform_json",
  );
  if (reports.length !== 1) throw new Error(`checkov scanned no terraform_json files under ${stacksDir}`);
  const report = reports[0];
  if (report?.summary?.parsing_errors) {
    throw new Error(`checkov could not parse ${report.summary.parsing_errors} file(s) under ${stacksDir}`);
  }
  const finding = (r: CheckovResult): Finding => ({
    check: r.check_id,
    name: r.check_name,
    stack: r.file_path.split("/").filter(Boolean)[0] ?? r.file_path,
    resource: r.resource,
  });
  return {
    passed: report?.results?.passed_checks?.length ?? 0,
    failed: (report?.results?.failed_checks ?? []).map(finding),
  };
}

export function describeVerdict(v: Verdict): string {
  const lines = [
    `checkov: ${v.passed} passed, ${v.justified.length} failed but justified in security/checkov-skips.json, ` +
      `${v.unjustified.length} unjustified, ${v.stale.length} stale skip(s)`,
  ];
  for (const f of v.unjustified) lines.push(`  UNJUSTIFIED ${f.check} ${f.stack} ${f.resource}: ${f.name}`);
  for (const s of v.stale)
    lines.push(`  STALE SKIP  ${s.check} ${s.stack} ${s.resource}: matches no failed check`);
  return lines.join("\n");
}

async function main(): Promise<void> {
  const outdir = resolve(process.argv[2] ?? "cdktf.out");
  const { passed, failed } = await scanStacks(outdir);
  const verdict = judge(passed, failed, loadSkips());
  console.log(describeVerdict(verdict));
  if (verdict.unjustified.length > 0 || verdict.stale.length > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 2;
  });
}
