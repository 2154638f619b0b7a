import type { BackendConfig, Naming } from "../config";
import {
  CloudBackend,
  LocalBackend,
  NamedCloudWorkspace,
  S3Backend,
  TaggedCloudWorkspaces,
  type TerraformStack,
} from "../core";

export interface BackendProps {
  readonly backend: BackendConfig;
  readonly naming: Naming;
  /** The stack's name; the S3 state key and the local state file are derived from it. */
  readonly stackName: string;
}

/**
 * Configures where a stack keeps its state. Every value is a static string (backends cannot take tokens); the
 * S3 bucket, lock table and key alias come from `Naming`, the same source the state-bootstrap stack uses.
 */
export function configureBackend(stack: TerraformStack, props: BackendProps): void {
  const { backend, naming, stackName } = props;
  switch (backend.type) {
    case "local":
      new LocalBackend(stack, { path: `terraform.${stackName}.tfstate` });
      return;
    case "s3":
      // The state bucket, table and key live where the environment's state-bootstrap stack created them.
      new S3Backend(stack, {
        bucket: naming.stateBucket,
        key: naming.stateKey(stackName),
        region: naming.region,
        encrypt: true,
        // The state bucket's policy accepts exactly this alias ARN besides the key ARN (DenyOtherKmsKey).
        kmsKeyId: naming.stateKeyAliasArn,
        dynamodbTable: naming.lockTable,
      });
      // Terraform >= 1.10 locks with a lock file in the bucket and deprecates the DynamoDB table; both are set
      // during the migration window. cdktf 0.21 does not know the field, hence the override.
      stack.addOverride("terraform.backend.s3.use_lockfile", true);
      return;
    case "cloud": {
      const ws = backend.workspace;
      new CloudBackend(stack, {
        organization: backend.organization,
        hostname: backend.hostname,
        workspaces: "name" in ws ? new NamedCloudWorkspace(ws.name) : new TaggedCloudWorkspaces(ws.tags),
      });
      return;
    }
  }
}
