import type { Construct } from "constructs";
import { type LakeConfig, Naming, supports } from "../modules/config";
import { LocalBackend, TerraformStack } from "../modules/core";
import { LakeKey, ROTATION_PERIOD_DAYS } from "../modules/keys";
import { AccountSingletons, StateStore } from "../modules/state";
import { lakeAwsProvider } from "./aws-provider";
import { declareOutputs } from "./declare-outputs";
import { STATE_BOOTSTRAP_OUTPUTS } from "./outputs";

export interface StateBootstrapStackProps {
  readonly config: LakeConfig;
}

/**
 * Applied first, with local state: the S3 bucket, lock table and KMS key that hold every other stack's state,
 * plus the account-wide singletons when this environment owns them.
 */
export class StateBootstrapStack extends TerraformStack {
  readonly config: LakeConfig;
  readonly naming: Naming;
  readonly stateKey: LakeKey;
  readonly stateStore: StateStore;
  readonly singletons?: AccountSingletons;

  constructor(scope: Construct, id: string, { config }: StateBootstrapStackProps) {
    super(scope, id);
    this.config = config;
    this.naming = new Naming(config);
    lakeAwsProvider(this, config);
    // Its own state cannot live in the bucket it creates; see config/README.md for migrating it afterwards.
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });

    const keyDefaults = {
      accountId: config.accountId,
      breakGlassRoleArn: this.naming.roleArn(config.keys.breakGlassRoleName),
      deletionWindowDays: config.keys.deletionWindowDays,
      rotationPeriodDays: supports(config, "kmsRotationPeriod") ? ROTATION_PERIOD_DAYS : undefined,
      preventDestroy: config.protectStatefulResources,
    };
    this.stateKey = new LakeKey(this, "state-key", {
      ...keyDefaults,
      alias: this.naming.stateKeyAlias,
      description: `${this.naming.prefix}: Terraform state and locks`,
      accountPrincipalsViaServices: [
        `s3.${config.region}.amazonaws.com`,
        `dynamodb.${config.region}.amazonaws.com`,
      ],
    });
    this.stateStore = new StateStore(this, "state", { config, naming: this.naming, stateKey: this.stateKey });

    if (config.ownsAccountSingletons) {
      const catalogKey = new LakeKey(this, "catalog-key", {
        ...keyDefaults,
        alias: this.naming.kmsAlias("glue-catalog"),
        description: `${this.naming.prefix}: Glue Data Catalog of the account`,
        accountPrincipalsViaServices: [`glue.${config.region}.amazonaws.com`],
      });
      this.singletons = new AccountSingletons(this, "account", {
        naming: this.naming,
        catalogKey,
        accountPublicAccessBlock: supports(config, "s3ControlAccountEndpoint"),
      });
    }

    declareOutputs(this, STATE_BOOTSTRAP_OUTPUTS, {
      region: config.region,
      stateBucket: this.stateStore.bucket.bucketName,
      stateAccessLogsBucket: this.stateStore.accessLogs.bucketName,
      lockTable: this.stateStore.lockTable.name,
      stateKey: this.stateKey.keyArn,
    });
  }
}
