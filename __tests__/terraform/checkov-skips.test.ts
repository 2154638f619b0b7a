// The judgement of checkov findings against the skips file, and the skips file itself.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CheckovSkip, type Finding, judge, loadSkips } from "../../scripts/checkov";

const finding = (check: string, stack: string, resource: string): Finding => ({
  check,
  name: `${check} check`,
  stack,
  resource,
});
const skip = (check: string, stack: string, resource: string): CheckovSkip => ({
  check,
  stack,
  resource,
  justification: "x".repeat(40),
});

describe("judge", () => {
  it("accepts a failure only when check id, stack and resource all match an entry", () => {
    const failed = [
      finding("CKV_AWS_144", "lake-dev", "aws_s3_bucket.raw_bucket_ABC"),
      finding("CKV_AWS_144", "state-bootstrap-dev", "aws_s3_bucket.state_bucket_DEF"),
      finding("CKV_AWS_145", "lake-dev", "aws_s3_bucket.raw_bucket_ABC"),
    ];
    const verdict = judge(10, failed, [skip("CKV_AWS_144", "lake-*", "aws_s3_bucket.*")]);
    expect(verdict.justified.map((j) => j.finding)).toEqual([failed[0]]);
    expect(verdict.unjustified).toEqual([failed[1], failed[2]]);
    expect(verdict.stale).toEqual([]);
  });

  it("reports an entry that matches no failure as stale", () => {
    const entries = [
      skip("CKV_AWS_144", "lake-*", "aws_s3_bucket.*"),
      skip("CKV2_AWS_62", "lake-*", "aws_s3_bucket.*"),
    ];
    const verdict = judge(
      3,
      [finding("CKV_AWS_144", "lake-prod", "aws_s3_bucket.curated_bucket_1")],
      entries,
    );
    expect(verdict.stale).toEqual([entries[1]]);
    expect(verdict.unjustified).toEqual([]);
  });

  it("treats glob characters other than * literally", () => {
    const verdict = judge(
      0,
      [finding("CKV_AWS_144", "lake-dev", "aws_s3_bucket.rawXbucket")],
      [skip("CKV_AWS_144", "lake-dev", "aws_s3_bucket.raw.bucket")],
    );
    expect(verdict.unjustified).toHaveLength(1);
  });
});

describe("loadSkips", () => {
  const write = (content: unknown) => {
    const file = join(mkdtempSync(join(tmpdir(), "skips-")), "skips.json");
    writeFileSync(file, JSON.stringify(content));
    return file;
  };

  it("rejects an entry without a real justification, naming the field", () => {
    const file = write({
      skips: [{ ...skip("CKV_AWS_144", "lake-*", "aws_s3_bucket.*"), justification: "n/a" }],
    });
    expect(() => loadSkips(file)).toThrow(/skips\.0\.justification: say why/);
  });

  it("rejects a malformed check id and resource address", () => {
    const file = write({ skips: [skip("AWS_144", "lake-*", "bucket")] });
    expect(() => loadSkips(file)).toThrow(/skips\.0\.check[\s\S]*skips\.0\.resource/);
  });

  it("reads the project's skips file, and docs/security.md lists each entry in its table", () => {
    const rows = readFileSync(join(__dirname, "..", "..", "docs", "security.md"), "utf8")
      .split("\n")
      .filter((line) => line.startsWith("| CKV"));
    const skips = loadSkips();
    expect(skips.length).toBeGreaterThan(0);
    for (const s of skips) {
      const row = rows.find(
        (r) =>
          r.startsWith(`| ${s.check} `) &&
          r.includes(`| \`${s.stack}\` |`) &&
          r.includes(`| \`${s.resource}\` |`),
      );
      expect({ skip: `${s.check} ${s.stack} ${s.resource}`, documented: row !== undefined }).toEqual({
        skip: `${s.check} ${s.stack} ${s.resource}`,
        documented: true,
      });
    }
    expect(rows).toHaveLength(skips.length);
  });
});
