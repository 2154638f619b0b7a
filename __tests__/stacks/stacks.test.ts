import { GITHUB_OIDC_HOST } from "../../modules/state";
import { LOCAL_AWS_PROFILE, localAwsConfig } from "../../stacks/aws-provider";
import { configWith, resourcesOfType, single, synthEnvironment, synthStack } from "../helpers/synth";

describe("lake stack backend", () => {
  it("uses the bootstrap's S3 bucket, a per-stack key, KMS, DynamoDB locking and the S3 lock file", () => {
    expect(synthStack("dev", "lake").terraform.backend).toEqual({
      s3: {
        bucket: "opl-dev-tfstate-111111111111-us-east-1",
        key: "stacks/lake-dev/terraform.tfstate",
        region: "us-east-1",
        encrypt: true,
        kms_key_id: "arn:aws:kms:us-east-1:111111111111:alias/opl-dev-tfstate",
        dynamodb_table: "opl-dev-tflock",
        use_lockfile: true,
      },
    });
  });

  it("names exactly what the state-bootstrap stack creates", () => {
    const bootstrap = synthStack("dev", "state-bootstrap");
    const backend = synthStack("dev", "lake").terraform.backend?.s3;
    expect(resourcesOfType(bootstrap, "aws_s3_bucket").map((b) => b.config.bucket)).toContain(
      backend?.bucket,
    );
    expect(resourcesOfType(bootstrap, "aws_dynamodb_table").map((t) => t.config.name)).toEqual([
      backend?.dynamodb_table,
    ]);
    expect(resourcesOfType(bootstrap, "aws_kms_alias").map((a) => a.config.name)).toContain(
      String(backend?.kms_key_id).split(":").pop(),
    );
  });

  it("holds only static values (backends cannot take references)", () => {
    for (const env of ["dev", "prod", "local"] as const) {
      expect(JSON.stringify(synthStack(env, "lake").terraform.backend)).not.toMatch(/\$\{/);
    }
  });

  it("can be Terraform Cloud with a named workspace", () => {
    const config = configWith("prod", {
      backend: { type: "cloud", organization: "acme", workspace: { name: "open-payments-lake-prod" } },
    });
    const { lake } = synthEnvironment(config);
    expect(lake.terraform.backend).toBeUndefined();
    expect(lake.terraform.cloud).toEqual({
      organization: "acme",
      workspaces: { name: "open-payments-lake-prod" },
    });
  });

  it("can be Terraform Cloud with workspace tags and a custom host", () => {
    const config = configWith("prod", {
      backend: {
        type: "cloud",
        organization: "acme",
        hostname: "tfe.example.org",
        workspace: { tags: ["lake", "prod"] },
      },
    });
    expect(synthEnvironment(config).lake.terraform.cloud).toEqual({
      organization: "acme",
      hostname: "tfe.example.org",
      workspaces: { tags: ["lake", "prod"] },
    });
  });

  it("can be a local state file", () => {
    const { lake } = synthEnvironment(configWith("dev", { backend: { type: "local" } }));
    expect(lake.terraform.backend).toEqual({ local: { path: "terraform.lake-dev.tfstate" } });
  });
});

describe("state-bootstrap stack", () => {
  const prod = synthStack("prod", "state-bootstrap");

  it("keeps its own state locally", () => {
    expect(prod.terraform.backend).toEqual({ local: { path: "terraform.state-bootstrap-prod.tfstate" } });
  });

  it("has a lock table keyed by LockID, on demand, with PITR, the state key and deletion protection in prod", () => {
    const table = single(resourcesOfType(prod, "aws_dynamodb_table"), "lock table").config;
    const stateKey = single(
      resourcesOfType(prod, "aws_kms_alias").filter((a) => a.config.name === "alias/opl-prod-tfstate"),
      "state key alias",
    ).config.target_key_id as string;
    expect(table).toMatchObject({
      name: "opl-prod-tflock",
      hash_key: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      billing_mode: "PAY_PER_REQUEST",
      point_in_time_recovery: { enabled: true },
      deletion_protection_enabled: true,
    });
    const sse = table.server_side_encryption as { enabled: boolean; kms_key_arn: string };
    expect(sse.enabled).toBe(true);
    expect(sse.kms_key_arn.replace(".arn}", "")).toBe(stateKey.replace(".key_id}", ""));
    const dev = single(
      resourcesOfType(synthStack("dev", "state-bootstrap"), "aws_dynamodb_table"),
      "lock table",
    );
    expect(dev.config.deletion_protection_enabled).toBe(false);
  });

  it("encrypts the state bucket with its own key, not the lake's", () => {
    const enc = resourcesOfType(prod, "aws_s3_bucket_server_side_encryption_configuration").map(
      (e) =>
        (
          e.config.rule as Array<{ apply_server_side_encryption_by_default: { kms_master_key_id?: string } }>
        )[0],
    );
    const kmsKeys = enc
      .map((r) => r?.apply_server_side_encryption_by_default.kms_master_key_id)
      .filter(Boolean);
    const stateKey = single(
      resourcesOfType(prod, "aws_kms_alias").filter((a) => a.config.name === "alias/opl-prod-tfstate"),
      "state key alias",
    ).config.target_key_id as string;
    expect(kmsKeys).toEqual([stateKey.replace(".key_id}", ".arn}")]);
  });

  it("holds the account-wide singletons in the owning environment", () => {
    expect(resourcesOfType(prod, "aws_glue_data_catalog_encryption_settings")).toHaveLength(1);
    expect(resourcesOfType(prod, "aws_s3_account_public_access_block")).toHaveLength(1);
    expect(
      single(resourcesOfType(prod, "aws_iam_openid_connect_provider"), "OIDC provider").config,
    ).toMatchObject({
      url: `https://${GITHUB_OIDC_HOST}`,
      client_id_list: ["sts.amazonaws.com"],
    });
    const catalog = single(
      resourcesOfType(prod, "aws_glue_data_catalog_encryption_settings"),
      "catalog",
    ).config;
    expect(catalog).toMatchObject({
      catalog_id: "222222222222",
      data_catalog_encryption_settings: {
        encryption_at_rest: { catalog_encryption_mode: "SSE-KMS" },
        connection_password_encryption: { return_connection_password_encrypted: true },
      },
    });
  });

  it("leaves the singletons out where another environment owns them", () => {
    const { "state-bootstrap": json } = synthEnvironment(configWith("dev", { ownsAccountSingletons: false }));
    for (const type of [
      "aws_glue_data_catalog_encryption_settings",
      "aws_s3_account_public_access_block",
      "aws_iam_openid_connect_provider",
    ]) {
      expect(resourcesOfType(json, type)).toHaveLength(0);
    }
  });

  it("has no singletons in the lake stacks", () => {
    for (const env of ["dev", "prod", "local"] as const) {
      const lake = synthStack(env, "lake");
      expect(resourcesOfType(lake, "aws_glue_data_catalog_encryption_settings")).toHaveLength(0);
      expect(resourcesOfType(lake, "aws_s3_account_public_access_block")).toHaveLength(0);
      expect(resourcesOfType(lake, "aws_iam_openid_connect_provider")).toHaveLength(0);
    }
  });

  it("locally creates no account public access block (MOTO_GAPS.s3ControlAccountEndpoint), the rest stays", () => {
    const local = synthStack("local", "state-bootstrap");
    expect(resourcesOfType(local, "aws_s3_account_public_access_block")).toHaveLength(0);
    expect(resourcesOfType(local, "aws_glue_data_catalog_encryption_settings")).toHaveLength(1);
    expect(resourcesOfType(local, "aws_s3_bucket_public_access_block")).toHaveLength(2);
  });
});

describe("providers", () => {
  it("pin the account, region and default tags on AWS", () => {
    const provider = single(synthStack("prod", "lake").provider.aws ?? [], "aws provider");
    expect(provider).toEqual({
      region: "us-east-1",
      allowed_account_ids: ["222222222222"],
      default_tags: [
        {
          tags: {
            project: "open-payments-lake",
            environment: "prod",
            owner: "data-platform@example.org",
            "cost-center": "CC-DATA-01",
            "data-classification": "public",
          },
        },
      ],
    });
  });

  it("point every service at moto locally through the local profile, path-style, few retries, and still request the account id", () => {
    for (const kind of ["lake", "state-bootstrap"] as const) {
      const provider = single(synthStack("local", kind).provider.aws ?? [], "aws provider");
      expect(provider).toMatchObject({
        profile: LOCAL_AWS_PROFILE,
        access_key: "testing",
        secret_key: "testing",
        s3_use_path_style: true,
        skip_credentials_validation: true,
        max_retries: 2,
      });
      // The endpoint lives in the profile only: an endpoints block costs ~3 s per provider configuration.
      expect(provider).not.toHaveProperty("endpoints");
      expect(provider).not.toHaveProperty("skip_requesting_account_id");
    }
  });

  it("write a local profile whose one endpoint_url covers every service (no per-service list to fall short)", () => {
    expect(localAwsConfig("http://127.0.0.1:5000").split("\n")).toEqual([
      `[profile ${LOCAL_AWS_PROFILE}]`,
      "endpoint_url = http://127.0.0.1:5000",
      "",
    ]);
  });
});
