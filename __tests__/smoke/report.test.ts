import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../tools/cli/conventions";
import { formatTable, summarize, toJson, toJUnit } from "../../tools/smoke/report";
import type { CheckOutcome, RunResult } from "../../tools/smoke/runner";
import { readOutputsFile, targetFromOutputs } from "../../tools/smoke/target";
import { ENGINE_V3, judgeWorkgroup } from "../../tools/smoke/workgroup-check";

const outcome = (over: Partial<CheckOutcome>): CheckOutcome => ({
  id: "c",
  description: "d",
  expect: "no rows",
  status: "passed",
  message: "no rows",
  details: [],
  durationMs: 1500,
  ...over,
});
const run: RunResult = {
  outcomes: [
    outcome({ id: "ok" }),
    outcome({
      id: "dup_ids",
      status: "failed",
      message: "1 offending rows (expected none)",
      details: ['record_id=7 <&> "x"\u0001'],
    }),
    outcome({ id: "slow", status: "error", message: "overall timeout of 1 s reached; query q-9 cancelled" }),
    outcome({ id: "wg", status: "skipped", message: "local mode" }),
  ],
};

describe("reports", () => {
  it("summarizes by status", () => {
    expect(summarize(run.outcomes)).toEqual({ total: 4, passed: 1, failed: 1, errors: 1, skipped: 1 });
  });

  it("prints an aligned table with failure details and a summary line", () => {
    const text = formatTable(run, "athena workgroup wg");
    const lines = text.split("\n");
    expect(lines[0]).toBe("Smoke checks against athena workgroup wg");
    expect(lines).toContain("FAIL    dup_ids  1.5s  1 offending rows (expected none)");
    expect(lines).toContain("PASS    ok       1.5s  no rows");
    expect(lines).toContain('        record_id=7 <&> "x"\u0001');
    expect(lines.at(-1)).toBe("1 passed, 1 failed, 1 errors, 1 skipped (4 checks)");
  });

  it("writes JUnit XML with escaped text, one testcase per check", () => {
    const x = toJUnit(run);
    expect(x).toContain(
      '<testsuite name="smoke" tests="4" failures="1" errors="1" skipped="1" time="6.000">',
    );
    expect(x).toContain('<testcase classname="smoke" name="ok" time="1.500"/>');
    expect(x).toContain(
      '<failure message="1 offending rows (expected none)" type="no rows">1 offending rows (expected none)\nrecord_id=7 &lt;&amp;&gt; &quot;x&quot;</failure>',
    );
    expect(x).toContain('<error message="overall timeout of 1 s reached; query q-9 cancelled">');
    expect(x).toContain('<skipped message="local mode"/>');
    expect(x).not.toContain("\u0001");
  });

  it("writes a JSON report with the summary and every outcome", () => {
    const j = toJson(run, { target: "t", startedAt: new Date(0), finishedAt: new Date(1000) });
    expect(j).toMatchObject({ version: 1, target: "t", interrupted: null, summary: { failed: 1 } });
    expect(j.checks.map((c) => c.id)).toEqual(["ok", "dup_ids", "slow", "wg"]);
  });
});

describe("judgeWorkgroup", () => {
  const good = {
    Name: "lake",
    State: "ENABLED" as const,
    Configuration: {
      EnforceWorkGroupConfiguration: true,
      BytesScannedCutoffPerQuery: 10_000_000_000,
      EngineVersion: { SelectedEngineVersion: ENGINE_V3, EffectiveEngineVersion: ENGINE_V3 },
      ResultConfiguration: {
        OutputLocation: "s3://results/",
        EncryptionConfiguration: {
          EncryptionOption: "SSE_KMS" as const,
          KmsKey: "arn:aws:kms:us-east-1:1:key/k",
        },
      },
    },
  };

  it("passes a workgroup with every setting right", () => {
    expect(judgeWorkgroup(good)).toMatchObject({ passed: true });
  });

  it("names every wrong setting", () => {
    const v = judgeWorkgroup({
      Name: "lake",
      State: "DISABLED",
      Configuration: {
        EnforceWorkGroupConfiguration: false,
        EngineVersion: { SelectedEngineVersion: "AUTO", EffectiveEngineVersion: "Athena engine version 2" },
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: "SSE_S3" } },
      },
    });
    expect(v.passed).toBe(false);
    expect(v.details).toEqual([
      "state is DISABLED, expected ENABLED",
      "EnforceWorkGroupConfiguration is not true: clients could override results location/encryption",
      "no results OutputLocation configured",
      "results encryption is SSE_S3, expected SSE_KMS",
      "engine is 'Athena engine version 2', expected 'Athena engine version 3'",
      "no BytesScannedCutoffPerQuery: a runaway query is not capped",
    ]);
  });
});

describe("targets from terraform outputs", () => {
  const outputs = Object.fromEntries(
    Object.entries({
      athena_workgroup_name: "lake-dev",
      curated_database_name: "lake_dev_curated",
      athena_results_bucket_name: "results-b",
      ingestion_table_name: "ingestion",
      cleaned_bucket_name: "cleaned-b",
      curated_bucket_name: "curated-b",
      region: "eu-west-1",
      raw_bucket_name: "raw-b",
    }).map(([k, value]) => [k, { value, type: "string", sensitive: false }]),
  );

  it("reads the lake stack's outputs", () => {
    expect(targetFromOutputs(outputs, "x")).toEqual({
      region: "eu-west-1",
      workgroup: "lake-dev",
      database: "lake_dev_curated",
      outputLocation: "s3://results-b/smoke/",
      ingestionTable: "ingestion",
      cleanedBucket: "cleaned-b",
      curatedBucket: "curated-b",
    });
  });

  it("names the missing outputs and unreadable files", () => {
    const { region: _r, athena_workgroup_name: _w, ...rest } = outputs;
    expect(() => targetFromOutputs(rest, "out.json")).toThrow(UsageError); // exit 2
    expect(() => targetFromOutputs(rest, "out.json")).toThrow(
      "out.json: the lake stack's outputs lack or have empty: region, athena_workgroup_name " +
        "(apply the stack, then write the file again with `terraform output -json`)",
    );
    const dir = mkdtempSync(join(tmpdir(), "smoke-out-"));
    writeFileSync(join(dir, "bad.json"), "{not json");
    expect(() => readOutputsFile(join(dir, "bad.json"))).toThrow(/--outputs .*bad\.json: invalid JSON/);
    expect(() => readOutputsFile(join(dir, "none.json"))).toThrow(/--outputs .*none\.json: cannot read it/);
  });
});
