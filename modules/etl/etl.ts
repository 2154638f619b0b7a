import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { GlueJob } from "@cdktf/provider-aws/lib/glue-job";
import { GlueTrigger } from "@cdktf/provider-aws/lib/glue-trigger";
import { GlueWorkflow } from "@cdktf/provider-aws/lib/glue-workflow";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { Construct } from "constructs";
import { AssetType, TerraformAsset } from "../core";
import { ICEBERG_PREFIX } from "../storage/layout";
import { type ArgumentPlaceholder, type GlueJobSpec, loadGlueJobs, resolveArguments } from "./jobs-manifest";
import { buildPythonPackage, PACKAGE_NAME } from "./python-package";

const repoRoot = resolve(__dirname, "..", "..");

/**
 * Key prefixes in the cleaned bucket: the code the jobs run and their Spark scratch space. The cleaned bucket
 * is pipeline-internal (analysts cannot read it, ingestion cannot write it) and the job role may only read
 * the artifacts prefix, so a job cannot rewrite its own code.
 */
export const GLUE_ARTIFACTS_PREFIX = "glue-artifacts";
export const GLUE_TEMP_PREFIX = "glue-temp";

/** Glue job sizing; the field names match the environment config's `etl` block. */
export interface GlueJobSizing {
  readonly workerType: string;
  readonly numberOfWorkers: number;
  readonly timeoutMinutes: number;
  readonly maxRetries: number;
  readonly logRetentionDays: number;
}

export interface LakeEtlProps {
  readonly namePrefix: string;
  readonly buckets: Record<ArgumentPlaceholder, string>;
  readonly jobRoleArn: string;
  readonly securityConfigurationName: string;
  /** CMK for the uploaded code objects (the cleaned bucket's key). */
  readonly dataKeyArn: string;
  /** CMK for the jobs' CloudWatch log group. */
  readonly logsKeyArn: string;
  readonly sizing: GlueJobSizing;
  /** The workflow runs: raw crawler → each job in manifest order → curated crawler (Parquet only). */
  readonly rawCrawlerName: string;
  readonly curatedCrawlerName?: string;
  /** Default: Parquet, the manifest's threshold. */
  readonly curated?: CuratedOutput;
  /** Defaults: the repository's `glue-scripts/` and `datasets/open-payments.json`. */
  readonly scriptsDir?: string;
  readonly datasetsFile?: string;
}

/** Iceberg's runtime and SQL extensions in Glue 5.0 (with --datalake-formats iceberg: Iceberg 1.7.1). */
const ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions";

/** How the curate job writes the curated tables (config `etl`). */
export interface CuratedOutput {
  readonly format: "parquet" | "iceberg";
  /** The curate job fails when a rule's violations / rows exceeds it. */
  readonly maxRuleViolationRatio: number;
  /** Glue database of the curated tables: the Iceberg tables' namespace. */
  readonly databaseName: string;
  readonly bucketName: string;
  /** Iceberg only: days after which snapshots are expired by the maintenance job (tagged ones are kept). */
  readonly expireSnapshotsAfterDays?: number;
}

/**
 * Job arguments that make a curate-style job (one that takes --curated_format) write Iceberg through the Glue
 * Data Catalog: the Spark catalog named in the manifest's --iceberg_namespace, backed by the Glue catalog,
 * files under s3://<curated>/iceberg/ written with SSE-KMS under the data key.
 */
export function icebergArguments(
  manifestNamespace: string,
  curated: CuratedOutput,
  dataKeyArn: string,
): Record<string, string> {
  const catalog = manifestNamespace.split(".")[0];
  if (!/^[a-z_][a-z0-9_]*$/.test(catalog)) {
    throw new Error(`--iceberg_namespace "${manifestNamespace}" must start with a Spark catalog name`);
  }
  const prefix = `spark.sql.catalog.${catalog}`;
  const conf = [
    `spark.sql.extensions=${ICEBERG_EXTENSIONS}`,
    `${prefix}=org.apache.iceberg.spark.SparkCatalog`,
    `${prefix}.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog`,
    `${prefix}.io-impl=org.apache.iceberg.aws.s3.S3FileIO`,
    `${prefix}.warehouse=s3://${curated.bucketName}/${ICEBERG_PREFIX}/`,
    `${prefix}.s3.sse.type=kms`,
    `${prefix}.s3.sse.key=${dataKeyArn}`,
  ];
  return {
    "--datalake-formats": "iceberg",
    // Glue takes several Spark settings as one --conf value joined by " --conf ".
    "--conf": conf.join(" --conf "),
    "--iceberg_namespace": `${catalog}.${curated.databaseName}`,
  };
}

type WorkflowStep = { readonly id: string; readonly kind: "crawler" | "job"; readonly name: string };

/**
 * Deploys the Glue 5.0 jobs listed in `glue-scripts/jobs.json` (code uploaded under content-hash keys, so
 * a change redeploys), and the workflow chaining crawl raw → jobs → crawl curated on success.
 */
export class LakeEtl extends Construct {
  /** Deployed job name by manifest id (e.g. `clean`). */
  readonly jobNames: Readonly<Record<string, string>>;
  readonly workflowName: string;
  readonly logGroupName: string;

  constructor(scope: Construct, id: string, props: LakeEtlProps) {
    super(scope, id);
    const scriptsDir = props.scriptsDir ?? join(repoRoot, "glue-scripts");
    const datasetsFile = props.datasetsFile ?? join(repoRoot, "datasets", "open-payments.json");
    const manifestJobs = loadGlueJobs(scriptsDir);
    const curated = props.curated;
    if (curated?.format === "iceberg" && props.curatedCrawlerName) {
      throw new Error("curatedCrawlerName: Iceberg tables register their own snapshots; no curated crawler");
    }
    if (curated?.format === "parquet" && !props.curatedCrawlerName) {
      throw new Error("curatedCrawlerName is required for Parquet curated tables (it registers partitions)");
    }
    // Iceberg adds the maintenance job after the jobs of the manifest: compaction and snapshot expiry.
    const jobs: GlueJobSpec[] =
      curated?.format === "iceberg"
        ? [
            ...manifestJobs,
            {
              id: "maintain",
              script: "maintain_job.py",
              description: "Curated Iceberg tables: compaction, snapshot expiry (tagged publications kept)",
              arguments: {
                "--iceberg_namespace": curatedNamespace(manifestJobs),
                "--expire_after_days": String(curated.expireSnapshotsAfterDays ?? 7),
                "--retain_last": "5",
              },
            },
          ]
        : manifestJobs;
    const artifactsBucket = props.buckets.cleaned_bucket;

    // Literal S3 URIs (not object attributes) so the synthesized job shows the content-hash key it runs;
    // depends_on orders the upload first.
    const upload = (
      uploadId: string,
      key: string,
      asset: TerraformAsset,
      sha256: string,
      contentType: string,
    ) => {
      const object = new S3Object(this, uploadId, {
        bucket: artifactsBucket,
        key,
        source: asset.path,
        // With SSE-KMS the ETag is not an MD5 of the content: compare our own hash to detect changes.
        sourceHash: sha256,
        contentType,
        serverSideEncryption: "aws:kms",
        kmsKeyId: props.dataKeyArn,
        bucketKeyEnabled: true,
      });
      return { uri: `s3://${artifactsBucket}/${key}`, object };
    };

    const pythonPackage = buildPythonPackage(scriptsDir, datasetsFile);
    const pythonPackageUpload = upload(
      "python-package",
      `${GLUE_ARTIFACTS_PREFIX}/python/${pythonPackage.sha256.slice(0, 16)}/${PACKAGE_NAME}.zip`,
      new TerraformAsset(this, "python-package-asset", {
        path: pythonPackage.zipFile,
        type: AssetType.FILE,
        assetHash: pythonPackage.sha256.slice(0, 32),
      }),
      pythonPackage.sha256,
      "application/zip",
    );

    const logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/aws-glue/jobs/${props.namePrefix}-etl`,
      retentionInDays: props.sizing.logRetentionDays,
      kmsKeyId: props.logsKeyArn,
    });

    const deployed = jobs.map((job) => {
      const scriptPath = join(scriptsDir, job.script);
      const sha256 = createHash("sha256").update(readFileSync(scriptPath)).digest("hex");
      const script = upload(
        `script-${job.id}`,
        `${GLUE_ARTIFACTS_PREFIX}/scripts/${sha256.slice(0, 16)}/${job.script}`,
        new TerraformAsset(this, `script-${job.id}-asset`, { path: scriptPath, type: AssetType.FILE }),
        sha256,
        "text/x-python",
      );
      return new GlueJob(this, `job-${job.id}`, {
        name: `${props.namePrefix}-${job.id}`,
        description: job.description,
        roleArn: props.jobRoleArn,
        glueVersion: "5.0",
        // Explicit, so the plan shows it (FLEX would delay runs on spare capacity).
        executionClass: "STANDARD",
        command: { name: "glueetl", scriptLocation: script.uri, pythonVersion: "3" },
        defaultArguments: {
          ...resolveArguments(job.arguments, props.buckets),
          ...curatedArguments(job, curated, props.dataKeyArn),
          ...(job.id === "maintain" && curated
            ? icebergArguments(job.arguments["--iceberg_namespace"], curated, props.dataKeyArn)
            : {}),
          "--extra-py-files": pythonPackageUpload.uri,
          "--TempDir": `s3://${artifactsBucket}/${GLUE_TEMP_PREFIX}/${job.id}/`,
          "--job-language": "python",
          "--job-bookmark-option": "job-bookmark-enable",
          "--enable-continuous-cloudwatch-log": "true",
          "--continuous-log-logGroup": logGroup.name,
          "--enable-metrics": "true",
          "--enable-observability-metrics": "true",
        },
        workerType: props.sizing.workerType,
        numberOfWorkers: props.sizing.numberOfWorkers,
        timeout: props.sizing.timeoutMinutes,
        maxRetries: props.sizing.maxRetries,
        // One run at a time: a second run would race the first over the same program-year partitions.
        executionProperty: { maxConcurrentRuns: 1 },
        securityConfiguration: props.securityConfigurationName,
        dependsOn: [script.object, pythonPackageUpload.object],
      });
    });

    const workflow = new GlueWorkflow(this, "workflow", {
      name: `${props.namePrefix}-lake`,
      description: "Crawl raw, clean, curate, then register curated partitions",
      maxConcurrentRuns: 1,
    });
    const steps: WorkflowStep[] = [
      { id: "crawl-raw", kind: "crawler", name: props.rawCrawlerName },
      ...deployed.map((job, i) => ({ id: jobs[i].id, kind: "job" as const, name: job.name })),
      ...(props.curatedCrawlerName
        ? [{ id: "crawl-curated", kind: "crawler" as const, name: props.curatedCrawlerName }]
        : []),
    ];
    const action = (step: WorkflowStep) =>
      step.kind === "job" ? { jobName: step.name } : { crawlerName: step.name };
    new GlueTrigger(this, "start", {
      name: `${props.namePrefix}-lake-start`,
      description: "Starts the lake workflow (on demand: after an ingestion, or from a schedule)",
      type: "ON_DEMAND",
      // An on-demand trigger is never "activated" (StartTrigger runs it): Glue reports it as not enabled, so
      // declaring that avoids a permanent diff.
      enabled: false,
      workflowName: workflow.name,
      actions: [action(steps[0])],
    });
    steps.slice(1).forEach((step, index) => {
      const previous = steps[index];
      new GlueTrigger(this, `after-${previous.id}`, {
        name: `${props.namePrefix}-lake-after-${previous.id}`,
        description: `Runs ${step.name} when ${previous.name} succeeded`,
        type: "CONDITIONAL",
        workflowName: workflow.name,
        startOnCreation: true,
        predicate: {
          conditions: [
            previous.kind === "job"
              ? { logicalOperator: "EQUALS", jobName: previous.name, state: "SUCCEEDED" }
              : { logicalOperator: "EQUALS", crawlerName: previous.name, crawlState: "SUCCEEDED" },
          ],
        },
        actions: [action(step)],
      });
    });

    this.jobNames = Object.fromEntries(jobs.map((job, i) => [job.id, deployed[i].name]));
    this.workflowName = workflow.name;
    this.logGroupName = logGroup.name;
  }
}

/** The manifest's Iceberg namespace (`<spark catalog>.<database>`): the curate job's --iceberg_namespace. */
function curatedNamespace(jobs: readonly GlueJobSpec[]): string {
  const namespace = jobs.find((job) => job.arguments["--iceberg_namespace"])?.arguments[
    "--iceberg_namespace"
  ];
  if (!namespace) throw new Error("glue-scripts/jobs.json: no job has --iceberg_namespace");
  return namespace;
}

/** The config's curated format and threshold for the jobs that take them (arguments in the manifest). */
function curatedArguments(
  job: GlueJobSpec,
  curated: CuratedOutput | undefined,
  dataKeyArn: string,
): Record<string, string> {
  const args: Record<string, string> = {};
  if (!curated || !("--curated_format" in job.arguments)) return args;
  args["--curated_format"] = curated.format;
  if ("--max_rule_violation_ratio" in job.arguments) {
    args["--max_rule_violation_ratio"] = String(curated.maxRuleViolationRatio);
  }
  if (curated.format === "iceberg") {
    Object.assign(args, icebergArguments(job.arguments["--iceberg_namespace"], curated, dataKeyArn));
  }
  return args;
}
