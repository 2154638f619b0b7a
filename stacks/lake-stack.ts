import type { Construct } from "constructs";
import { arns, GithubCiRoles, LakeAccess, ROLE_PURPOSES } from "../modules/access";
import { GlueFailureAlerts } from "../modules/alerts";
import { LakeCatalog, LakeSecurityConfiguration } from "../modules/catalog";
import { DEFAULT_REFRESH_SCHEDULE, type LakeConfig, NAME_LIMITS, Naming } from "../modules/config";
import { TerraformStack } from "../modules/core";
import { GLUE_ARTIFACTS_PREFIX, GLUE_TEMP_PREFIX, LakeEtl } from "../modules/etl";
import { LAKE_FORMATION_SERVICE_ROLE, LakeFormationGovernance } from "../modules/governance";
import { IngestionMetadataTable } from "../modules/ingestion-metadata";
import { LakeKeys } from "../modules/keys";
import { flowLogGroupName, PrivateNetwork } from "../modules/network";
import { alarmArnPattern, LakeOrchestration } from "../modules/orchestration";
import { LakeDataQuality } from "../modules/quality";
import { ATHENA_RESULTS_PREFIX, LakeQuery } from "../modules/query";
import { configureBackend, githubOidcProviderArn } from "../modules/state";
import { icebergTableFolder, LakeStorage } from "../modules/storage";
import {
  ENHANCED_MONITORING_LOG_GROUP,
  LOADER_DATABASE_USER,
  loaderConnectionName,
  ServingWarehouse,
  WarehouseLoader,
  warehouseAlarmNames,
} from "../modules/warehouse";
import { lakeAwsProvider } from "./aws-provider";
import { declareOutputs } from "./declare-outputs";
import { LAKE_OUTPUTS } from "./outputs";

export interface LakeStackProps {
  readonly config: LakeConfig;
}

/**
 * One environment's data lake. Construct ids are part of every resource's Terraform address: renaming one
 * replaces the resource (see __tests__/stacks/stateful-addresses.test.ts).
 */
export class LakeStack extends TerraformStack {
  readonly config: LakeConfig;
  readonly naming: Naming;
  readonly keys: LakeKeys;
  readonly storage: LakeStorage;
  /** The account's GitHub OIDC provider (created by the owning environment's state-bootstrap stack). */
  readonly githubOidcProviderArn: string;
  readonly ingestionTable: IngestionMetadataTable;
  readonly access: LakeAccess;
  readonly catalog: LakeCatalog;
  readonly etl: LakeEtl;
  /** Undefined where config etl.qualityRulesets is false. */
  readonly quality: LakeDataQuality | undefined;
  readonly query: LakeQuery;
  readonly alerts: GlueFailureAlerts;
  readonly ci: GithubCiRoles;
  /** The serving warehouse's network and database, when `warehouse.enabled` (docs/warehouse.md). */
  readonly warehouseNetwork?: PrivateNetwork;
  readonly warehouse?: ServingWarehouse;
  /** The Glue job refreshing the marts from curated, when `warehouse.enabled`. */
  readonly warehouseLoader?: WarehouseLoader;
  /** The hands-off refresh, when `orchestration.enabled` (docs/orchestration.md). */
  readonly orchestration?: LakeOrchestration;

  constructor(scope: Construct, id: string, { config }: LakeStackProps) {
    super(scope, id);
    this.config = config;
    this.naming = new Naming(config);
    lakeAwsProvider(this, config);
    configureBackend(this, { backend: config.backend, naming: this.naming, stackName: id });
    this.githubOidcProviderArn = githubOidcProviderArn(this.naming.location);

    this.keys = new LakeKeys(this, "keys", { config, naming: this.naming });
    this.storage = new LakeStorage(this, "storage", {
      config,
      naming: this.naming,
      dataKeyArn: this.keys.data.keyArn,
      breakGlassRoleArn: this.naming.roleArn(config.keys.breakGlassRoleName),
    });

    // Use this.config, this.naming, this.keys.data / this.keys.logs (addUser / addServiceGrant), the buckets in
    // this.storage (zones.raw|cleaned|curated, athenaResults, accessLogs: bucketName, bucketArn, objectsArn())
    // and this.githubOidcProviderArn.
    const { raw, cleaned, curated } = this.storage.zones;
    const location = this.naming.location;
    const via = (service: string) => this.naming.viaService(service);
    const names = {
      rawDatabase: this.naming.database("raw"),
      curatedDatabase: this.naming.database("curated"),
      rawCrawler: this.naming.resource("raw-crawler"),
      curatedCrawler: this.naming.resource("curated-crawler"),
      workgroup: this.naming.resource("analysts", NAME_LIMITS.athenaWorkgroup),
      warehouse: this.naming.resource("warehouse"),
      warehouseLoader: this.naming.resource("warehouse-loader"),
    };
    const warehouseConfig = config.warehouse?.enabled ? config.warehouse : undefined;
    const warehouseAlarmArns = warehouseConfig
      ? warehouseAlarmNames(names.warehouse).map((name) => arns.cloudwatchAlarm(location, name))
      : [];

    this.ingestionTable = new IngestionMetadataTable(this, "ingestion-metadata", {
      tableName: this.naming.resource("ingestion", NAME_LIMITS.dynamodbTable),
      kmsKeyArn: this.keys.data.keyArn,
      deletionProtection: config.protectStatefulResources,
      preventDestroy: config.protectStatefulResources,
    });
    this.access = new LakeAccess(this, "access", {
      location,
      namePrefix: this.naming.prefix,
      buckets: {
        raw: { arn: raw.bucketArn },
        cleaned: { arn: cleaned.bucketArn },
        curated: { arn: curated.bucketArn },
        athenaResults: { arn: this.storage.athenaResults.bucketArn },
      },
      dataKeyArn: this.keys.data.keyArn,
      ingestionTableKeyArn: this.keys.data.keyArn,
      ingestionTableArn: this.ingestionTable.tableArn,
      rawDatabaseName: names.rawDatabase,
      curatedDatabaseName: names.curatedDatabase,
      athenaWorkgroupName: names.workgroup,
      athenaResultsPrefix: ATHENA_RESULTS_PREFIX,
      glueArtifactsPrefix: GLUE_ARTIFACTS_PREFIX,
      glueTempPrefix: GLUE_TEMP_PREFIX,
      ingestionPrincipalArns: config.access.ingestionPrincipalArns,
      analystPrincipalArns: config.access.analystPrincipalArns,
      serviceRoleLogGroups: warehouseConfig
        ? [flowLogGroupName(names.warehouse), ENHANCED_MONITORING_LOG_GROUP]
        : undefined,
      warehouseLoader: warehouseConfig
        ? { databaseUser: LOADER_DATABASE_USER, connectionName: loaderConnectionName(names.warehouse) }
        : undefined,
    });
    const { ingestionRole, crawlerRole, glueJobRole, analystRole } = this.access;
    this.keys.data.addUser({
      name: "IngestionWriter",
      principalArn: ingestionRole.roleArn,
      viaServices: [via("s3"), via("dynamodb")],
    });
    this.keys.data.addUser({
      name: "GlueCrawler",
      principalArn: crawlerRole.roleArn,
      viaServices: [via("s3")],
    });
    this.keys.data.addUser({
      name: "GlueJob",
      principalArn: glueJobRole.roleArn,
      viaServices: [via("s3"), via("glue")],
    });
    this.keys.data.addUser({ name: "Analyst", principalArn: analystRole.roleArn, viaServices: [via("s3")] });

    const securityConfiguration = new LakeSecurityConfiguration(this, "glue-security", {
      name: this.naming.resource("glue"),
      dataKeyArn: this.keys.data.keyArn,
      logsKeyArn: this.keys.logs.keyArn,
    });
    this.catalog = new LakeCatalog(this, "catalog", {
      rawDatabaseName: names.rawDatabase,
      curatedDatabaseName: names.curatedDatabase,
      rawCrawlerName: names.rawCrawler,
      curatedCrawlerName: names.curatedCrawler,
      rawBucketName: raw.bucketName,
      curatedBucketName: curated.bucketName,
      crawlerRoleArn: crawlerRole.roleArn,
      securityConfigurationName: securityConfiguration.name,
      curatedFormat: config.etl.curatedFormat,
    });
    this.etl = new LakeEtl(this, "etl", {
      namePrefix: this.naming.prefix,
      buckets: {
        raw_bucket: raw.bucketName,
        cleaned_bucket: cleaned.bucketName,
        curated_bucket: curated.bucketName,
      },
      jobRoleArn: glueJobRole.roleArn,
      securityConfigurationName: securityConfiguration.name,
      dataKeyArn: this.keys.data.keyArn,
      logsKeyArn: this.keys.logs.keyArn,
      sizing: config.etl,
      rawCrawlerName: this.catalog.rawCrawlerName,
      curatedCrawlerName: this.catalog.curatedCrawlerName,
      curated: {
        format: config.etl.curatedFormat,
        maxRuleViolationRatio: config.etl.maxRuleViolationRatio,
        databaseName: this.catalog.curatedDatabaseName,
        bucketName: curated.bucketName,
      },
    });
    this.quality = config.etl.qualityRulesets
      ? new LakeDataQuality(this, "quality", {
          namePrefix: this.naming.prefix,
          curatedDatabaseName: this.catalog.curatedDatabaseName,
          tableNames: Object.values(this.catalog.curatedTableNames),
          tableDependencies: this.catalog.curatedTableResources,
          maxViolationRatio: config.etl.maxRuleViolationRatio,
        })
      : undefined;
    this.query = new LakeQuery(this, "query", {
      workgroupName: names.workgroup,
      resultsBucketName: this.storage.athenaResults.bucketName,
      resultsKeyArn: this.keys.data.keyArn,
      account: config.accountId,
      bytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
      curatedDatabaseName: this.catalog.curatedDatabaseName,
    });
    if (config.lakeFormation) {
      // Lake Formation reads the SSE-KMS curated objects through its service-linked role.
      this.keys.data.addUser({
        name: "LakeFormation",
        principalArn: arns.role(location, LAKE_FORMATION_SERVICE_ROLE),
        viaServices: [via("s3")],
      });
      new LakeFormationGovernance(this, "lake-formation", {
        admins: config.lakeFormation.admins,
        curatedDatabaseName: this.catalog.curatedDatabaseName,
        curatedBucketArn: curated.bucketArn,
        analystRoleArn: analystRole.roleArn,
        jobRoleArn: glueJobRole.roleArn,
        crawlerRoleArn: crawlerRole.roleArn,
        recipientIdentityReaderArns: config.lakeFormation.recipientIdentityReaders,
        tableDependencies: this.catalog.curatedTableResources,
      });
    }
    const alertsTopicName = this.naming.resource("alerts", NAME_LIMITS.snsTopic);
    this.alerts = new GlueFailureAlerts(this, "alerts", {
      topicName: alertsTopicName,
      topicKeyArn: this.keys.logs.keyArn,
      account: config.accountId,
      // The warehouse loader's failures too (named before it exists: the alerts come first).
      jobNames: [...Object.values(this.etl.jobNames), ...(warehouseConfig ? [names.warehouseLoader] : [])],
      crawlerNames: [this.catalog.rawCrawlerName, this.catalog.curatedCrawlerName].filter(
        (name): name is string => name !== undefined,
      ),
      email: config.alerts.email,
      alarmArns: warehouseAlarmArns,
      ...(config.orchestration.enabled
        ? {
            alarmArnPattern: alarmArnPattern(location, this.naming.prefix),
            budgetsPublish: config.orchestration.budgetMonthlyUsd !== undefined,
          }
        : {}),
    });
    // EventBridge encrypts what it publishes to the topic with the logs key: only this account's alert rules
    // (the exact rule ARNs, and the account, so a rule of the same name elsewhere cannot use the key).
    this.keys.logs.addServiceGrant({
      name: "EventBridgeAlerts",
      service: "events.amazonaws.com",
      actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
      conditions: {
        StringEquals: { "aws:SourceAccount": config.accountId },
        ArnEquals: { "aws:SourceArn": this.alerts.ruleArns },
      },
    });

    if (warehouseConfig) {
      this.warehouseNetwork = new PrivateNetwork(this, "warehouse-network", {
        name: names.warehouse,
        location,
        cidr: warehouseConfig.vpcCidr,
        zones: warehouseConfig.availabilityZones,
        interfaceEndpoints: warehouseConfig.interfaceEndpoints,
        logsKeyArn: this.keys.logs.keyArn,
        logRetentionDays: warehouseConfig.logRetentionDays,
        permissionsBoundaryArn: this.access.boundary.arn,
      });
      this.warehouse = new ServingWarehouse(this, "warehouse", {
        name: names.warehouse,
        location,
        vpcId: this.warehouseNetwork.vpcId,
        subnetIds: this.warehouseNetwork.subnetIds,
        loaderAvailabilityZone: this.warehouseNetwork.availabilityZones[0] ?? "",
        endpointSecurityGroupId: this.warehouseNetwork.endpointSecurityGroupId,
        s3PrefixListId: this.warehouseNetwork.s3PrefixListId,
        clientCidrs: warehouseConfig.clientCidrs,
        clientSecurityGroupIds: warehouseConfig.clientSecurityGroupIds,
        dataKeyArn: this.keys.data.keyArn,
        logsKeyArn: this.keys.logs.keyArn,
        alarmTopicArn: this.alerts.topicArn,
        permissionsBoundaryArn: this.access.boundary.arn,
        sizing: warehouseConfig,
        preventDestroy: config.protectStatefulResources,
      });
      this.warehouseLoader = new WarehouseLoader(this, "warehouse-loader", {
        name: names.warehouseLoader,
        location,
        network: {
          vpcId: this.warehouseNetwork.vpcId,
          connectionName: this.warehouse.loaderConnectionName,
          subnetId: this.warehouse.loaderSubnetId,
          securityGroupId: this.warehouse.loaderSecurityGroupId,
        },
        securityConfigurationName: securityConfiguration.name,
        artifacts: {
          bucketName: cleaned.bucketName,
          bucketArn: cleaned.bucketArn,
          prefix: GLUE_ARTIFACTS_PREFIX,
        },
        curated: {
          bucketName: curated.bucketName,
          bucketArn: curated.bucketArn,
          databaseName: this.catalog.curatedDatabaseName,
        },
        athena: {
          workgroupName: this.query.workgroupName,
          resultsBucketArn: this.storage.athenaResults.bucketArn,
          resultsPrefix: ATHENA_RESULTS_PREFIX,
        },
        database: {
          host: this.warehouse.endpoint,
          resourceId: this.warehouse.resourceId,
          user: LOADER_DATABASE_USER,
        },
        dataKeyArn: this.keys.data.keyArn,
        logsKeyArn: this.keys.logs.keyArn,
        permissionsBoundaryArn: this.access.boundary.arn,
        logRetentionDays: warehouseConfig.logRetentionDays,
      });
      this.keys.data.addUser({
        name: "WarehouseLoader",
        principalArn: this.warehouseLoader.roleArn,
        viaServices: [via("s3")],
      });
      // CloudWatch encrypts what its alarms publish to the topic with the logs key: only these alarms.
      this.keys.logs.addServiceGrant({
        name: "CloudWatchAlarms",
        service: "cloudwatch.amazonaws.com",
        actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
        conditions: {
          StringEquals: { "aws:SourceAccount": config.accountId },
          ArnEquals: { "aws:SourceArn": warehouseAlarmArns },
        },
      });
    }
    if (config.orchestration.enabled) {
      this.orchestration = this.addOrchestration(config, names);
    }

    this.ci = new GithubCiRoles(this, "ci", {
      location,
      namePrefix: this.naming.prefix,
      planRoleName: this.naming.role(ROLE_PURPOSES.ciPlan),
      deployRoleName: this.naming.role(ROLE_PURPOSES.ciDeploy),
      oidcProviderArn: this.githubOidcProviderArn,
      repository: config.ci.githubRepository,
      immutableSubject: config.ci.immutableSubject,
      deployRef: config.ci.deployRef,
      deployEnvironment: config.ci.deployEnvironment,
      state: {
        bucketName: this.naming.stateBucket,
        key: this.naming.stateKey(id),
        lockTableName: this.naming.lockTable,
      },
      bucketArns: this.storage.all.map((bucket) => bucket.bucketArn),
      artifactsBucketArn: cleaned.bucketArn,
      artifactsPrefix: GLUE_ARTIFACTS_PREFIX,
      artifactsKeyArn: this.keys.data.keyArn,
      keyArns: [this.keys.data.keyArn, this.keys.logs.keyArn],
      keyAliases: [this.keys.data.aliasName, this.keys.logs.aliasName],
      ingestionTableName: this.ingestionTable.tableName,
      workloadRoleNames: [ingestionRole, crawlerRole, glueJobRole, analystRole].map((r) => r.roleName),
      glueRoleNames: [crawlerRole.roleName, glueJobRole.roleName],
      permissionsBoundaryArn: arns.policy(location, this.access.boundaryName),
      environmentTag: { key: "environment", value: config.tags.environment },
      warehouse:
        this.warehouse && this.warehouseNetwork && this.warehouseLoader
          ? {
              name: names.warehouse,
              flowLogsRoleName: this.warehouseNetwork.flowLogRoleName,
              monitoringRoleName: this.warehouse.monitoringRoleName,
              loaderRoleName: this.warehouseLoader.roleName,
              dataKeyArn: this.keys.data.keyArn,
            }
          : undefined,
      orchestration: this.orchestration
        ? {
            boundaryArn: arns.policy(location, this.orchestration.boundaryName),
            roles: this.orchestration.passedRoles,
            functionNames: this.orchestration.functionNames,
            stateMachineName: this.naming.resource("refresh"),
            logsKeyArn: this.keys.logs.keyArn,
            landingBucketArn: cleaned.bucketArn,
          }
        : undefined,
      lakeFormation: config.lakeFormation !== undefined,
      lakehouse:
        config.etl.curatedFormat === "iceberg"
          ? {
              curatedBucketArn: curated.bucketArn,
              tableLocations: Object.values(this.catalog.curatedTableNames).map(icebergTableFolder),
              dataKeyArn: this.keys.data.keyArn,
            }
          : undefined,
    });
    // The deployer uploads the Glue code into the SSE-KMS cleaned bucket; with the warehouse, RDS and Secrets
    // Manager encrypt the database and its master secret for it (grants for AWS resources only).
    this.keys.data.addUser({
      name: "CiDeploy",
      principalArn: this.ci.deployRole.roleArn,
      viaServices: [via("s3"), ...(this.warehouse ? [via("rds"), via("secretsmanager")] : [])],
      mayCreateGrantsForAwsResources: this.warehouse !== undefined,
    });
    if (this.orchestration) {
      // Lambda and Step Functions encrypt the refresh's environments and execution data for the deployer.
      this.keys.logs.addUser({
        name: "CiDeploy",
        principalArn: this.ci.deployRole.roleArn,
        viaServices: [via("lambda"), via("states")],
      });
    }

    declareOutputs(this, LAKE_OUTPUTS, {
      region: config.region,
      rawBucket: raw.bucketName,
      cleanedBucket: cleaned.bucketName,
      curatedBucket: curated.bucketName,
      athenaResultsBucket: this.storage.athenaResults.bucketName,
      accessLogsBucket: this.storage.accessLogs.bucketName,
      dataKey: this.keys.data.keyArn,
      ingestionTable: this.ingestionTable.tableName,
      rawDatabase: this.catalog.rawDatabaseName,
      curatedDatabase: this.catalog.curatedDatabaseName,
      athenaWorkgroup: this.query.workgroupName,
      ingestionRole: ingestionRole.roleArn,
      glueJobRole: glueJobRole.roleArn,
      analystRole: analystRole.roleArn,
      alertsTopic: this.alerts.topicArn,
      cleanJob: this.etl.jobNames.clean,
      curateJob: this.etl.jobNames.curate,
      workflow: this.etl.workflowName,
      ciPlanRole: this.ci.planRole.roleArn,
      ciDeployRole: this.ci.deployRole.roleArn,
    });
  }

  /** The refresh's construct, its keys' users and the services that encrypt with the logs key for it. */
  private addOrchestration(
    config: LakeConfig,
    names: { workgroup: string; curatedDatabase: string },
  ): LakeOrchestration {
    const { raw, cleaned, curated } = this.storage.zones;
    const bucket = (b: { bucketName: string; bucketArn: string }) => ({
      name: b.bucketName,
      arn: b.bucketArn,
    });
    const o = config.orchestration;
    const orchestration = new LakeOrchestration(this, "orchestration", {
      location: this.naming.location,
      namePrefix: this.naming.prefix,
      settings: {
        // Nothing runs on a schedule in local (the schema refuses one there).
        schedule:
          o.schedule === undefined
            ? config.environment === "local"
              ? null
              : DEFAULT_REFRESH_SCHEDULE
            : o.schedule,
        programYears: o.programYears,
        mapConcurrency: o.mapConcurrency,
        lambdaMaxBytes: o.lambdaMaxBytes,
        timeoutHours: o.timeoutHours,
        glueMaxMinutes: o.glueMaxMinutes,
        quarantineRatioMax: o.quarantineRatioMax,
        budgetMonthlyUsd: o.budgetMonthlyUsd,
        // The refresh's logs are its audit trail (who ingested what, why a run failed): at least a year.
        logRetentionDays: Math.max(config.etl.logRetentionDays, 365),
      },
      logsKeyArn: this.keys.logs.keyArn,
      dataKeyArn: this.keys.data.keyArn,
      alertsTopicArn: this.alerts.topicArn,
      buckets: {
        raw: bucket(raw),
        cleaned: bucket(cleaned),
        curated: bucket(curated),
        athenaResults: bucket(this.storage.athenaResults),
        // The operations bucket (Glue code, scratch, reports): deletes allowed, not write-once like raw.
        landing: bucket(cleaned),
      },
      ingestionTable: { name: this.ingestionTable.tableName, arn: this.ingestionTable.tableArn },
      jobs: {
        clean: this.etl.jobNames.clean,
        curate: this.etl.jobNames.curate,
        // After each successful curate (and smoke), the marts are refreshed from curated.
        ...(this.warehouseLoader ? { warehouse: this.warehouseLoader.jobName } : {}),
      },
      crawlers: { raw: this.catalog.rawCrawlerName, curated: this.catalog.curatedCrawlerName },
      curatedDatabase: names.curatedDatabase,
      workgroup: names.workgroup,
      artifactsPrefix: GLUE_ARTIFACTS_PREFIX,
    });
    for (const user of orchestration.dataKeyUsers) this.keys.data.addUser(user);
    for (const user of orchestration.logsKeyUsers) this.keys.logs.addUser(user);
    const { account } = this.naming.location;
    // S3 sends landing events into the encrypted queue; CloudWatch alarms and Budgets publish to the topic.
    this.keys.logs.addServiceGrant({
      name: "S3LandingEvents",
      service: "s3.amazonaws.com",
      actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
      conditions: {
        StringEquals: { "aws:SourceAccount": account },
        ArnEquals: { "aws:SourceArn": raw.bucketArn },
      },
    });
    this.keys.logs.addServiceGrant({
      name: "RefreshAlarms",
      service: "cloudwatch.amazonaws.com",
      actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
      conditions: {
        StringEquals: { "aws:SourceAccount": account },
        ArnLike: { "aws:SourceArn": orchestration.alarmArnPattern },
      },
    });
    if (config.orchestration.budgetMonthlyUsd !== undefined) {
      this.keys.logs.addServiceGrant({
        name: "BudgetsAlerts",
        service: "budgets.amazonaws.com",
        actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
        conditions: { StringEquals: { "aws:SourceAccount": account } },
      });
    }
    return orchestration;
  }
}
