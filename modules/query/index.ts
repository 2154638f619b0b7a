import { join, resolve } from "node:path";
import { AthenaNamedQuery } from "@cdktf/provider-aws/lib/athena-named-query";
import { AthenaWorkgroup } from "@cdktf/provider-aws/lib/athena-workgroup";
import { Construct } from "constructs";
import { escapeTerraformTemplate, readSqlFiles } from "./sql-files";

export * from "./sql-files";

const repoRoot = resolve(__dirname, "..", "..");

/** Key prefix of query results in the athena-results bucket. */
export const ATHENA_RESULTS_PREFIX = "results";
/** Athena's minimum per-query bytes-scanned cutoff (10 MB). */
const MIN_CUTOFF = 10_000_000;

export interface LakeQueryProps {
  readonly workgroupName: string;
  readonly resultsBucketName: string;
  /** CMK encrypting query results (SSE_KMS). */
  readonly resultsKeyArn: string;
  /** Account owning the results bucket: Athena refuses to write results into someone else's bucket. */
  readonly account: string;
  readonly bytesScannedCutoffPerQuery: number;
  /** Database the named queries run in (queries use plain table names). */
  readonly curatedDatabaseName: string;
  /** Default: the repository's `sql/`. */
  readonly sqlDir?: string;
}

/**
 * The analysts' Athena workgroup (engine v3, enforced settings, SSE_KMS results, a bytes-scanned cutoff,
 * CloudWatch metrics) and one named query per `.sql` file of `sql/` — the files are the only copy of the text.
 */
export class LakeQuery extends Construct {
  readonly workgroupName: string;
  readonly resultsLocation: string;
  /** Names (`<folder>/<stem>`) of the named queries created from `sql/`. */
  readonly namedQueryNames: string[];

  constructor(scope: Construct, id: string, props: LakeQueryProps) {
    super(scope, id);
    if (
      !Number.isInteger(props.bytesScannedCutoffPerQuery) ||
      props.bytesScannedCutoffPerQuery < MIN_CUTOFF
    ) {
      throw new Error(
        `bytesScannedCutoffPerQuery ${props.bytesScannedCutoffPerQuery} must be a whole number of bytes ≥ ${MIN_CUTOFF} (Athena minimum).`,
      );
    }
    this.resultsLocation = `s3://${props.resultsBucketName}/${ATHENA_RESULTS_PREFIX}/`;
    const workgroup = new AthenaWorkgroup(this, "workgroup", {
      name: props.workgroupName,
      description: "Open Payments Lake analysts: curated tables, encrypted results, bounded scans",
      state: "ENABLED",
      forceDestroy: false,
      configuration: {
        // Clients cannot override the location, encryption or cutoff below.
        enforceWorkgroupConfiguration: true,
        publishCloudwatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: "Athena engine version 3" },
        resultConfiguration: {
          outputLocation: this.resultsLocation,
          expectedBucketOwner: props.account,
          encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: props.resultsKeyArn },
        },
      },
    });

    const files = readSqlFiles(props.sqlDir ?? join(repoRoot, "sql"));
    for (const file of files) {
      new AthenaNamedQuery(this, `query-${file.name.replace("/", "-")}`, {
        name: file.name,
        description: file.description,
        workgroup: workgroup.name,
        database: props.curatedDatabaseName,
        query: escapeTerraformTemplate(file.sql),
      });
    }
    this.workgroupName = workgroup.name;
    this.namedQueryNames = files.map((f) => f.name);
  }
}
