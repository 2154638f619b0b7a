import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { LOCAL_ENDPOINT_ENV, loadConfig, Naming } from "../../modules/config";
import { App } from "../../modules/core";
import { addEnvironment, stackName } from "../../stacks";
import { localAwsEnv, type MotoServer, startMotoServer } from "../../tools/local-aws/moto-server";
import { type SynthesizedStack, terraform, terraformCliConfig, terraformEnv } from "../terraform/harness";

// The local environment's state chain on moto, for real: apply the state-bootstrap stack, find no drift on a
// second plan (the local profile's gaps are handled), then initialize the lake stack's production-shaped S3
// backend against it (endpoints only through AWS_ENDPOINT_URL_* variables) and write state through it: the
// object must land in the state bucket encrypted with the state key, and the DynamoDB lock table must hold
// terraform's state digest.

jest.setTimeout(300_000);

let moto: MotoServer;
let outdir: string;
let env: NodeJS.ProcessEnv;
const stacks: Record<"bootstrap" | "lake", SynthesizedStack> = {} as never;
const config = () => loadConfig("local", { env: { [LOCAL_ENDPOINT_ENV]: moto.endpoint } });

beforeAll(async () => {
  moto = await startMotoServer();
  outdir = mkdtempSync(join(tmpdir(), "lake-bootstrap-"));
  const app = new App({ outdir });
  addEnvironment(app, config());
  app.synth();
  for (const [key, kind] of [
    ["bootstrap", "state-bootstrap"],
    ["lake", "lake"],
  ] as const) {
    const dir = join(outdir, "stacks", stackName(kind, "local"));
    stacks[key] = {
      name: stackName(kind, "local"),
      dir,
      config: JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")),
    };
  }
  // One provider install for both stacks: terraform links from the cache instead of copying the binary twice.
  const pluginCache = join(outdir, "plugin-cache");
  mkdirSync(pluginCache);
  env = {
    ...terraformEnv(terraformCliConfig(Object.values(stacks))),
    TF_PLUGIN_CACHE_DIR: pluginCache,
    ...localAwsEnv,
    AWS_ENDPOINT_URL_S3: moto.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: moto.endpoint,
    AWS_ENDPOINT_URL_STS: moto.endpoint,
    AWS_ENDPOINT_URL_IAM: moto.endpoint,
  };
});

afterAll(async () => {
  await moto?.stop();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

it("applies the state-bootstrap stack on moto and a second plan finds nothing to change", async () => {
  const { dir } = stacks.bootstrap;
  await terraform(dir, ["init", "-input=false"], env);
  await terraform(dir, ["apply", "-auto-approve", "-input=false"], env);
  const plan = await terraform(dir, ["plan", "-input=false", "-detailed-exitcode"], env);
  expect(plan).toContain("No changes.");
});

it("keeps the lake stack's state in the bootstrap bucket, encrypted with the state key, with locking", async () => {
  const naming = new Naming(config());
  const { dir, config: json } = stacks.lake;
  // The backend block is the production one; only the endpoints and path-style addressing differ on moto.
  expect(json.terraform?.backend).toHaveProperty("s3.bucket", naming.stateBucket);
  await terraform(dir, ["init", "-input=false", "-backend-config=use_path_style=true"], env);
  const dataKey = Object.keys(json.resource?.aws_kms_key ?? {}).find((name) =>
    name.startsWith("keys_data_key"),
  );
  expect(dataKey).toBeDefined();
  await terraform(dir, ["apply", "-auto-approve", "-input=false", `-target=aws_kms_key.${dataKey}`], env);

  const clientConfig = {
    endpoint: moto.endpoint,
    region: localAwsEnv.AWS_REGION,
    forcePathStyle: true,
    credentials: {
      accessKeyId: localAwsEnv.AWS_ACCESS_KEY_ID,
      secretAccessKey: localAwsEnv.AWS_SECRET_ACCESS_KEY,
    },
  };
  const head = await new S3Client(clientConfig).send(
    new HeadObjectCommand({ Bucket: naming.stateBucket, Key: naming.stateKey(stacks.lake.name) }),
  );
  expect(head.ServerSideEncryption).toBe("aws:kms");
  expect(head.SSEKMSKeyId).toBe(`arn:aws:kms:us-east-1:${config().accountId}:${naming.stateKeyAlias}`);

  const items = await new DynamoDBClient(clientConfig).send(new ScanCommand({ TableName: naming.lockTable }));
  expect(items.Items?.map((i) => i.LockID?.S)).toContain(
    `${naming.stateBucket}/${naming.stateKey(stacks.lake.name)}-md5`,
  );
});
