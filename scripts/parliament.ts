// parliament (an offline IAM policy linter, PyPI) over every permission and resource policy of the synthesized
// stacks, judged against security/parliament-allowlist.json.
//
// Each policy is linted with its Terraform references resolved (scripts/policies.ts), so ARNs have their real
// shape. Trust policies are left out: they carry no Resource, which parliament reports as malformed; the trust
// tests (__tests__/security) judge them. Numeric and boolean condition values are written as strings first:
// IAM compares them as strings anyway, and parliament 1.6.4 crashes on a number (`s3:TlsVersion: 1.2`).
// The run fails on any finding the allow-list does not justify, and on any entry that matches no finding.
//
// The CI roles' grants for the optional parts are linted from dev and prod with every part on (partVariantPolicies).
//
//   npx tsx scripts/parliament.ts [cdktf.out]     (after `npx cdktf synth`; exit 1 on findings)
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { ROLE_PURPOSES } from "../modules/access";
import { ENVIRONMENTS, loadConfig, Naming } from "../modules/config";
import { Testing } from "../modules/core";
import { addEnvironment } from "../stacks";
import { configWithEveryPart } from "./ci-policy-sizes";
import { type PolicyDocument, type StackPolicy, stackPolicies } from "./policies";

const repoRoot = resolve(__dirname, "..");
export const allowlistFile = join(repoRoot, "security", "parliament-allowlist.json");
const parliamentBinary = join(repoRoot, ".venv-checkov", "bin", "parliament");

const entrySchema = z.object({
  issue: z.string().regex(/^[A-Z_]+$/, "a parliament issue code such as RESOURCE_MISMATCH"),
  /** Stack name; `*` matches any run of characters (e.g. `lake-*`). */
  stack: z.string().min(1),
  /** Address of the resource holding the policy (`aws_iam_role_policy.ci_deploy_policy_A4048F6A`); `*` as above. */
  policy: z
    .string()
    .regex(/^aws_[a-z0-9_*]+\.[A-Za-z0-9_*-]+$/, "<resource type>.<name>, `*` allowed in both"),
  /** Text the finding's detail must contain (the action or condition key it is about). */
  detail: z.string().min(1),
  justification: z.string().min(40, "say why the finding is acceptable for this policy (40+ characters)"),
});
const allowlistSchema = z.object({ $comment: z.string().optional(), allow: z.array(entrySchema) });
export type AllowlistEntry = z.infer<typeof entrySchema>;

export interface ParliamentFinding {
  readonly issue: string;
  readonly severity: string;
  readonly title: string;
  readonly stack: string;
  readonly policy: string;
  /** parliament's detail, as JSON text. */
  readonly detail: string;
}

export interface Verdict {
  readonly linted: number;
  readonly justified: ReadonlyArray<{ finding: ParliamentFinding; entry: AllowlistEntry }>;
  readonly unjustified: readonly ParliamentFinding[];
  readonly stale: readonly AllowlistEntry[];
}

export function loadAllowlist(file = allowlistFile): AllowlistEntry[] {
  const parsed = allowlistSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`${file} is invalid:\n${issues}`);
  }
  return parsed.data.allow;
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
}

function matches(entry: AllowlistEntry, finding: ParliamentFinding): boolean {
  return (
    entry.issue === finding.issue &&
    glob(entry.stack).test(finding.stack) &&
    glob(entry.policy).test(finding.policy) &&
    finding.detail.includes(entry.detail)
  );
}

/** Pure judgement of parliament's findings against the allow-list. */
export function judge(
  linted: number,
  findings: readonly ParliamentFinding[],
  entries: readonly AllowlistEntry[],
): Verdict {
  const justified: { finding: ParliamentFinding; entry: AllowlistEntry }[] = [];
  const unjustified: ParliamentFinding[] = [];
  const used = new Set<AllowlistEntry>();
  for (const finding of findings) {
    const entry = entries.find((e) => matches(e, finding));
    if (entry) {
      justified.push({ finding, entry });
      used.add(entry);
    } else unjustified.push(finding);
  }
  return { linted, justified, unjustified, stale: entries.filter((e) => !used.has(e)) };
}

/** IAM compares condition values as strings; parliament 1.6.4 crashes on JSON numbers. */
export function stringifyConditionValues(doc: PolicyDocument): PolicyDocument {
  const text = (v: unknown) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v);
  return {
    ...doc,
    Statement: doc.Statement.map((s) =>
      s.Condition === undefined
        ? s
        : {
            ...s,
            Condition: Object.fromEntries(
              Object.entries(s.Condition).map(([op, keys]) => [
                op,
                Object.fromEntries(
                  Object.entries(keys).map(([k, v]) => [k, Array.isArray(v) ? v.map(text) : text(v)]),
                ),
              ]),
            ),
          },
    ),
  };
}

/** Every lintable policy of the synthesized stacks under `<outdir>/stacks`, references resolved. */
export function synthesizedPolicies(outdir: string): StackPolicy[] {
  const stacksDir = join(outdir, "stacks");
  if (!existsSync(stacksDir))
    throw new Error(`${stacksDir} does not exist: synthesize first (npx cdktf synth)`);
  return readdirSync(stacksDir).flatMap((stack) => {
    const environment = ENVIRONMENTS.find((e) => stack.endsWith(`-${e}`));
    if (!environment) throw new Error(`stack ${stack} belongs to no environment`);
    const location = new Naming(loadConfig(environment, { env: {} })).location;
    const json = JSON.parse(readFileSync(join(stacksDir, stack, "cdk.tf.json"), "utf8"));
    return stackPolicies(stack, json.resource ?? {}, location).filter((p) => p.kind !== "trust");
  });
}

/**
 * The CI roles' managed policies of dev and prod with every optional part on (scripts/ci-policy-sizes.ts): the
 * committed configs leave the parts off, so their grants are linted from this variant (stack `lake-<env>-parts`).
 */
export function partVariantPolicies(): StackPolicy[] {
  return (["dev", "prod"] as const).flatMap((environment) => {
    const config = configWithEveryPart(environment);
    const naming = new Naming(config);
    const ci = [naming.role(ROLE_PURPOSES.ciPlan), naming.role(ROLE_PURPOSES.ciDeploy)];
    const json = JSON.parse(Testing.synth(addEnvironment(Testing.app(), config).lake));
    return stackPolicies(`lake-${environment}-parts`, json.resource, naming.location).filter(
      (p) => p.kind === "managed" && ci.includes(p.subject),
    );
  });
}

interface RawFinding {
  readonly issue: string;
  readonly title: string;
  readonly severity: string;
  readonly detail: unknown;
  readonly location: { readonly filepath?: string };
}

/** Runs parliament once over every policy (one file each) and maps its findings back to stack and address. */
export async function lintPolicies(policies: readonly StackPolicy[]): Promise<ParliamentFinding[]> {
  if (!existsSync(parliamentBinary)) {
    throw new Error(
      `${parliamentBinary} is missing: run \`make setup\` (it installs requirements-checkov.lock)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "parliament-"));
  try {
    const byFile = new Map<string, StackPolicy>();
    for (const p of policies) {
      const file = `${p.stack}__${p.address}.json`;
      byFile.set(file, p);
      writeFileSync(join(dir, file), JSON.stringify(stringifyConditionValues(p.document)));
    }
    const args = [
      "--directory",
      dir,
      "--include_policy_extension",
      ".json",
      "--json",
      "--minimum_severity",
      "LOW",
    ];
    // parliament exits 1 when it reports findings; its JSON lines on stdout are what counts.
    const stdout = await promisify(execFile)(parliamentBinary, args, { maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => r.stdout,
      (error: { code?: number; stdout?: string; stderr?: string }) => {
        if (error.code === 1 && error.stdout) return error.stdout;
        throw new Error(`parliament failed (exit ${error.code}):\n${error.stderr ?? ""}`);
      },
    );
    return stdout
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => {
        const raw = JSON.parse(line) as RawFinding;
        const policy = byFile.get(basename(raw.location.filepath ?? ""));
        if (!policy) throw new Error(`parliament reported on an unknown file: ${line}`);
        return {
          issue: raw.issue,
          severity: raw.severity,
          title: raw.title,
          stack: policy.stack,
          policy: policy.address,
          detail: JSON.stringify(raw.detail),
        };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function describeVerdict(v: Verdict): string {
  const lines = [
    `parliament: ${v.linted} policies linted, ${v.justified.length} findings justified in ` +
      `security/parliament-allowlist.json, ${v.unjustified.length} unjustified, ${v.stale.length} stale entr(y/ies)`,
  ];
  for (const f of v.unjustified) {
    lines.push(`  UNJUSTIFIED ${f.issue} (${f.severity}) ${f.stack} ${f.policy}: ${f.title}: ${f.detail}`);
  }
  for (const e of v.stale)
    lines.push(`  STALE ENTRY ${e.issue} ${e.stack} ${e.policy} "${e.detail}": matches no finding`);
  return lines.join("\n");
}

async function main(): Promise<void> {
  const policies = [
    ...synthesizedPolicies(resolve(process.argv[2] ?? "cdktf.out")),
    ...partVariantPolicies(),
  ];
  const verdict = judge(policies.length, await lintPolicies(policies), loadAllowlist());
  console.log(describeVerdict(verdict));
  if (verdict.unjustified.length > 0 || verdict.stale.length > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 2;
  });
}
