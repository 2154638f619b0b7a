import { GlueSecurityConfiguration } from "@cdktf/provider-aws/lib/glue-security-configuration";
import { Construct } from "constructs";

export interface LakeSecurityConfigurationProps {
  readonly name: string;
  /** CMK for data Glue writes to S3 and for job bookmarks. */
  readonly dataKeyArn: string;
  /** CMK for the CloudWatch log groups of crawlers and jobs. */
  readonly logsKeyArn: string;
}

/**
 * The Glue security configuration every crawler and job runs with: S3 output SSE-KMS, CloudWatch logs and
 * job bookmarks encrypted with the lake's CMKs. Nothing is configurable to weaken: there are no plaintext modes.
 */
export class LakeSecurityConfiguration extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: LakeSecurityConfigurationProps) {
    super(scope, id);
    const configuration = new GlueSecurityConfiguration(this, "configuration", {
      name: props.name,
      encryptionConfiguration: {
        s3Encryption: { s3EncryptionMode: "SSE-KMS", kmsKeyArn: props.dataKeyArn },
        cloudwatchEncryption: { cloudwatchEncryptionMode: "SSE-KMS", kmsKeyArn: props.logsKeyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: "CSE-KMS", kmsKeyArn: props.dataKeyArn },
      },
    });
    this.name = configuration.name;
  }
}
