import { GlueDataCatalogEncryptionSettings } from "@cdktf/provider-aws/lib/glue-data-catalog-encryption-settings";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { S3AccountPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-account-public-access-block";
import { Construct } from "constructs";
import type { AwsLocation, Naming } from "../config";
import type { LakeKey } from "../keys";

/** GitHub Actions' OIDC issuer; the CI deployer role of each lake stack trusts it. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/** The ARN every stack can use to reference the account's GitHub OIDC provider (a static string). */
export function githubOidcProviderArn(location: Pick<AwsLocation, "account" | "partition">): string {
  return `arn:${location.partition}:iam::${location.account}:oidc-provider/${GITHUB_OIDC_HOST}`;
}

export interface AccountSingletonsProps {
  readonly naming: Naming;
  /**
   * Encrypts the Glue Data Catalog (metadata and connection passwords). Create it with
   * `namedPrincipalsViaServices` through `glue.<region>.amazonaws.com`: every catalog reader decrypts through Glue.
   */
  readonly catalogKey: LakeKey;
  /** False only where the S3 Control endpoint is unreachable (the local profile, see MOTO_GAPS). */
  readonly accountPublicAccessBlock: boolean;
}

/**
 * Settings that exist once per AWS account and region, whichever lake uses them: the Glue Data Catalog
 * encryption, the account-level S3 public access block and the GitHub OIDC identity provider. Exactly one
 * environment per account owns them (`ownsAccountSingletons`); two owners would fight over the same setting.
 */
export class AccountSingletons extends Construct {
  readonly catalogEncryption: GlueDataCatalogEncryptionSettings;
  readonly publicAccessBlock?: S3AccountPublicAccessBlock;
  readonly githubOidcProvider: IamOpenidConnectProvider;

  constructor(
    scope: Construct,
    id: string,
    { naming, catalogKey, accountPublicAccessBlock }: AccountSingletonsProps,
  ) {
    super(scope, id);
    this.catalogEncryption = new GlueDataCatalogEncryptionSettings(this, "glue-catalog-encryption", {
      catalogId: naming.accountId,
      dataCatalogEncryptionSettings: {
        encryptionAtRest: { catalogEncryptionMode: "SSE-KMS", sseAwsKmsKeyId: catalogKey.keyArn },
        connectionPasswordEncryption: {
          returnConnectionPasswordEncrypted: true,
          awsKmsKeyId: catalogKey.keyArn,
        },
      },
    });
    if (accountPublicAccessBlock) {
      this.publicAccessBlock = new S3AccountPublicAccessBlock(this, "s3-account-public-access-block", {
        accountId: naming.accountId,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
    }
    this.githubOidcProvider = new IamOpenidConnectProvider(this, "github-oidc", {
      url: `https://${GITHUB_OIDC_HOST}`,
      clientIdList: ["sts.amazonaws.com"],
    });
  }
}
