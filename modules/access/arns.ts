import type { AwsLocation } from "../config";

export type { AwsLocation } from "../config";

/**
 * ARNs of resources whose names the configuration makes deterministic (Glue catalog objects, log groups,
 * Athena workgroups, buckets, roles). Built from strings rather than resource attributes so policies can name
 * resources that are created after the roles (jobs, crawlers) without a dependency cycle. Every ARN carries
 * the location's partition.
 */
function base(location: AwsLocation, service: string): string {
  return `arn:${location.partition}:${service}:${location.region}:${location.account}`;
}

export const arns = {
  account: (location: AwsLocation): string => `arn:${location.partition}:iam::${location.account}:root`,
  role: (location: AwsLocation, name: string): string =>
    `arn:${location.partition}:iam::${location.account}:role/${name}`,
  policy: (location: AwsLocation, name: string): string =>
    `arn:${location.partition}:iam::${location.account}:policy/${name}`,
  /** S3 ARNs carry neither region nor account. */
  bucket: (location: Pick<AwsLocation, "partition">, name: string): string =>
    `arn:${location.partition}:s3:::${name}`,
  kms: (location: AwsLocation, resource: string): string => `${base(location, "kms")}:${resource}`,
  dynamodbTable: (location: AwsLocation, name: string): string =>
    `${base(location, "dynamodb")}:table/${name}`,
  glueCatalog: (location: AwsLocation): string => `${base(location, "glue")}:catalog`,
  glueDatabase: (location: AwsLocation, database: string): string =>
    `${base(location, "glue")}:database/${database}`,
  /** Every table of one database (tables come and go with the crawlers). */
  glueTables: (location: AwsLocation, database: string): string =>
    `${base(location, "glue")}:table/${database}/*`,
  glueJob: (location: AwsLocation, name: string): string => `${base(location, "glue")}:job/${name}`,
  glueCrawler: (location: AwsLocation, name: string): string => `${base(location, "glue")}:crawler/${name}`,
  glueTrigger: (location: AwsLocation, name: string): string => `${base(location, "glue")}:trigger/${name}`,
  glueWorkflow: (location: AwsLocation, name: string): string => `${base(location, "glue")}:workflow/${name}`,
  logGroup: (location: AwsLocation, namePattern: string): string =>
    `${base(location, "logs")}:log-group:${namePattern}`,
  athenaWorkgroup: (location: AwsLocation, name: string): string =>
    `${base(location, "athena")}:workgroup/${name}`,
  athenaDataCatalog: (location: AwsLocation, name = "AwsDataCatalog"): string =>
    `${base(location, "athena")}:datacatalog/${name}`,
  snsTopic: (location: AwsLocation, name: string): string => `${base(location, "sns")}:${name}`,
  eventRule: (location: AwsLocation, name: string): string => `${base(location, "events")}:rule/${name}`,
  cloudwatchAlarm: (location: AwsLocation, name: string): string =>
    `${base(location, "cloudwatch")}:alarm:${name}`,
  /** An RDS resource: `db:<id>`, `subgrp:<name>`, `pg:<name>`, `snapshot:<id>`, `secret` ARNs differ. */
  rds: (location: AwsLocation, resource: string): string => `${base(location, "rds")}:${resource}`,
};
