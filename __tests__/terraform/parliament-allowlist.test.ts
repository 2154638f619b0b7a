// The judgement of parliament's findings against security/parliament-allowlist.json, and the file itself.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AllowlistEntry,
  judge,
  loadAllowlist,
  type ParliamentFinding,
  stringifyConditionValues,
} from "../../scripts/parliament";

const finding = (issue: string, stack: string, policy: string, detail: string): ParliamentFinding => ({
  issue,
  severity: "MEDIUM",
  title: issue,
  stack,
  policy,
  detail,
});
const entry = (issue: string, stack: string, policy: string, detail: string): AllowlistEntry => ({
  issue,
  stack,
  policy,
  detail,
  justification: "x".repeat(40),
});

describe("judge", () => {
  it("accepts a finding only when issue, stack, policy and detail all match an entry", () => {
    const findings = [
      finding(
        "RESOURCE_MISMATCH",
        "lake-dev",
        "aws_iam_role_policy.ci_plan_A",
        '[{"action":"sns:Unsubscribe"}]',
      ),
      finding(
        "RESOURCE_MISMATCH",
        "lake-dev",
        "aws_iam_role_policy.ci_plan_A",
        '[{"action":"glue:CreateCrawler"}]',
      ),
      finding("RESOURCE_STAR", "lake-dev", "aws_iam_role_policy.ci_plan_A", '[{"action":"sns:Unsubscribe"}]'),
      finding("RESOURCE_MISMATCH", "state-bootstrap-dev", "aws_iam_role_policy.ci_plan_A", "sns:Unsubscribe"),
    ];
    const verdict = judge(1, findings, [
      entry("RESOURCE_MISMATCH", "lake-*", "aws_iam_role_policy.ci_*", "sns:Unsubscribe"),
    ]);
    expect(verdict.justified.map((j) => j.finding)).toEqual([findings[0]]);
    expect(verdict.unjustified).toEqual(findings.slice(1));
    expect(verdict.stale).toEqual([]);
  });

  it("reports an entry that matches no finding as stale", () => {
    const entries = [entry("RESOURCE_STAR", "*", "aws_kms_key_policy.*", "kms:")];
    expect(judge(1, [], entries).stale).toEqual(entries);
  });
});

describe("stringifyConditionValues", () => {
  it("writes numbers and booleans of conditions as the strings IAM compares, leaving the rest", () => {
    const doc = stringifyConditionValues({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Action: "s3:*",
          Resource: "*",
          Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 }, Bool: { "aws:SecureTransport": [false] } },
        },
      ],
    });
    expect(doc.Statement[0]?.Condition).toEqual({
      NumericLessThan: { "s3:TlsVersion": "1.2" },
      Bool: { "aws:SecureTransport": ["false"] },
    });
  });
});

describe("loadAllowlist", () => {
  const write = (content: unknown) => {
    const file = join(mkdtempSync(join(tmpdir(), "allowlist-")), "allowlist.json");
    writeFileSync(file, JSON.stringify(content));
    return file;
  };

  it("rejects an entry without a real justification, naming the field", () => {
    const file = write({
      allow: [{ ...entry("RESOURCE_STAR", "*", "aws_kms_key_policy.*", "kms:"), justification: "ok" }],
    });
    expect(() => loadAllowlist(file)).toThrow(/allow\.0\.justification: say why/);
  });

  it("reads the project's allow-list, and docs/security.md lists each entry in its table", () => {
    const rows = readFileSync(join(__dirname, "..", "..", "docs", "security.md"), "utf8")
      .split("\n")
      .filter((line) => /^\| [A-Z_]+ \|/.test(line));
    const entries = loadAllowlist();
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      const row = rows.find(
        (r) =>
          r.startsWith(`| ${e.issue} |`) &&
          r.includes(`| \`${e.stack}\` |`) &&
          r.includes(`| \`${e.policy}\` |`),
      );
      expect({
        entry: `${e.issue} ${e.stack} ${e.policy} ${e.detail}`,
        documented: row !== undefined,
      }).toEqual({
        entry: `${e.issue} ${e.stack} ${e.policy} ${e.detail}`,
        documented: true,
      });
    }
  });
});
