import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  AthenaClient,
  CreateWorkGroupCommand,
  GetQueryExecutionCommand,
  ListQueryExecutionsCommand,
  StopQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { freePort, localAwsEnv, type MotoServer, startMotoServer } from "../../tools/local-aws/moto-server";
import { AthenaEngine } from "../../tools/smoke/athena-engine";
import { main } from "../../tools/smoke/cli";
import { QueryAbortedError, QueryFailedError } from "../../tools/smoke/engine";
import { ENGINE_V3, judgeWorkgroup, readWorkgroup } from "../../tools/smoke/workgroup-check";

// Moto's Athena runs no SQL: results are queued through its own API and handed to executions in start order,
// and state transitions are driven through its state manager. This proves the harness's API path, not the SQL.
let moto: MotoServer;
let athena: AthenaClient;
const savedEnv = { ...process.env };

async function motoApi(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${moto.endpoint}${path}`, { method: "POST", body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`${path}: HTTP ${res.status}`);
}
const column = (name: string, type = "varchar") => ({ Name: name, Label: name, Type: type });
const row = (...values: string[]) => ({ Data: values.map((v) => ({ VarCharValue: v })) });
/** Queues one result per future query, in order; each starts with the header row as Athena sends it. */
async function queueResults(...results: { columns: string[]; rows: string[][] }[]): Promise<void> {
  await motoApi("/moto-api/static/athena/query-results", {
    results: results.map((r) => ({
      column_info: r.columns.map((c) => column(c)),
      rows: [row(...r.columns), ...r.rows.map((v) => row(...v))],
    })),
  });
}
const manualTransitions = (times: number) =>
  motoApi("/moto-api/state-manager/set-transition", {
    model_name: "athena::execution",
    transition: { progression: "manual", times },
  });
const immediateTransitions = () =>
  motoApi("/moto-api/state-manager/unset-transition", { model_name: "athena::execution" });

async function createWorkgroup(name: string, encryption: "SSE_KMS" | "SSE_S3", enforce = true) {
  await athena.send(
    new CreateWorkGroupCommand({
      Name: name,
      Configuration: {
        EnforceWorkGroupConfiguration: enforce,
        BytesScannedCutoffPerQuery: 10_737_418_240,
        EngineVersion: { SelectedEngineVersion: ENGINE_V3 },
        ResultConfiguration: {
          OutputLocation: "s3://lake-results/athena/",
          EncryptionConfiguration:
            encryption === "SSE_KMS"
              ? { EncryptionOption: "SSE_KMS", KmsKey: "arn:aws:kms:us-east-1:123456789012:key/test" }
              : { EncryptionOption: "SSE_S3" },
        },
      },
    }),
  );
}

beforeAll(async () => {
  Object.assign(process.env, localAwsEnv);
  moto = await startMotoServer();
  athena = new AthenaClient({ region: "us-east-1", endpoint: moto.endpoint, maxAttempts: 1 });
  await createWorkgroup("lake-local", "SSE_KMS");
  await createWorkgroup("lake-weak", "SSE_S3", false);
}, 60_000);

afterAll(async () => {
  athena?.destroy();
  await moto?.stop();
  process.env = savedEnv;
});

afterEach(() => immediateTransitions());

const engine = (poll = { initialMs: 5, maxMs: 20 }, pageSize?: number) =>
  new AthenaEngine({ client: athena, workgroup: "lake-local", database: "curated", poll, pageSize });

describe("Athena API path on moto", () => {
  it("starts, polls through QUEUED and RUNNING with backoff, and reads the result without the header row", async () => {
    await manualTransitions(2);
    let polls = 0;
    const counted = new AthenaClient({ region: "us-east-1", endpoint: moto.endpoint, maxAttempts: 1 });
    counted.middlewareStack.add(
      (next, ctx) => async (args) => {
        if (ctx.commandName === "GetQueryExecutionCommand") polls++;
        return next(args);
      },
      { step: "initialize" },
    );
    await queueResults({
      columns: ["dataset", "records"],
      rows: [
        ["general", "12"],
        ["ownership", "3"],
      ],
    });
    const e = new AthenaEngine({
      client: counted,
      workgroup: "lake-local",
      database: "curated",
      poll: { initialMs: 5 },
    });
    const r = await e.run("SELECT dataset, records FROM t", new AbortController().signal);
    counted.destroy();
    expect(r.columns.map((c) => c.name)).toEqual(["dataset", "records"]);
    expect(r.rows).toEqual([
      ["general", "12"],
      ["ownership", "3"],
    ]);
    // moto advances one state every 2nd poll: QUEUED, RUNNING, RUNNING, SUCCEEDED
    expect(polls).toBe(4);
    const qe = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: r.queryId }));
    expect(qe.QueryExecution?.WorkGroup).toBe("lake-local");
    expect(qe.QueryExecution?.QueryExecutionContext?.Database).toBe("curated");
  });

  it("reads a result larger than one page in full", async () => {
    const rows = Array.from({ length: 2_500 }, (_, i) => [String(i)]);
    await queueResults({ columns: ["id"], rows });
    const r = await engine(undefined, 1000).run("SELECT id FROM t", new AbortController().signal);
    expect(r.rows).toHaveLength(2_500);
    expect(r.rows[0]).toEqual(["0"]);
    expect(r.rows[2_499]).toEqual(["2499"]);
  });

  it("cancels its running query when the timeout fires (StopQueryExecution)", async () => {
    await manualTransitions(1_000_000);
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new Error("overall timeout of 0.3 s reached")), 300);
    const err = await engine()
      .run("SELECT 1", ctrl.signal)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryAbortedError);
    const id = (err as QueryAbortedError).queryId;
    expect((err as Error).message).toBe(`overall timeout of 0.3 s reached; query ${id} cancelled`);
    const qe = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    expect(qe.QueryExecution?.Status?.State).toBe("CANCELLED");
  });

  it("reports a query cancelled from outside as CANCELLED", async () => {
    await manualTransitions(1_000_000);
    const running = engine().run("SELECT 1", new AbortController().signal);
    // find the execution the engine started, then cancel it as another operator would
    await new Promise((r) => setTimeout(r, 100));
    const ids =
      (await athena.send(new ListQueryExecutionsCommand({ WorkGroup: "lake-local" }))).QueryExecutionIds ??
      [];
    for (const id of ids) await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    const err = await running.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryFailedError);
    expect(err).toMatchObject({ state: "CANCELLED" });
  });

  it("reads the workgroup back and judges it", async () => {
    expect(judgeWorkgroup(await readWorkgroup(athena, "lake-local"))).toMatchObject({ passed: true });
    const weak = judgeWorkgroup(await readWorkgroup(athena, "lake-weak"));
    expect(weak.passed).toBe(false);
    expect(weak.details).toEqual([
      "EnforceWorkGroupConfiguration is not true: clients could override results location/encryption",
      "results encryption is SSE_S3, expected SSE_KMS",
    ]);
    await expect(readWorkgroup(athena, "no-such-workgroup")).rejects.toThrow(
      "workgroup 'no-such-workgroup' not found",
    );
  });
});

describe("smoke CLI against moto", () => {
  const dir = mkdtempSync(join(tmpdir(), "smoke-cli-"));
  const checksDir = join(dir, "checks");
  const table = "lake-local-ingestion";

  beforeAll(async () => {
    mkdirSync(checksDir);
    writeFileSync(
      join(checksDir, "a_years.sql"),
      "-- check: years\n-- description: Years match.\n-- expect: matches ingestion\nSELECT dataset, program_year, records FROM x\n",
    );
    writeFileSync(
      join(checksDir, "b_dups.sql"),
      "-- check: dups\n-- description: No duplicates.\n-- expect: no rows\nSELECT record_id FROM y\n",
    );
    const ddb = new DynamoDBClient({ region: "us-east-1", endpoint: moto.endpoint, maxAttempts: 1 });
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      }),
    );
    const doc = DynamoDBDocumentClient.from(ddb);
    for (const [year, records] of [
      [2022, 40],
      [2023, 41],
    ] as const) {
      const stem = `OP_DTL_OWNRSHP_PGYR${year}_P01302025_01212025`;
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: {
            pk: `FILE#ownership#${year}#${stem}`,
            sk: "V#abc",
            status: "verified",
            records,
            publication: "P01302025_01212025",
            updatedAt: "2025-02-01T00:00:00Z",
          },
        }),
      );
    }
    ddb.destroy();
    // The jobs' reports: 2022 had one quarantined record, 2023 one duplicate resolved by the curate job.
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: moto.endpoint,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: "lake-cleaned" }));
    await s3.send(new CreateBucketCommand({ Bucket: "lake-curated" }));
    const files = [2022, 2023].map((year) => ({
      source_object: `raw/ownership/program_year=${year}/publication=P01302025_01212025/OP_DTL_OWNRSHP_PGYR${year}_P01302025_01212025/part-00000.csv`,
      dataset: "ownership",
      program_year: year,
      raw_records: year === 2022 ? 40 : 41,
      cleaned: year === 2022 ? 39 : 41,
      quarantined: year === 2022 ? 1 : 0,
    }));
    const partitions = [2022, 2023].map((year) => ({
      dataset: "ownership",
      program_year: year,
      removed: 0,
      duplicates_resolved: year === 2023 ? 1 : 0,
    }));
    for (const [Bucket, Key, body] of [
      ["lake-cleaned", "reports/clean/latest.json", { status: "passed", failures: [], files }],
      ["lake-curated", "reports/curate/latest.json", { status: "passed", failures: [], partitions }],
    ] as const) {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: JSON.stringify(body) }));
    }
    s3.destroy();
  });

  const args = (workgroup: string, extra: string[] = []) => [
    "--endpoint",
    moto.endpoint,
    "--region",
    "us-east-1",
    "--workgroup",
    workgroup,
    "--database",
    "curated",
    "--ingestion-table",
    table,
    "--clean-report",
    "s3://lake-cleaned/reports/clean/latest.json",
    "--curate-report",
    "s3://lake-curated/reports/curate/latest.json",
    "--checks-dir",
    checksDir,
    "--concurrency",
    "1",
    "--poll-max-ms",
    "50",
    "--junit",
    join(dir, "junit.xml"),
    "--json-report",
    join(dir, "report.json"),
    ...extra,
  ];
  const captured = () => {
    const lines: string[] = [];
    return { lines, io: { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) } };
  };

  it("passes when the lake's answers match ingestion (exit 0) and writes both reports", async () => {
    await queueResults(
      {
        columns: ["dataset", "program_year", "records"],
        rows: [
          ["ownership", "2022", "39"],
          ["ownership", "2023", "40"],
        ],
      },
      { columns: ["record_id"], rows: [] },
    );
    const { lines, io } = captured();
    expect(await main(args("lake-local"), io)).toBe(0);
    const text = lines.join("\n");
    expect(text).toMatch(/PASS +years .* 2 dataset-years match ingestion \(79 records\)/);
    expect(text).toMatch(/PASS +raw_reconciles_per_file .* 2 files reconcile \(81 raw records\)/);
    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    expect(report.summary).toEqual({ total: 5, passed: 5, failed: 0, errors: 0, skipped: 0 });
    expect(readFileSync(join(dir, "junit.xml"), "utf8")).toContain('tests="5" failures="0" errors="0"');
  });

  it("fails (exit 1) naming the check and the numbers when the lake is off", async () => {
    await queueResults(
      {
        columns: ["dataset", "program_year", "records"],
        rows: [
          ["ownership", "2022", "39"],
          ["ownership", "2023", "39"],
        ],
      },
      { columns: ["record_id"], rows: [["100001"]] },
    );
    const { lines, io } = captured();
    expect(await main(args("lake-local"), io)).toBe(1);
    const text = lines.join("\n");
    expect(text).toContain(
      "ownership 2023: lake has 39 records, expected 40 = ingested 41 - quarantined 0 - removed 0 - duplicates 1 (-1;",
    );
    expect(text).toMatch(/FAIL +dups .* 1 offending rows/);
    expect(readFileSync(join(dir, "junit.xml"), "utf8")).toContain('failures="2"');
  });

  it("fails the workgroup check on a workgroup that does not enforce SSE_KMS", async () => {
    await queueResults(
      {
        columns: ["dataset", "program_year", "records"],
        rows: [
          ["ownership", "2022", "39"],
          ["ownership", "2023", "40"],
        ],
      },
      { columns: ["record_id"], rows: [] },
    );
    const { lines, io } = captured();
    expect(await main(args("lake-weak"), io)).toBe(1);
    expect(lines.join("\n")).toContain("results encryption is SSE_S3, expected SSE_KMS");
  });

  it("exits 3 without the workgroup or the ingestion table, 2 with bad flags", async () => {
    const missing = captured();
    expect(await main(args("no-such-workgroup"), missing.io)).toBe(3);
    expect(missing.lines.join("\n")).toContain("smoke: error: workgroup 'no-such-workgroup' not found");
    const badFlag = captured();
    expect(await main([...args("lake-local"), "--concurrency", "0"], badFlag.io)).toBe(2);
    expect(badFlag.lines.join("\n")).toContain("--concurrency must be a positive integer");
    const noTable = captured();
    expect(await main(args("lake-local", ["--ingestion-table", "nope"]), noTable.io)).toBe(3);
    expect(noTable.lines.join("\n")).toMatch(/cannot read the ingestion records \(table nope\)/);
  });

  it("cancels the running query and reports an error (exit 1) when the overall timeout passes", async () => {
    await manualTransitions(1_000_000);
    const { lines, io } = captured();
    expect(await main(args("lake-local", ["--timeout", "1"]), io)).toBe(1);
    expect(lines.join("\n")).toMatch(/ERROR +years .* overall timeout of 1 s reached; query \S+ cancelled/);
    expect(lines.join("\n")).toMatch(/ERROR +dups .* not started: overall timeout of 1 s reached/);
  });
  it("targets the lake by `terraform output -json` of a stack directory (--outputs-from)", async () => {
    const stack = join(dir, "stack");
    mkdirSync(stack);
    const outputs = {
      athena_workgroup_name: "lake-local",
      curated_database_name: "curated",
      athena_results_bucket_name: "lake-results",
      ingestion_table_name: table,
      cleaned_bucket_name: "lake-cleaned",
      curated_bucket_name: "lake-curated",
      region: "us-east-1",
    };
    // A local-backend state holding only outputs: what `terraform output -json` reads after an apply.
    writeFileSync(
      join(stack, "terraform.tfstate"),
      JSON.stringify({
        version: 4,
        terraform_version: "1.11.0",
        serial: 1,
        lineage: "smoke-test",
        outputs: Object.fromEntries(
          Object.entries(outputs).map(([k, value]) => [k, { value, type: "string" }]),
        ),
        resources: [],
      }),
    );
    await queueResults(
      {
        columns: ["dataset", "program_year", "records"],
        rows: [
          ["ownership", "2022", "39"],
          ["ownership", "2023", "40"],
        ],
      },
      { columns: ["record_id"], rows: [] },
    );
    const { lines, io } = captured();
    const flags = ["--outputs-from", stack, "--endpoint", moto.endpoint, "--checks-dir", checksDir];
    const code = await main(
      [...flags, "--concurrency", "1", "--json-report", join(dir, "o.json"), "--junit", join(dir, "o.xml")],
      io,
    );
    expect({ code, text: lines.join("\n") }).toEqual({
      code: 0,
      text: expect.stringContaining("5 passed, 0 failed"),
    });
  });

  it("cancels its running query and exits 1 on Ctrl-C (SIGINT): the checks did not all pass", async () => {
    await manualTransitions(1_000_000);
    const repo = resolve(__dirname, "..", "..");
    const child = spawn(
      join(repo, "node_modules", ".bin", "tsx"),
      ["tools/smoke/cli.ts", ...args("lake-local")],
      {
        cwd: repo,
        env: { ...process.env, ...localAwsEnv },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    const started = new Promise<void>((ok) => {
      const onData = (b: Buffer) => {
        output += b.toString();
        if (output.includes("Running ")) ok();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
    });
    const exited = new Promise<number | null>((ok) => child.once("exit", (code) => ok(code)));
    await started;
    await new Promise((r) => setTimeout(r, 500)); // let it start its query and poll
    child.kill("SIGINT");
    expect(await exited).toBe(1);
    expect(output).toContain("Interrupted: cancelling running queries");
    expect(output).toMatch(/ERROR +years .* interrupted \(Ctrl-C\); query (\S+) cancelled/);
    const id = /query (\S+) cancelled/.exec(output)?.[1];
    const qe = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    expect(qe.QueryExecution?.Status?.State).toBe("CANCELLED");
  }, 30_000);
});

describe("smoke CLI as a process", () => {
  it("exits 3 with one line, no stack trace, when the endpoint is a closed loopback port", async () => {
    const repo = resolve(__dirname, "..", "..");
    const closed = `http://127.0.0.1:${await freePort()}`;
    const dir = mkdtempSync(join(tmpdir(), "smoke-closed-"));
    const child = spawnSync(
      join(repo, "node_modules", ".bin", "tsx"),
      [
        "tools/smoke/cli.ts",
        ...["--endpoint", closed, "--region", "us-east-1", "--workgroup", "lake", "--database", "curated"],
        ...[
          "--ingestion-table",
          "lake-ingestion",
          "--junit",
          join(dir, "j.xml"),
          "--json-report",
          join(dir, "r.json"),
        ],
      ],
      { cwd: repo, env: { ...process.env, ...localAwsEnv }, encoding: "utf8", timeout: 60_000 },
    );
    expect({ status: child.status, stdout: child.stdout }).toEqual({ status: 3, stdout: "" });
    expect(child.stderr).toMatch(
      /^smoke: error: cannot read the ingestion records \(table lake-ingestion\)/m,
    );
    expect(child.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
