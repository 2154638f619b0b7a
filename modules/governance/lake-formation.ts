import { LakeformationDataLakeSettings } from "@cdktf/provider-aws/lib/lakeformation-data-lake-settings";
import { LakeformationLfTag } from "@cdktf/provider-aws/lib/lakeformation-lf-tag";
import { LakeformationOptIn } from "@cdktf/provider-aws/lib/lakeformation-opt-in";
import { LakeformationPermissions } from "@cdktf/provider-aws/lib/lakeformation-permissions";
import { LakeformationResource } from "@cdktf/provider-aws/lib/lakeformation-resource";
import { LakeformationResourceLfTags } from "@cdktf/provider-aws/lib/lakeformation-resource-lf-tags";
import { Construct } from "constructs";
import openPayments from "../../datasets/open-payments.json";
import { curatedTables } from "../catalog";
import type { ITerraformDependable } from "../core";

/** Lake Formation's service-linked role (path and name), which reads registered locations. */
export const LAKE_FORMATION_SERVICE_ROLE =
  "aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess";

/** LF-tag keys and values: the one vocabulary of grants. */
export const LF_TAGS = {
  zone: [...openPayments.zones],
  sensitivity: ["public", "recipient-identity"],
} as const;

const IDENTITY = new RegExp(openPayments.sensitivity.recipientIdentityColumnPattern);

/** The columns of a curated table that identify a recipient (datasets/open-payments.json `sensitivity`). */
export function recipientIdentityColumns(columns: readonly string[]): string[] {
  return columns.filter((c) => IDENTITY.test(c));
}

export interface GovernedTable {
  readonly name: string;
  readonly columns: readonly string[];
}

export interface LakeFormationProps {
  /** Data-lake administrators (config `lakeFormation.admins`). */
  readonly admins: readonly string[];
  readonly curatedDatabaseName: string;
  /** Default: every curated table of the datasets file, with its columns (modules/catalog). */
  readonly curatedTables?: readonly GovernedTable[];
  /** The curated bucket, registered with Lake Formation (its objects are SSE-KMS with the data key). */
  readonly curatedBucketArn: string;
  readonly analystRoleArn: string;
  readonly jobRoleArn: string;
  readonly crawlerRoleArn: string;
  /** Roles that may also select the recipient-identity columns (granted explicitly, by tag). */
  readonly recipientIdentityReaderArns?: readonly string[];
  /** The curated tables' resources: their tags are assigned once the tables exist. */
  readonly tableDependencies?: readonly ITerraformDependable[];
}

/**
 * Lake Formation over the curated zone, in hybrid access mode: the curated location is registered (through
 * Lake Formation's service-linked role, which the data key's policy names) with hybrid access, so the job and
 * crawler roles keep their IAM access while the analyst role is opted in and so governed by Lake Formation
 * permissions only. Everything is tagged: the database zone=curated, every table sensitivity=public, the
 * recipient-identity columns sensitivity=recipient-identity. Grants are by tag expression: the analyst reads
 * zone=curated AND sensitivity=public (no identity columns unless granted by a further tag grant); the job and
 * crawler get all of zone=curated. New databases and tables get no IAMAllowedPrincipals grant.
 */
export class LakeFormationGovernance extends Construct {
  /** Principals that are governed by Lake Formation permissions (opted in). */
  readonly optedInPrincipals: readonly string[];

  constructor(scope: Construct, id: string, props: LakeFormationProps) {
    super(scope, id);
    if (props.admins.length === 0) {
      throw new Error("lakeFormation.admins: name at least one administrator role (they manage permissions)");
    }
    const settings = new LakeformationDataLakeSettings(this, "settings", {
      admins: [...props.admins],
      // No IAMAllowedPrincipals grant on new databases and tables: access is what is granted here.
      createDatabaseDefaultPermissions: [],
      createTableDefaultPermissions: [],
    });
    new LakeformationResource(this, "curated-location", {
      arn: props.curatedBucketArn,
      useServiceLinkedRole: true,
      hybridAccessEnabled: true,
    });
    const tags = Object.entries(LF_TAGS).map(
      ([key, values]) =>
        new LakeformationLfTag(this, `tag-${key}`, { key, values: [...values], dependsOn: [settings] }),
    );
    const tag = (key: keyof typeof LF_TAGS, value: string) => ({ key, value });
    new LakeformationResourceLfTags(this, "database-tags", {
      database: { name: props.curatedDatabaseName },
      lfTag: [tag("zone", "curated")],
      dependsOn: tags,
    });
    const tables =
      props.curatedTables ??
      curatedTables().map((t) => ({ name: t.tableName, columns: t.columns.map((c) => c.name) }));
    for (const table of tables) {
      new LakeformationResourceLfTags(this, `table-tags-${table.name}`, {
        table: { databaseName: props.curatedDatabaseName, name: table.name },
        lfTag: [tag("zone", "curated"), tag("sensitivity", "public")],
        dependsOn: [...tags, ...(props.tableDependencies ?? [])],
      });
      const identity = recipientIdentityColumns(table.columns);
      if (identity.length > 0) {
        new LakeformationResourceLfTags(this, `column-tags-${table.name}`, {
          tableWithColumns: {
            databaseName: props.curatedDatabaseName,
            name: table.name,
            columnNames: identity,
          },
          lfTag: [tag("sensitivity", "recipient-identity")],
          dependsOn: [...tags, ...(props.tableDependencies ?? [])],
        });
      }
    }

    const grant = (
      grantId: string,
      principal: string,
      resourceType: "DATABASE" | "TABLE",
      permissions: string[],
      expression: Record<string, readonly string[]>,
    ) =>
      new LakeformationPermissions(this, grantId, {
        principal,
        permissions,
        lfTagPolicy: {
          resourceType,
          expression: Object.entries(expression).map(([key, values]) => ({ key, values: [...values] })),
        },
        dependsOn: tags,
      });
    grant("analyst-database", props.analystRoleArn, "DATABASE", ["DESCRIBE"], { zone: ["curated"] });
    grant("analyst-tables", props.analystRoleArn, "TABLE", ["SELECT", "DESCRIBE"], {
      zone: ["curated"],
      sensitivity: ["public"],
    });
    for (const [name, arn] of [
      ["job", props.jobRoleArn],
      ["crawler", props.crawlerRoleArn],
    ] as const) {
      grant(`${name}-database`, arn, "DATABASE", ["DESCRIBE", "CREATE_TABLE", "ALTER"], {
        zone: ["curated"],
      });
      grant(`${name}-tables`, arn, "TABLE", ["SELECT", "DESCRIBE", "INSERT", "ALTER"], {
        zone: ["curated"],
        sensitivity: [...LF_TAGS.sensitivity],
      });
    }
    (props.recipientIdentityReaderArns ?? []).forEach((arn, index) => {
      grant(`identity-reader-${index}-database`, arn, "DATABASE", ["DESCRIBE"], { zone: ["curated"] });
      grant(`identity-reader-${index}-tables`, arn, "TABLE", ["SELECT", "DESCRIBE"], {
        zone: ["curated"],
        sensitivity: [...LF_TAGS.sensitivity],
      });
    });
    // Hybrid access: only opted-in principals are held to Lake Formation permissions on these resources.
    new LakeformationOptIn(this, "analyst-opt-in", {
      principal: [{ dataLakePrincipalIdentifier: props.analystRoleArn }],
      resourceData: [
        { database: [{ name: props.curatedDatabaseName }] },
        { table: [{ databaseName: props.curatedDatabaseName, wildcard: true }] },
      ],
      dependsOn: tags,
    });
    this.optedInPrincipals = [props.analystRoleArn];
  }
}
