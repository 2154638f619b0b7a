// The lake-local stack applied with the real terraform binary to moto (local AWS), then planned again: every
// resource of the data plane (catalog, Glue jobs and code uploads, workflow, Athena, ingestion table, roles,
// alerts) must be creatable and must not drift (a permanent diff would make every CI plan noisy). The Glue
// code uploaded by terraform is read back to prove the package that Glue would load is complete.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetJobCommand, GetTriggersCommand, GlueClient } from "@aws-sdk/client-glue";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { strFromU8, unzipSync } from "fflate";
import { loadConfig } from "../../modules/config";
import { App } from "../../modules/core";
import { addEnvironment } from "../../stacks";
import { localAwsEnv, type MotoServer, startMotoServer } from "../../tools/local-aws/moto-server";
import { terraform, terraformCliConfig, terraformEnv } from "../terraform/harness";

let moto: MotoServer;
let outdir: string;
let stackDir: string;
let env: NodeJS.ProcessEnv;
let outputs: Record<string, { value: string }>;

beforeAll(async () => {
  moto = await startMotoServer();
  const config = loadConfig("local", { env: { LAKE_LOCAL_AWS_ENDPOINT: moto.endpoint } });
  outdir = mkdtempSync(join(tmpdir(), "lake-local-moto-"));
  const app = new App({ outdir });
  const { lake } = addEnvironment(app, config);
  app.synth();
  stackDir = join(outdir, "stacks", lake.node.id);
  // The local profile's state backend lives on moto too; this test keeps state in the stack directory.
  writeFileSync(
    join(stackDir, "moto_state_override.tf.json"),
    JSON.stringify({ terraform: { backend: { local: { path: "moto.tfstate" } } } }),
  );
  env = {
    ...terraformEnv(terraformCliConfig([])),
    ...localAwsEnv,
    // terraformEnv points proxies at a closed port so nothing reaches the network; moto is on loopback.
    NO_PROXY: "127.0.0.1",
  };
  await terraform(stackDir, ["init", "-input=false"], env);
  await terraform(stackDir, ["apply", "-auto-approve", "-input=false"], env);
  outputs = JSON.parse(await terraform(stackDir, ["output", "-json"], env));
}, 480_000);

afterAll(async () => {
  await moto?.stop();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const client = <T>(Client: new (c: object) => T) =>
  new Client({
    endpoint: moto.endpoint,
    region: localAwsEnv.AWS_REGION,
    forcePathStyle: true,
    credentials: {
      accessKeyId: localAwsEnv.AWS_ACCESS_KEY_ID,
      secretAccessKey: localAwsEnv.AWS_SECRET_ACCESS_KEY,
    },
  });

it("plans no change right after the apply (no permanent diff)", async () => {
  // -detailed-exitcode: 0 = no changes, 2 = changes (terraform() rejects on any non-zero exit).
  await expect(terraform(stackDir, ["plan", "-input=false", "-detailed-exitcode"], env)).resolves.toMatch(
    /No changes/,
  );
}, 240_000);

it("creates the Glue jobs with the security configuration, running the uploaded code", async () => {
  const glue = client(GlueClient);
  const s3 = client(S3Client);
  const { Job } = await glue.send(new GetJobCommand({ JobName: outputs.clean_job_name.value }));
  expect(Job?.GlueVersion).toBe("5.0");
  expect(Job?.SecurityConfiguration).toMatch(/^opl-local-/);
  const packageUri = Job?.DefaultArguments?.["--extra-py-files"] ?? "";
  const [, bucket, key] = packageUri.match(/^s3:\/\/([^/]+)\/(.+)$/) ?? [];
  expect(bucket).toBe(outputs.cleaned_bucket_name.value);
  const zip = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const files = unzipSync(
    await (zip.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
  expect(Object.keys(files)).toEqual(
    expect.arrayContaining(["open_payments_lake/__init__.py", "open_payments_lake/open-payments.json"]),
  );
  expect(JSON.parse(strFromU8(files["open_payments_lake/open-payments.json"])).zones).toEqual([
    "raw",
    "cleaned",
    "curated",
  ]);
  const script = Job?.Command?.ScriptLocation?.match(/^s3:\/\/([^/]+)\/(.+)$/) ?? [];
  const body = await s3.send(new GetObjectCommand({ Bucket: script[1], Key: script[2] }));
  expect(await body.Body?.transformToString()).toContain("open_payments_lake");
});

it("chains the workflow triggers on moto as synthesized", async () => {
  const { Triggers } = await client(GlueClient).send(new GetTriggersCommand({}));
  const lakeTriggers = (Triggers ?? []).filter((t) => t.WorkflowName === "opl-local-lake");
  expect(lakeTriggers.map((t) => t.Type).sort()).toEqual([
    "CONDITIONAL",
    "CONDITIONAL",
    "CONDITIONAL",
    "ON_DEMAND",
  ]);
});
