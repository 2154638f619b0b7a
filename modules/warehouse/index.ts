import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { GlueConnection } from "@cdktf/provider-aws/lib/glue-connection";
import { SecretsmanagerSecretRotation } from "@cdktf/provider-aws/lib/secretsmanager-secret-rotation";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { type AwsLocation, arns } from "../access/arns";
import { LakeRole } from "../access/lake-role";
import { allow, trust } from "../access/policy";

export const POSTGRES_PORT = 5432;
/** Where enhanced monitoring writes (a log group RDS owns by this fixed name). */
export const ENHANCED_MONITORING_LOG_GROUP = "RDSOSMetrics";
/** How often Secrets Manager rotates the RDS-managed master password (RDS's own default, made explicit). */
export const MASTER_PASSWORD_ROTATION_DAYS = 7;

export interface WarehouseSizing {
  readonly engineVersion: string;
  readonly instanceClass: string;
  readonly allocatedStorageGb: number;
  readonly maxAllocatedStorageGb: number;
  readonly multiAz: boolean;
  readonly deletionProtection: boolean;
  /** Automated backups kept = the point-in-time-recovery window (1..35 days). */
  readonly backupRetentionDays: number;
  readonly logRetentionDays: number;
  readonly alarms: {
    readonly cpuPercent: number;
    readonly freeStorageGb: number;
    readonly connections: number;
  };
}

export interface ServingWarehouseProps {
  /** Names every resource, e.g. `opl-dev-warehouse` (also the DB instance identifier). */
  readonly name: string;
  readonly location: AwsLocation;
  readonly vpcId: string;
  readonly subnetIds: string[];
  /** The availability zone of the first subnet (where the loader's Glue connection places its ENIs). */
  readonly loaderAvailabilityZone: string;
  readonly endpointSecurityGroupId: string;
  readonly s3PrefixListId: string;
  /** BI clients admitted to PostgreSQL: CIDRs (never /0) and security groups. */
  readonly clientCidrs: readonly string[];
  readonly clientSecurityGroupIds: readonly string[];
  /** CMK of storage, Performance Insights and the master password secret. */
  readonly dataKeyArn: string;
  /** CMK of the exported PostgreSQL logs. */
  readonly logsKeyArn: string;
  readonly alarmTopicArn: string;
  readonly permissionsBoundaryArn: string;
  readonly sizing: WarehouseSizing;
  /** terraform prevent_destroy on the instance. */
  readonly preventDestroy: boolean;
}

/** The Glue NETWORK connection of a warehouse named `name` (the workload boundary names it before it exists). */
export const loaderConnectionName = (name: string): string => `${name}-loader`;

/** The CloudWatch alarm names of a warehouse named `name` (the alerts topic admits exactly these). */
export const warehouseAlarmNames = (name: string): string[] =>
  ["cpu", "free-storage", "connections"].map((metric) => `${name}-${metric}`);

/**
 * RDS PostgreSQL for the marts: private (no public address; 5432 only from the loader's security group and the
 * configured BI clients), KMS-encrypted storage and Performance Insights, TLS forced (rds.force_ssl), IAM
 * database authentication, master password in Secrets Manager (RDS-managed, rotated), audit logging
 * (pgaudit, connections) exported to KMS-encrypted log groups, enhanced monitoring, backups with
 * point-in-time recovery, Multi-AZ and deletion protection from config, and alarms to the alerts topic.
 */
export class ServingWarehouse extends Construct {
  readonly instanceIdentifier: string;
  /** The instance's DbiResourceId: what rds-db:connect names in an IAM policy. */
  readonly resourceId: string;
  readonly endpoint: string;
  readonly securityGroupId: string;
  /** The security group the loader runs in (admitted to 5432; reaches S3 and the endpoints). */
  readonly loaderSecurityGroupId: string;
  readonly masterUserSecretArn: string;
  readonly monitoringRoleName: string;
  /** The Glue NETWORK connection a loader job attaches to, and its subnet. */
  readonly loaderConnectionName: string;
  readonly loaderSubnetId: string;

  constructor(scope: Construct, id: string, props: ServingWarehouseProps) {
    super(scope, id);
    const open = props.clientCidrs.filter((c) => c.endsWith("/0"));
    if (open.length > 0) {
      throw new Error(
        `ServingWarehouse ${props.name}: clientCidrs ${open.join(", ")} would admit the internet.`,
      );
    }
    const { sizing, location } = props;
    const major = sizing.engineVersion.split(".")[0];

    const warehouseSg = new SecurityGroup(this, "sg", {
      name: props.name,
      description: "PostgreSQL: 5432 from the loader and the configured BI clients only",
      vpcId: props.vpcId,
      egress: [],
      tags: { Name: props.name },
    });
    // The loader's rules are inline (one resource): Glue requires the group to admit itself on every TCP port
    // (its workers talk to each other); everything else it may reach is named.
    const loaderEgress = (description: string, port: number, target: Record<string, unknown>) => ({
      description,
      protocol: "tcp",
      fromPort: port,
      toPort: port,
      cidrBlocks: [],
      ipv6CidrBlocks: [],
      prefixListIds: [],
      securityGroups: [],
      selfAttribute: false,
      ...target,
    });
    const loaderSg = new SecurityGroup(this, "loader-sg", {
      name: `${props.name}-loader`,
      description: "Warehouse loader: PostgreSQL, S3 and the VPC endpoints",
      vpcId: props.vpcId,
      ingress: [
        {
          description: "Glue workers of the loader among themselves",
          protocol: "tcp",
          fromPort: 0,
          toPort: 65535,
          selfAttribute: true,
          cidrBlocks: [],
          ipv6CidrBlocks: [],
          prefixListIds: [],
          securityGroups: [],
        },
      ],
      egress: [
        loaderEgress("Loader to PostgreSQL", POSTGRES_PORT, { securityGroups: [warehouseSg.id] }),
        loaderEgress("Loader to the VPC endpoints", 443, { securityGroups: [props.endpointSecurityGroupId] }),
        loaderEgress("Loader to S3 (gateway endpoint)", 443, { prefixListIds: [props.s3PrefixListId] }),
        {
          ...loaderEgress("Glue workers of the loader among themselves", 0, { selfAttribute: true }),
          toPort: 65535,
        },
      ],
      tags: { Name: `${props.name}-loader` },
    });
    const ingress = (
      ruleId: string,
      description: string,
      source: { cidrIpv4?: string; referencedSecurityGroupId?: string },
    ) =>
      new VpcSecurityGroupIngressRule(this, ruleId, {
        securityGroupId: warehouseSg.id,
        description,
        ipProtocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        ...source,
      });
    ingress("from-loader", "PostgreSQL from the loader", { referencedSecurityGroupId: loaderSg.id });
    for (const [i, sg] of props.clientSecurityGroupIds.entries()) {
      ingress(`from-client-sg-${i}`, `PostgreSQL from BI clients (${sg})`, { referencedSecurityGroupId: sg });
    }
    for (const [i, cidr] of props.clientCidrs.entries()) {
      ingress(`from-client-cidr-${i}`, `PostgreSQL from BI clients (${cidr})`, { cidrIpv4: cidr });
    }
    // Where a Glue job running the loader (tools/warehouse/cli.py load) gets its network interfaces.
    const connection = new GlueConnection(this, "loader-connection", {
      name: loaderConnectionName(props.name),
      description: "Network of the warehouse loader: private subnet, loader security group",
      connectionType: "NETWORK",
      physicalConnectionRequirements: {
        subnetId: props.subnetIds[0],
        availabilityZone: props.loaderAvailabilityZone,
        securityGroupIdList: [loaderSg.id],
      },
    });

    const subnets = new DbSubnetGroup(this, "subnets", {
      name: props.name,
      description: "Private subnets of the warehouse VPC",
      subnetIds: props.subnetIds,
    });
    const parameters = new DbParameterGroup(this, "parameters", {
      name: `${props.name}-pg${major}`,
      family: `postgres${major}`,
      description: "Warehouse: TLS only, audit logging",
      parameter: [
        { name: "rds.force_ssl", value: "1" },
        { name: "ssl_min_protocol_version", value: "TLSv1.2" },
        { name: "password_encryption", value: "scram-sha-256" },
        { name: "log_connections", value: "1" },
        { name: "log_disconnections", value: "1" },
        { name: "log_min_duration_statement", value: "1000" },
        { name: "log_statement", value: "ddl" },
        {
          name: "shared_preload_libraries",
          value: "pgaudit,pg_stat_statements",
          applyMethod: "pending-reboot",
        },
        // DDL and role changes: who changed the schema or privileges (reads are too many to audit usefully).
        { name: "pgaudit.log", value: "ddl,role" },
        { name: "pgaudit.role", value: "rds_pgaudit" },
      ],
      lifecycle: { createBeforeDestroy: true },
    });
    const logGroups = ["postgresql", "upgrade"].map(
      (kind) =>
        new CloudwatchLogGroup(this, `${kind}-logs`, {
          name: `/aws/rds/instance/${props.name}/${kind}`,
          retentionInDays: sizing.logRetentionDays,
          kmsKeyId: props.logsKeyArn,
        }),
    );
    const monitoringRole = new LakeRole(this, "monitoring-role", {
      roleName: `${props.name}-monitoring`,
      description: "RDS enhanced monitoring of the warehouse",
      permissionsBoundaryArn: props.permissionsBoundaryArn,
      trustStatements: [
        trust("RdsMonitoringAssumesRole", { Service: "monitoring.rds.amazonaws.com" }, "sts:AssumeRole", {
          StringEquals: { "aws:SourceAccount": location.account },
        }),
      ],
      statements: [
        allow({
          sid: "EnhancedMonitoringLogs",
          actions: [
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogStreams",
            "logs:GetLogEvents",
          ],
          resources: [
            arns.logGroup(location, ENHANCED_MONITORING_LOG_GROUP),
            arns.logGroup(location, `${ENHANCED_MONITORING_LOG_GROUP}:*`),
          ],
        }),
      ],
    });
    const db = new DbInstance(this, "instance", {
      identifier: props.name,
      engine: "postgres",
      engineVersion: sizing.engineVersion,
      autoMinorVersionUpgrade: true,
      instanceClass: sizing.instanceClass,
      dbName: "warehouse",
      username: "warehouse_master",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.dataKeyArn,
      iamDatabaseAuthenticationEnabled: true,
      storageType: "gp3",
      allocatedStorage: sizing.allocatedStorageGb,
      maxAllocatedStorage: sizing.maxAllocatedStorageGb,
      storageEncrypted: true,
      kmsKeyId: props.dataKeyArn,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [warehouseSg.id],
      publiclyAccessible: false,
      parameterGroupName: parameters.name,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      multiAz: sizing.multiAz,
      deletionProtection: sizing.deletionProtection,
      backupRetentionPeriod: sizing.backupRetentionDays,
      copyTagsToSnapshot: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: `${props.name}-final`,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: props.dataKeyArn,
      performanceInsightsRetentionPeriod: 7,
      monitoringInterval: 60,
      monitoringRoleArn: monitoringRole.roleArn,
      dependsOn: logGroups,
      lifecycle: { preventDestroy: props.preventDestroy },
    });

    // RDS-managed secrets rotate without a Lambda; the schedule is stated here so a plan shows it.
    new SecretsmanagerSecretRotation(this, "master-password-rotation", {
      secretId: db.masterUserSecret.get(0).secretArn,
      rotationRules: { automaticallyAfterDays: MASTER_PASSWORD_ROTATION_DAYS },
      rotateImmediately: false,
    });

    const [cpuAlarm, storageAlarm, connectionsAlarm] = warehouseAlarmNames(props.name);
    const alarms = [
      {
        id: "cpu-alarm",
        alarmName: cpuAlarm,
        metricName: "CPUUtilization",
        comparisonOperator: "GreaterThanThreshold",
        threshold: sizing.alarms.cpuPercent,
        description: `Warehouse CPU above ${sizing.alarms.cpuPercent}% for 15 minutes`,
      },
      {
        id: "free-storage-alarm",
        alarmName: storageAlarm,
        metricName: "FreeStorageSpace",
        comparisonOperator: "LessThanThreshold",
        threshold: sizing.alarms.freeStorageGb * 1024 ** 3,
        description: `Warehouse free storage below ${sizing.alarms.freeStorageGb} GB`,
      },
      {
        id: "connections-alarm",
        alarmName: connectionsAlarm,
        metricName: "DatabaseConnections",
        comparisonOperator: "GreaterThanThreshold",
        threshold: sizing.alarms.connections,
        description: `Warehouse connections above ${sizing.alarms.connections}`,
      },
    ];
    for (const alarm of alarms) {
      new CloudwatchMetricAlarm(this, alarm.id, {
        alarmName: alarm.alarmName,
        alarmDescription: alarm.description,
        namespace: "AWS/RDS",
        metricName: alarm.metricName,
        dimensions: { DBInstanceIdentifier: db.identifier },
        statistic: "Average",
        period: 300,
        evaluationPeriods: 3,
        comparisonOperator: alarm.comparisonOperator,
        threshold: alarm.threshold,
        treatMissingData: "breaching",
        alarmActions: [props.alarmTopicArn],
        okActions: [props.alarmTopicArn],
      });
    }

    this.instanceIdentifier = db.identifier;
    this.resourceId = db.resourceId;
    this.endpoint = db.address;
    this.securityGroupId = warehouseSg.id;
    this.loaderSecurityGroupId = loaderSg.id;
    this.masterUserSecretArn = db.masterUserSecret.get(0).secretArn;
    this.monitoringRoleName = monitoringRole.roleName;
    this.loaderConnectionName = connection.name;
    this.loaderSubnetId = props.subnetIds[0];
  }
}

export * from "./loader";
