import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { Construct } from "constructs";
import { type AwsLocation, arns } from "../access/arns";
import { LakeRole } from "../access/lake-role";
import { allow } from "../access/policy";
import { AssetType, type PolicyStatement, TerraformAsset } from "../core";
import { type BundleName, buildBundle } from "./lambda-bundle";

/** Lambda's runtime for every handler: Node.js 22 (the bundles target it). */
export const LAMBDA_RUNTIME = "nodejs22.x";

export interface RefreshFunctionProps {
  readonly location: AwsLocation;
  readonly functionName: string;
  readonly description: string;
  readonly bundle: Exclude<BundleName, "ingest-cli">;
  readonly environment: Record<string, string>;
  /** What the handler does in AWS, beyond writing its logs and traces. */
  readonly statements: PolicyStatement[];
  readonly permissionsBoundaryArn: string;
  /** Encrypts the environment variables and the log group. */
  readonly kmsKeyArn: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** At most this many concurrent runs (protects CMS and the account's Lambda concurrency). */
  readonly reservedConcurrency: number;
  readonly logRetentionDays: number;
  /** Where asynchronous invocations that fail go (checkov CKV_AWS_116); the SQS-fed validator's queue has its own. */
  readonly deadLetterQueueArn?: string;
}

/**
 * One handler of the refresh: its reproducible bundle (the zip's hash in source_code_hash), its own role under the
 * orchestration boundary, a KMS-encrypted log group created before the function (so Lambda never creates an
 * unencrypted one), KMS-encrypted environment, X-Ray tracing and bounded concurrency.
 */
export class RefreshFunction extends Construct {
  readonly functionArn: string;
  readonly functionName: string;
  readonly roleArn: string;
  readonly roleName: string;

  constructor(scope: Construct, id: string, props: RefreshFunctionProps) {
    super(scope, id);
    const logGroupName = `/aws/lambda/${props.functionName}`;
    const logGroup = new CloudwatchLogGroup(this, "logs", {
      name: logGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });
    const role = new LakeRole(this, "role", {
      roleName: props.functionName,
      description: `Runs the ${props.functionName} Lambda function (${props.description})`,
      permissionsBoundaryArn: props.permissionsBoundaryArn,
      trustStatements: [
        allow({
          sid: "LambdaAssumes",
          principal: { Service: "lambda.amazonaws.com" },
          actions: ["sts:AssumeRole"],
          resources: ["*"],
          unscopedBecause: "a trust policy's resource is the role itself",
          conditions: { StringEquals: { "aws:SourceAccount": props.location.account } },
        }),
      ],
      statements: [
        allow({
          sid: "WriteOwnLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [arns.logGroup(props.location, `${logGroupName}:*`)],
        }),
        allow({
          sid: "Traces",
          actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
          resources: ["*"],
          unscopedBecause: "xray:PutTraceSegments and PutTelemetryRecords have no resource types",
        }),
        allow({
          sid: "DecryptOwnEnvironment",
          actions: ["kms:Decrypt"],
          resources: [props.kmsKeyArn],
          conditions: {
            StringEquals: { "kms:EncryptionContext:LambdaFunctionName": props.functionName },
          },
        }),
        ...(props.deadLetterQueueArn
          ? [
              allow({
                sid: "DeadLetters",
                actions: ["sqs:SendMessage"],
                resources: [props.deadLetterQueueArn],
              }),
            ]
          : []),
        ...props.statements,
      ],
    });
    const bundle = buildBundle(props.bundle);
    const asset = new TerraformAsset(this, "code", { path: bundle.zipFile, type: AssetType.FILE });
    const fn = new LambdaFunction(this, "function", {
      functionName: props.functionName,
      description: props.description,
      role: role.roleArn,
      runtime: LAMBDA_RUNTIME,
      architectures: ["arm64"],
      handler: "index.handler",
      filename: asset.path,
      sourceCodeHash: bundle.sourceCodeHash,
      timeout: props.timeoutSeconds,
      memorySize: props.memoryMb,
      reservedConcurrentExecutions: props.reservedConcurrency,
      kmsKeyArn: props.kmsKeyArn,
      environment: { variables: props.environment },
      tracingConfig: { mode: "Active" },
      loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
      ...(props.deadLetterQueueArn ? { deadLetterConfig: { targetArn: props.deadLetterQueueArn } } : {}),
      dependsOn: [logGroup],
    });
    this.functionArn = fn.arn;
    this.functionName = fn.functionName;
    this.roleArn = role.roleArn;
    this.roleName = role.roleName;
  }
}
