/**
 * ARNs of resources whose names the configuration makes deterministic (Glue catalog objects, log groups,
 * Athena workgroups). Built from strings rather than resource attributes so policies can name resources
 * that are created after the roles (jobs, crawlers) without a dependency cycle.
 */
export interface AwsLocation {
  readonly account: string;
  readonly region: string;
  /** `aws` unless deploying to GovCloud or China. */
  readonly partition?: string;
}

function base(location: AwsLocation, service: string): string {
  return `arn:${location.partition ?? "aws"}:${service}:${location.region}:${location.account}`;
}

export const arns = {
  account: (location: AwsLocation): string =>
    `arn:${location.partition ?? "aws"}:iam::${location.account}:root`,
  glueCatalog: (location: AwsLocation): string => `${base(location, "glue")}:catalog`,
  glueDatabase: (location: AwsLocation, database: string): string =>
    `${base(location, "glue")}:database/${database}`,
  /** Every table of one database (tables come and go with the crawlers). */
  glueTables: (location: AwsLocation, database: string): string =>
    `${base(location, "glue")}:table/${database}/*`,
  glueJob: (location: AwsLocation, name: string): string => `${base(location, "glue")}:job/${name}`,
  glueCrawler: (location: AwsLocation, name: string): string => `${base(location, "glue")}:crawler/${name}`,
  logGroup: (location: AwsLocation, namePattern: string): string =>
    `${base(location, "logs")}:log-group:${namePattern}`,
  athenaWorkgroup: (location: AwsLocation, name: string): string =>
    `${base(location, "athena")}:workgroup/${name}`,
  athenaDataCatalog: (location: AwsLocation, name = "AwsDataCatalog"): string =>
    `${base(location, "athena")}:datacatalog/${name}`,
};
