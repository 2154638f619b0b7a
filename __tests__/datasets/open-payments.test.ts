import { readFileSync } from "node:fs";
import { join } from "node:path";
import openPayments from "../../datasets/open-payments.json";
import { openPaymentsDir } from "../helpers/shared-data";

// The layouts file is the single source of truth for CMS column names: it must match CMS's exact header lines
// (kept in ../shared/open-payments/layouts) column for column.
const cmsLayouts = join(openPaymentsDir, "layouts");

const headerFiles: Record<string, string> = {
  "general.modern-91": "general.modern-91.header",
  "general.legacy-75": "general.legacy-75.header",
  "research.modern-252": "research.modern-252.header",
  "research.legacy-176": "research.legacy-176.header",
  "ownership.modern-30": "ownership.modern-30.header",
  "ownership.legacy-29": "ownership.legacy-29.header",
  "removed-deleted-4": "removed-deleted-4.header",
};

describe("datasets/open-payments.json", () => {
  it.each(Object.entries(headerFiles))("layout %s lists CMS's exact header columns in order", (id, file) => {
    const layout = openPayments.layouts.find((l) => l.id === id);
    expect(layout).toBeDefined();
    const header = readFileSync(join(cmsLayouts, file), "utf8").trim().split(",");
    expect(layout?.columns.map((c) => c.name)).toEqual(header);
    expect(layout?.columnCount).toBe(header.length);
  });

  it("maps every layout column onto a canonical column of its dataset, each at most once", () => {
    for (const layout of openPayments.layouts) {
      const canonical =
        openPayments.canonicalColumns[layout.dataset as keyof typeof openPayments.canonicalColumns];
      const names = new Set(canonical.map((c) => c.name));
      const targets = layout.columns.map((c) => c.canonical);
      expect(targets.filter((t) => !names.has(t))).toEqual([]);
      expect(new Set(targets).size).toBe(targets.length);
    }
  });

  it("types money as decimal, dates as date and keeps identifiers as strings", () => {
    const general = new Map(openPayments.canonicalColumns.general.map((c) => [c.name, c.type]));
    expect(general.get("total_amount_of_payment_usdollars")).toBe("decimal");
    expect(general.get("date_of_payment")).toBe("date");
    expect(general.get("record_id")).toBe("string");
    expect(general.get("covered_recipient_npi")).toBe("string");
    expect(general.get("teaching_hospital_ccn")).toBe("string");
    expect(general.get("recipient_zip_code")).toBe("string");
    expect(general.get("program_year")).toBe("integer");
    expect(general.get("related_product_indicator")).toBe("boolean");
  });

  it("maps legacy physician columns onto the modern covered-recipient names", () => {
    const legacy = openPayments.layouts.find((l) => l.id === "general.legacy-75");
    const byName = new Map(legacy?.columns.map((c) => [c.name, c.canonical]));
    expect(byName.get("Physician_Profile_ID")).toBe("covered_recipient_profile_id");
    expect(byName.get("Physician_Specialty")).toBe("covered_recipient_specialty_1");
    expect(byName.get("Physician_License_State_code3")).toBe("covered_recipient_license_state_code3");
    expect(byName.get("Physician_Ownership_Indicator")).toBe("physician_ownership_indicator");
  });
});
