import type { Construct } from "constructs";
import { ROLE_PURPOSES } from "../modules/access";
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

    const naming = this.naming;
    const breakGlassRoleArn = naming.roleArn(config.keys.breakGlassRoleName);
    const keyDefaults = {
      location: naming.location,
      breakGlassRoleArn,
      deletionWindowDays: config.keys.deletionWindowDays,
      rotationPeriodDays: supports(config, "kmsRotationPeriod") ? ROTATION_PERIOD_DAYS : undefined,
      preventDestroy: config.protectStatefulResources,
    };
    // The state is read and written by this environment's CI roles and by administrators (as the break-glass
    // role), only through S3 and DynamoDB. The roles are named before the lake stack creates the CI roles.
    this.stateKey = new LakeKey(this, "state-key", {
      ...keyDefaults,
      alias: naming.stateKeyAlias,
      description: `${naming.prefix}: Terraform state and locks`,
      namedPrincipalsViaServices: {
        principalArns: [
          breakGlassRoleArn,
          naming.roleArn(naming.role(ROLE_PURPOSES.ciPlan)),
          naming.roleArn(naming.role(ROLE_PURPOSES.ciDeploy)),
        ],
        services: [naming.viaService("s3"), naming.viaService("dynamodb")],
      },
    });
    this.stateStore = new StateStore(this, "state", { config, naming: this.naming, stateKey: this.stateKey });

    if (config.ownsAccountSingletons) {
      // The catalog is the account's: every environment's catalog readers in this account, by role name
      // (`<namePrefix>-<any environment>-<purpose>`), through Glue only.
      const catalogUsers = [
        ROLE_PURPOSES.crawler,
        ROLE_PURPOSES.glueJob,
        ROLE_PURPOSES.analyst,
        ROLE_PURPOSES.ciPlan,
        ROLE_PURPOSES.ciDeploy,
      ].map((purpose) => naming.roleArn(`${config.namePrefix}-*-${purpose}`));
      const catalogKey = new LakeKey(this, "catalog-key", {
        ...keyDefaults,
        alias: naming.kmsAlias("glue-catalog"),
        description: `${naming.prefix}: Glue Data Catalog of the account`,
        namedPrincipalsViaServices: {
          principalArns: [breakGlassRoleArn, ...catalogUsers],
          services: [naming.viaService("glue")],
        },
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
