import { curatedTables } from "../../modules/catalog";
import { recipientIdentityColumns } from "../../modules/governance";
import { configWith, resourcesOfType, synthEnvironment, type TfJson } from "../helpers/synth";
import { GUARANTEES } from "../security/guarantees";

const ADMIN = "arn:aws:iam::111111111111:role/DataLakeAdmin";
const COMPLIANCE = "arn:aws:iam::111111111111:role/Compliance";

type TagRef = { key: string; value: string };
type Tagging = {
  database?: { name: string };
  table?: { database_name: string; name: string };
  table_with_columns?: { database_name: string; name: string; column_names: string[] };
  lf_tag: TagRef[];
};
type Grant = {
  principal: string;
  permissions: string[];
  lf_tag_policy: { resource_type: string; expression: Array<{ key: string; values: string[] }> };
};

/**
 * Who can SELECT which column, decided from the synthesized Lake Formation JSON alone: a column carries its
 * table's tags, overridden by tags on the column itself; a principal reads it when one of its TABLE grants with
 * SELECT has an expression every key of which the column's tag value satisfies.
 */
function canRead(lake: TfJson, principalFragment: string, table: string, column: string): boolean {
  const taggings = resourcesOfType(lake, "aws_lakeformation_resource_lf_tags").map(
    (r) => r.config as Tagging,
  );
  const tags: Record<string, string> = {};
  for (const t of taggings.filter((t) => t.table?.name === table)) {
    for (const { key, value } of t.lf_tag) tags[key] = value;
  }
  for (const t of taggings.filter(
    (t) => t.table_with_columns?.name === table && t.table_with_columns.column_names.includes(column),
  )) {
    for (const { key, value } of t.lf_tag) tags[key] = value;
  }
  return resourcesOfType(lake, "aws_lakeformation_permissions")
    .map((r) => r.config as Grant)
    .filter((g) => g.principal.includes(principalFragment) && g.permissions.includes("SELECT"))
    .filter((g) => g.lf_tag_policy.resource_type === "TABLE")
    .some((g) => g.lf_tag_policy.expression.every((e) => e.values.includes(tags[e.key])));
}

describe("Lake Formation (config lakeFormation)", () => {
  const { lake } = synthEnvironment(
    configWith("dev", { lakeFormation: { admins: [ADMIN], recipientIdentityReaders: [COMPLIANCE] } }),
  );
  const analyst = "aws_iam_role.access_analyst";
  const job = "aws_iam_role.access_glue-job";
  const crawler = "aws_iam_role.access_crawler";

  // The decision table: principal, table, column, may read.
  const decisions: Array<[string, string, string, string, boolean]> = [
    ["analyst", analyst, "general_payments", "total_amount_of_payment_usdollars", true],
    ["analyst", analyst, "general_payments", "recipient_state", true],
    ["analyst", analyst, "general_payments", "manufacturer_name_normalized", true],
    ["analyst", analyst, "general_payments", "covered_recipient_last_name", false],
    ["analyst", analyst, "general_payments", "covered_recipient_npi", false],
    ["analyst", analyst, "general_payments", "covered_recipient_profile_id", false],
    ["analyst", analyst, "general_payments", "recipient_primary_business_street_address_line1", false],
    ["analyst", analyst, "research_payments", "principal_investigator_1_last_name", false],
    ["analyst", analyst, "research_payments", "principal_investigator_1_npi", false],
    ["analyst", analyst, "ownership_interests", "physician_first_name", false],
    ["analyst", analyst, "ownership_interests", "total_amount_invested_usdollars", true],
    ["job", job, "general_payments", "covered_recipient_last_name", true],
    ["job", job, "ownership_interests", "total_amount_invested_usdollars", true],
    ["crawler", crawler, "research_payments", "principal_investigator_1_npi", true],
    ["compliance (granted)", COMPLIANCE, "general_payments", "covered_recipient_last_name", true],
    ["compliance (granted)", COMPLIANCE, "ownership_interests", "physician_npi", true],
    [
      "ingestion",
      "aws_iam_role.access_ingestion",
      "general_payments",
      "total_amount_of_payment_usdollars",
      false,
    ],
  ];

  it.each(decisions)("%s (%s) reads %s.%s: %s", (_who, principal, table, column, allowed) => {
    expect(
      curatedTables().some((t) => t.tableName === table && t.columns.some((c) => c.name === column)),
    ).toBe(true);
    expect(canRead(lake, principal, table, column)).toBe(allowed);
  });

  it("hides exactly the recipient-identity columns from the analyst, in every curated table", () => {
    for (const table of curatedTables()) {
      const columns = table.columns.map((c) => c.name);
      const hidden = columns.filter((c) => !canRead(lake, analyst, table.tableName, c));
      expect(hidden).toEqual(recipientIdentityColumns(columns));
      expect(hidden.length).toBeGreaterThan(3);
    }
  });

  it("admins from config, no IAMAllowedPrincipals on new resources, hybrid access with the analyst opted in", () => {
    const settings = resourcesOfType(lake, "aws_lakeformation_data_lake_settings")[0].config;
    expect(settings).toMatchObject({
      admins: [ADMIN],
      create_database_default_permissions: [],
      create_table_default_permissions: [],
    });
    const location = resourcesOfType(lake, "aws_lakeformation_resource")[0].config;
    expect(location).toMatchObject({ hybrid_access_enabled: true, use_service_linked_role: true });
    expect(String(location.arn)).toContain("storage_curated");
    const optIn = resourcesOfType(lake, "aws_lakeformation_opt_in")[0].config as {
      principal: Array<{ data_lake_principal_identifier: string }>;
    };
    expect(optIn.principal.map((p) => p.data_lake_principal_identifier)).toEqual([
      expect.stringContaining(analyst),
    ]);
  });

  it("satisfies the security guarantee the mutation table weakens (analyst-no-recipient-identity)", async () => {
    const config = configWith("dev", {
      lakeFormation: { admins: [ADMIN], recipientIdentityReaders: [COMPLIANCE] },
    });
    const guarantee = GUARANTEES.find((g) => g.id === "analyst-no-recipient-identity");
    const bootstrap = synthEnvironment(config)["state-bootstrap"];
    expect(await guarantee?.violations({ config, lake, bootstrap })).toEqual([]);
    expect(resourcesOfType(lake, "aws_lakeformation_permissions").length).toBeGreaterThan(0);
  });

  it("is absent unless configured", () => {
    const { lake: plain } = synthEnvironment(configWith("dev", {}));
    expect(resourcesOfType(plain, "aws_lakeformation_permissions")).toHaveLength(0);
  });
});
