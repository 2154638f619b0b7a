// The serving warehouse's network and database (modules/network, modules/warehouse) as synthesized into the
// lake stack when `warehouse.enabled`: every security setting the issue asks for, read from the Terraform JSON.
import { ConfigError, ENVIRONMENTS, loadConfig, Naming } from "../../modules/config";
import { cidrSubnet } from "../../modules/network";
import { warehouseAlarmNames } from "../../modules/warehouse";
import { configWith, resourcesOfType, synthEnvironment, synthStack, type TfJson } from "../helpers/synth";
import { BI_CLIENT_CIDR, BI_CLIENT_SG, withWarehouse } from "../helpers/warehouse-variant";

const dev = synthEnvironment(withWarehouse("dev")).lake;
const prod = synthEnvironment(withWarehouse("prod")).lake;
const only = (json: TfJson, type: string) => {
  const found = resourcesOfType(json, type);
  expect(found).toHaveLength(1);
  return (found[0] as { config: Record<string, unknown> }).config;
};
/** Resources come out of the synthesized JSON in address order: compare as sets. */
const sorted = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort();
const refTo = (json: TfJson, type: string, fragment: string, attribute: string) => {
  const name = Object.keys(json.resource[type] ?? {}).find((n) => n.includes(fragment));
  expect(name).toBeDefined();
  return `\${${type}.${name}.${attribute}}`;
};

describe("warehouse.enabled", () => {
  it.each(ENVIRONMENTS)("is off in the committed %s config: no VPC, no database", (env) => {
    const lake = synthStack(env, "lake");
    expect(resourcesOfType(lake, "aws_vpc")).toHaveLength(0);
    expect(resourcesOfType(lake, "aws_db_instance")).toHaveLength(0);
  });

  it("refuses prod without Multi-AZ or deletion protection, and a client CIDR open to the internet", () => {
    expect(() => configWith("prod", { warehouse: { enabled: true } })).toThrow(
      /warehouse\.multiAz: must be true in prod[\s\S]*warehouse\.deletionProtection: must be true in prod/,
    );
    expect(() => configWith("dev", { warehouse: { enabled: true, clientCidrs: ["0.0.0.0/0"] } })).toThrow(
      ConfigError,
    );
  });
});

describe.each([
  ["dev", dev],
  ["prod", prod],
])("lake-%s with the warehouse", (env, lake) => {
  const config = withWarehouse(env as "dev" | "prod");
  const warehouse = config.warehouse;
  if (!warehouse) throw new Error("variant without warehouse");
  const name = new Naming(config).resource("warehouse");
  const dataKey = refTo(lake, "aws_kms_key", "keys_data", "arn");
  const logsKey = refTo(lake, "aws_kms_key", "keys_logs", "arn");

  it("runs PostgreSQL privately, encrypted with the data key, TLS forced, IAM auth, managed master password", () => {
    expect(only(lake, "aws_db_instance")).toMatchObject({
      engine: "postgres",
      engine_version: warehouse.engineVersion,
      publicly_accessible: false,
      storage_encrypted: true,
      kms_key_id: dataKey,
      iam_database_authentication_enabled: true,
      manage_master_user_password: true,
      master_user_secret_kms_key_id: dataKey,
      performance_insights_enabled: true,
      performance_insights_kms_key_id: dataKey,
      monitoring_interval: 60,
      backup_retention_period: warehouse.backupRetentionDays,
      multi_az: env === "prod",
      deletion_protection: env === "prod",
      skip_final_snapshot: false,
      enabled_cloudwatch_logs_exports: ["postgresql", "upgrade"],
    });
    expect(only(lake, "aws_secretsmanager_secret_rotation")).toMatchObject({
      secret_id: refTo(lake, "aws_db_instance", "warehouse_instance", "master_user_secret[0].secret_arn"),
      rotation_rules: { automatically_after_days: 7 },
    });
    const parameters = Object.fromEntries(
      (only(lake, "aws_db_parameter_group").parameter as Array<{ name: string; value: string }>).map((p) => [
        p.name,
        p.value,
      ]),
    );
    expect(parameters).toMatchObject({
      "rds.force_ssl": "1",
      log_connections: "1",
      shared_preload_libraries: expect.stringContaining("pgaudit"),
      "pgaudit.log": expect.stringContaining("ddl"),
    });
  });

  it("admits 5432 only from the loader and the configured BI clients, and nothing from the internet", () => {
    const rules = resourcesOfType(lake, "aws_vpc_security_group_ingress_rule").map((r) => r.config);
    const toDatabase = rules.filter(
      (r) => r.security_group_id === refTo(lake, "aws_security_group", "warehouse_sg", "id"),
    );
    expect(
      sorted(toDatabase.map((r) => [r.from_port, r.to_port, r.cidr_ipv4 ?? r.referenced_security_group_id])),
    ).toEqual(
      sorted([
        [5432, 5432, refTo(lake, "aws_security_group", "loader-sg", "id")],
        [5432, 5432, BI_CLIENT_SG],
        [5432, 5432, BI_CLIENT_CIDR],
      ]),
    );
    expect(JSON.stringify(lake.resource)).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
    expect(resourcesOfType(lake, "aws_internet_gateway")).toHaveLength(0);
    expect(resourcesOfType(lake, "aws_nat_gateway")).toHaveLength(0);
    expect(only(lake, "aws_default_security_group")).toMatchObject({ ingress: [], egress: [] });
  });

  it("places private subnets in every configured zone, with S3 and the loader's services as endpoints", () => {
    const subnets = resourcesOfType(lake, "aws_subnet").map((s) => s.config);
    expect(
      sorted(subnets.map((s) => [s.availability_zone, s.cidr_block, s.map_public_ip_on_launch])),
    ).toEqual(
      sorted(
        warehouse.availabilityZones.map((z, i) => [
          `${config.region}${z}`,
          cidrSubnet(warehouse.vpcCidr, 4, i),
          false,
        ]),
      ),
    );
    const endpoints = resourcesOfType(lake, "aws_vpc_endpoint").map((e) => e.config);
    expect(sorted(endpoints.map((e) => [e.service_name, e.vpc_endpoint_type]))).toEqual(
      sorted([
        [`com.amazonaws.${config.region}.s3`, "Gateway"],
        ...warehouse.interfaceEndpoints.map((s) => [`com.amazonaws.${config.region}.${s}`, "Interface"]),
      ]),
    );
  });

  it("logs all VPC traffic and the database's logs to log groups encrypted with the logs key", () => {
    expect(only(lake, "aws_flow_log")).toMatchObject({
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
    });
    const groups = resourcesOfType(lake, "aws_cloudwatch_log_group")
      .map((g) => g.config)
      .filter((g) => String(g.name).includes(name));
    expect(groups.map((g) => String(g.name)).sort()).toEqual(
      [
        `/aws/vpc/flow-logs/${name}`,
        `/aws/rds/instance/${name}/postgresql`,
        `/aws/rds/instance/${name}/upgrade`,
        `/aws-glue/jobs/${name}-loader`,
      ].sort(),
    );
    for (const g of groups)
      expect([g.kms_key_id, g.retention_in_days]).toEqual([logsKey, warehouse.logRetentionDays]);
  });

  it("gives its service roles the workload permissions boundary", () => {
    const boundary = refTo(lake, "aws_iam_policy", "access_boundary", "arn");
    const roles = resourcesOfType(lake, "aws_iam_role")
      .map((r) => r.config)
      .filter((r) => String(r.name).startsWith(name));
    expect(sorted(roles.map((r) => [r.name, r.permissions_boundary]))).toEqual(
      sorted([
        [`${name}-flow-logs`, boundary],
        [`${name}-monitoring`, boundary],
        [`${name}-loader`, boundary],
      ]),
    );
  });

  it("alarms on CPU, free storage and connections to the alerts topic, which admits exactly those alarms", () => {
    const topic = refTo(lake, "aws_sns_topic", "alerts_topic", "arn");
    // The database's alarms (dev also runs the refresh, whose alarms modules/orchestration tests).
    const alarms = resourcesOfType(lake, "aws_cloudwatch_metric_alarm")
      .map((a) => a.config)
      .filter((a) => a.namespace === "AWS/RDS");
    expect(sorted(alarms.map((a) => [a.alarm_name, a.metric_name, a.alarm_actions]))).toEqual(
      sorted(
        warehouseAlarmNames(name).map((n, i) => [
          n,
          ["CPUUtilization", "FreeStorageSpace", "DatabaseConnections"][i],
          [topic],
        ]),
      ),
    );
    const policy = JSON.parse(String(only(lake, "aws_sns_topic_policy").policy)) as {
      Statement: Array<{ Sid: string; Condition?: Record<string, Record<string, unknown>> }>;
    };
    const publish = policy.Statement.find((s) => s.Sid === "CloudWatchAlarmsPublish");
    expect(publish?.Condition?.ArnEquals?.["aws:SourceArn"]).toEqual(
      warehouseAlarmNames(name).map(
        (n) => `arn:aws:cloudwatch:${config.region}:${config.accountId}:alarm:${n}`,
      ),
    );
  });
});

describe("cidrSubnet", () => {
  it("computes terraform's cidrsubnet and refuses what does not fit", () => {
    expect(cidrSubnet("10.40.0.0/20", 4, 0)).toBe("10.40.0.0/24");
    expect(cidrSubnet("10.40.0.0/20", 4, 3)).toBe("10.40.3.0/24");
    expect(cidrSubnet("10.40.7.9/20", 2, 1)).toBe("10.40.4.0/22");
    expect(() => cidrSubnet("10.40.0.0/20", 4, 16)).toThrow(/no subnet 16/);
    expect(() => cidrSubnet("10.400.0.0/20", 4, 0)).toThrow(/not an IPv4 CIDR/);
  });
});

it("keeps the committed configs loadable (the warehouse block is optional)", () => {
  expect(loadConfig("dev", { env: {} }).warehouse).toBeUndefined();
});
