/**
 * The one module that imports `cdktf` itself. CDKTF is archived upstream (0.21.0 is final); keeping every
 * import of it here makes a move to the community fork a one-line change. Everything else imports these
 * names from `modules/core`.
 */

export type { ITerraformDependable } from "cdktf";
export {
  App,
  AssetType,
  CloudBackend,
  Lazy,
  LocalBackend,
  NamedCloudWorkspace,
  S3Backend,
  TaggedCloudWorkspaces,
  TerraformAsset,
  TerraformOutput,
  TerraformStack,
  Testing,
} from "cdktf";
export * from "./build-output";
export * from "./iam-policy";
