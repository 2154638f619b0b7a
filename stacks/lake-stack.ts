import type { Construct } from "constructs";
import { type LakeConfig, Naming } from "../modules/config";
import { TerraformOutput, TerraformStack } from "../modules/core";
import { LakeKeys } from "../modules/keys";
import { configureBackend, githubOidcProviderArn } from "../modules/state";
import { LakeStorage } from "../modules/storage";
import { lakeAwsProvider } from "./aws-provider";

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

  constructor(scope: Construct, id: string, { config }: LakeStackProps) {
    super(scope, id);
    this.config = config;
    this.naming = new Naming(config);
    lakeAwsProvider(this, config);
    configureBackend(this, {
      backend: config.backend,
      naming: this.naming,
      stackName: id,
      region: config.region,
      accountId: config.accountId,
    });
    this.githubOidcProviderArn = githubOidcProviderArn(config.accountId);

    this.keys = new LakeKeys(this, "keys", { config, naming: this.naming });
    this.storage = new LakeStorage(this, "storage", {
      config,
      naming: this.naming,
      dataKeyArn: this.keys.data.keyArn,
      breakGlassRoleArn: this.naming.roleArn(config.keys.breakGlassRoleName),
    });

    const output = (name: string, value: string) => new TerraformOutput(this, name, { value });
    output("region", config.region);
    output("raw_bucket_name", this.storage.zones.raw.bucketName);
    output("cleaned_bucket_name", this.storage.zones.cleaned.bucketName);
    output("curated_bucket_name", this.storage.zones.curated.bucketName);
    output("athena_results_bucket_name", this.storage.athenaResults.bucketName);
    output("access_logs_bucket_name", this.storage.accessLogs.bucketName);
    output("data_kms_key_arn", this.keys.data.keyArn);

    // ---- BEGIN engineer B: catalog, etl, query, ingestion-metadata, access, alerts (and their outputs) ----
    // Use this.config, this.naming, this.keys.data / this.keys.logs (addUser / addServiceGrant), the buckets in
    // this.storage (zones.raw|cleaned|curated, athenaResults, accessLogs: bucketName, bucketArn, objectsArn())
    // and this.githubOidcProviderArn.
    // ---- END engineer B ----
  }
}
