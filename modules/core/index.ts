/**
 * The one module that imports `cdktf` itself. CDKTF is archived upstream (0.21.0 is final); keeping every
 * import of it here makes a move to the community fork a one-line change. Everything else imports these
 * names from `modules/core`.
 */

import { resolve } from "node:path";

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
export * from "./iam-policy";

/**
 * Where synth keeps what it builds for deployment (the zips of the code Glue and Lambda run): inside the
 * checkout, which only its owner can write. Not the shared temporary folder, where anybody could leave a file
 * under a zip's predictable name for a later synth to deploy.
 */
export const BUILD_DIR = resolve(__dirname, "..", "..", ".build");
