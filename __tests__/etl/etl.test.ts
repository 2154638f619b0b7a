import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { strFromU8, unzipSync } from "fflate";
import { BUILD_DIR } from "../../modules/core";
import {
  buildPythonPackage,
  GLUE_TEMP_PREFIX,
  LakeEtl,
  type LakeEtlProps,
  loadGlueJobs,
} from "../../modules/etl";
import { resourcesOf, type SynthesizedStack, synthesize } from "../access/synth-support";

const fixture = join(__dirname, "fixtures", "glue-scripts");
const datasetsFile = join(__dirname, "..", "..", "datasets", "open-payments.json");

const props: LakeEtlProps = {
  namePrefix: "opl-dev",
  buckets: { raw_bucket: "raw-b", cleaned_bucket: "cleaned-b", curated_bucket: "curated-b" },
  jobRoleArn: "arn:aws:iam::111111111111:role/opl-dev-glue-job",
  securityConfigurationName: "opl-dev-glue",
  dataKeyArn: "arn:aws:kms:us-east-1:111111111111:key/data",
  logsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/logs",
  sizing: { workerType: "G.1X", numberOfWorkers: 3, timeoutMinutes: 45, maxRetries: 1, logRetentionDays: 30 },
  rawCrawlerName: "opl-dev-raw-crawler",
  curatedCrawlerName: "opl-dev-curated-crawler",
  scriptsDir: fixture,
  datasetsFile,
};

type Job = {
  name: string;
  glue_version: string;
  role_arn: string;
  security_configuration: string;
  worker_type: string;
  number_of_workers: number;
  timeout: number;
  max_retries: number;
  command: { name: string; script_location: string; python_version: string };
  default_arguments: Record<string, string>;
  execution_property: { max_concurrent_runs: number };
};
type S3Obj = { key: string; source_hash: string; server_side_encryption: string; kms_key_id: string };
type Trigger = {
  name: string;
  type: string;
  actions: { job_name?: string; crawler_name?: string }[];
  predicate?: {
    conditions: { job_name?: string; crawler_name?: string; state?: string; crawl_state?: string }[];
  };
};

const jobsOf = (stack: SynthesizedStack) => Object.values(resourcesOf(stack, "aws_glue_job")) as Job[];
const objectsOf = (stack: SynthesizedStack) => Object.values(resourcesOf(stack, "aws_s3_object")) as S3Obj[];
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("LakeEtl", () => {
  const stack = synthesize((scope) => new LakeEtl(scope, "etl", props));
  const jobs = jobsOf(stack);
  const job = (id: string) => jobs.find((j) => j.name === `opl-dev-${id}`) as Job;

  it("deploys one Glue 5.0 job per manifest entry, sized from config, with the security configuration", () => {
    expect(jobs.map((j) => j.name)).toEqual(["opl-dev-clean", "opl-dev-curate"]);
    for (const j of jobs) {
      expect(j).toMatchObject({
        glue_version: "5.0",
        role_arn: props.jobRoleArn,
        security_configuration: "opl-dev-glue",
        worker_type: "G.1X",
        number_of_workers: 3,
        timeout: 45,
        max_retries: 1,
        execution_property: { max_concurrent_runs: 1 },
        execution_class: "STANDARD",
      });
      expect(j.command).toMatchObject({ name: "glueetl", python_version: "3" });
    }
  });

  it("enables bookmarks, continuous logging into the encrypted log group, metrics, package and temp dir", () => {
    const [logGroup] = Object.values(resourcesOf(stack, "aws_cloudwatch_log_group"));
    expect(logGroup).toMatchObject({ retention_in_days: 30, kms_key_id: props.logsKeyArn });
    for (const j of jobs) {
      expect(j.default_arguments).toMatchObject({
        "--job-bookmark-option": "job-bookmark-enable",
        "--enable-continuous-cloudwatch-log": "true",
        "--enable-metrics": "true",
        "--TempDir": expect.stringMatching(new RegExp(`^s3://cleaned-b/${GLUE_TEMP_PREFIX}/`)),
        "--extra-py-files": expect.stringMatching(
          /^s3:\/\/.*\/glue-artifacts\/python\/[0-9a-f]{16}\/open_payments_lake\.zip$/,
        ),
      });
      expect(j.default_arguments["--continuous-log-logGroup"]).toContain("aws_cloudwatch_log_group");
    }
  });

  it("fills bucket placeholders in the manifest's arguments", () => {
    expect(job("clean").default_arguments["--raw_path"]).toBe("s3://raw-b/raw/");
    expect(job("clean").default_arguments["--cleaned_path"]).toBe("s3://cleaned-b/cleaned/");
    expect(job("curate").default_arguments["--curated_path"]).toBe("s3://curated-b/curated/");
  });

  it("uploads scripts under keys holding their content hash, SSE-KMS encrypted", () => {
    const objects = objectsOf(stack);
    const clean = objects.find((o) => o.key.endsWith("/clean_job.py")) as S3Obj;
    const hash = sha256(join(fixture, "clean_job.py"));
    expect(clean.key).toBe(`glue-artifacts/scripts/${hash.slice(0, 16)}/clean_job.py`);
    expect(clean.source_hash).toBe(hash);
    for (const o of objects)
      expect(o).toMatchObject({ server_side_encryption: "aws:kms", kms_key_id: props.dataKeyArn });
    expect(job("clean").command.script_location).toBe(`s3://cleaned-b/${clean.key}`);
  });

  it("chains the workflow: start → raw crawler → clean → curate → curated crawler, each on success", () => {
    const triggers = Object.values(resourcesOf(stack, "aws_glue_trigger")) as Trigger[];
    const start = triggers.filter((t) => t.type === "ON_DEMAND");
    expect(start).toHaveLength(1);
    expect(start[0].actions).toEqual([{ crawler_name: "opl-dev-raw-crawler" }]);
    // Job names appear as references to the job resources: name them by manifest id.
    const label = (name = "") =>
      name.replace(/^\$\{aws_glue_job\.etl_job-([a-z]+)_[0-9A-F]+\.name\}$/, "job:$1");
    const edges = triggers
      .filter((t) => t.type === "CONDITIONAL")
      .map((t) => {
        expect(t.predicate?.conditions).toHaveLength(1);
        const [c] = t.predicate?.conditions ?? [];
        const to = t.actions[0].job_name ?? t.actions[0].crawler_name;
        return `${label(c.job_name ?? c.crawler_name)} ${c.state ?? c.crawl_state} -> ${label(to)}`;
      });
    expect(edges.sort()).toEqual([
      "job:clean SUCCEEDED -> job:curate",
      "job:curate SUCCEEDED -> opl-dev-curated-crawler",
      "opl-dev-raw-crawler SUCCEEDED -> job:clean",
    ]);
  });

  it("changes the script key, and so the job, when the script changes", () => {
    const copy = mkdtempSync(join(tmpdir(), "etl-test-"));
    try {
      cpSync(fixture, copy, { recursive: true });
      writeFileSync(join(copy, "clean_job.py"), "print('changed')\n");
      const changed = synthesize((scope) => new LakeEtl(scope, "etl", { ...props, scriptsDir: copy }));
      const key = (s: SynthesizedStack) => objectsOf(s).find((o) => o.key.endsWith("clean_job.py"))?.key;
      expect(key(changed)).not.toBe(key(stack));
      expect(job("clean").command.script_location).not.toBe(
        jobsOf(changed).find((j) => j.name === "opl-dev-clean")?.command.script_location,
      );
      expect(objectsOf(changed).find((o) => o.key.endsWith("curate_job.py"))?.key).toBe(
        objectsOf(stack).find((o) => o.key.endsWith("curate_job.py"))?.key,
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe("buildPythonPackage", () => {
  it("zips the package with the datasets file as package data, without byte-code caches or tests", () => {
    const copy = mkdtempSync(join(tmpdir(), "etl-test-"));
    try {
      cpSync(fixture, copy, { recursive: true });
      mkdirSync(join(copy, "open_payments_lake", "__pycache__"));
      writeFileSync(join(copy, "open_payments_lake", "__pycache__", "x.cpython-311.pyc"), "cache");
      const built = buildPythonPackage(copy, datasetsFile);
      const files = unzipSync(readFileSync(built.zipFile));
      expect(Object.keys(files).sort()).toEqual([
        "open_payments_lake/__init__.py",
        "open_payments_lake/open-payments.json",
      ]);
      expect(strFromU8(files["open_payments_lake/open-payments.json"])).toBe(
        readFileSync(datasetsFile, "utf8"),
      );

      writeFileSync(join(copy, "open_payments_lake", "__init__.py"), "# changed\n");
      const changed = buildPythonPackage(copy, datasetsFile);
      expect(changed.sha256).not.toBe(built.sha256);
      expect(strFromU8(unzipSync(readFileSync(changed.zipFile))["open_payments_lake/__init__.py"])).toBe(
        "# changed\n",
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("writes the zip inside the checkout's .build/, not the shared temporary folder", () => {
    const built = buildPythonPackage(fixture, datasetsFile);
    expect(built.zipFile.startsWith(join(BUILD_DIR, "glue-package"))).toBe(true);
    expect(BUILD_DIR).toBe(resolve(__dirname, "..", "..", ".build"));
  });

  it("builds the same bytes for the same content", () => {
    const first = buildPythonPackage(fixture, datasetsFile);
    const bytes = readFileSync(first.zipFile);
    rmSync(first.zipFile);
    const second = buildPythonPackage(fixture, datasetsFile);
    expect(second.sha256).toBe(first.sha256);
    expect(readFileSync(second.zipFile).equals(bytes)).toBe(true);
  });

  it("fails clearly when the package is missing", () => {
    const empty = mkdtempSync(join(tmpdir(), "etl-test-"));
    try {
      expect(() => buildPythonPackage(empty, datasetsFile)).toThrow(/open_payments_lake does not exist/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("loadGlueJobs", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "etl-test-"));
    cpSync(fixture, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const withManifest = (jobs: unknown[]) => {
    writeFileSync(join(dir, "jobs.json"), JSON.stringify({ jobs }));
    return () => loadGlueJobs(dir);
  };
  const job = (args: Record<string, string>, extra: Record<string, string> = {}) => ({
    id: "clean",
    script: "clean_job.py",
    description: "d",
    arguments: args,
    ...extra,
  });

  it("loads the fixture manifest", () => {
    expect(loadGlueJobs(fixture).map((j) => j.id)).toEqual(["clean", "curate"]);
  });

  it("rejects unknown placeholders, naming them and the allowed ones", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a manifest placeholder, not a JS template
    expect(withManifest([job({ "--x": "s3://${logs_bucket}/" })])).toThrow(
      /jobs\.0 \(clean\): argument --x uses unknown placeholder \$\{logs_bucket\}; use one of \$\{raw_bucket\}/,
    );
  });

  it("rejects secret-looking arguments", () => {
    expect(withManifest([job({ "--db_password": "hunter2" })])).toThrow(
      /argument --db_password looks like a secret/,
    );
  });

  it("rejects arguments the module manages", () => {
    expect(withManifest([job({ "--TempDir": "s3://x/" })])).toThrow(
      /argument --TempDir is set by the ETL module/,
    );
  });

  it("rejects missing scripts and duplicate ids", () => {
    expect(withManifest([job({}, { script: "nope.py" })])).toThrow(/script nope\.py does not exist/);
    expect(withManifest([job({}), job({})])).toThrow(/jobs\.1 \(clean\): duplicate job id/);
  });

  it("rejects a malformed manifest with the field and rule", () => {
    expect(withManifest([job({ noDashes: "x" })])).toThrow(
      /jobs\.0 \(clean\): argument "noDashes" must start with --/,
    );
  });
});
