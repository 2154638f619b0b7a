import { once } from "node:events";
import { createWriteStream } from "node:fs";
import openPayments from "../../../datasets/open-payments.json";

const layout = openPayments.layouts.find((l) => l.id === "general.modern-91");
if (!layout) throw new Error("datasets/open-payments.json has no general.modern-91 layout");
const types = new Map(openPayments.canonicalColumns.general.map((c) => [c.name, c.type]));

const states = ["CA", "NY", "TX", "FL", "PA", "OH", "IL", "GA", "PR", "GU"];
const cities = [
  "LOS ANGELES",
  "New York",
  "HOUSTON",
  "Miami",
  "Pittsburgh",
  "columbus",
  "CHICAGO",
  "Atlanta",
];
const natures = [
  "Food and Beverage",
  "Consulting Fee",
  "Travel and Lodging",
  "Education",
  "Royalty or License",
];
const makers = [
  "Pfizer Inc.",
  "Medtronic USA, Inc.",
  "Johnson & Johnson Health Care Systems Inc.",
  "AbbVie Inc.",
];
const specialties = [
  "Allopathic & Osteopathic Physicians|Pediatrics",
  "Allopathic & Osteopathic Physicians|Internal Medicine|Cardiovascular Disease",
  "Dental Providers|Dentist|General Practice",
];

const pick = <T>(list: readonly T[], n: number) => list[n % list.length];
const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** One row of realistic values per the column's canonical type and name (deterministic in `n`). */
function row(n: number, programYear: number): string {
  return (layout?.columns ?? [])
    .map(({ name, canonical }) => {
      const type = types.get(canonical);
      if (canonical === "record_id") return String(1_000_000_000 + n);
      if (canonical === "program_year") return String(programYear);
      if (canonical === "change_type") return pick(["NEW", "UNCHANGED", "CHANGED"], n);
      if (canonical === "covered_recipient_npi") return String(1_000_000_000 + (n % 900_000_000));
      if (canonical === "recipient_zip_code") return `${pad(n % 99_999, 5)}-${pad(n % 9_999, 4)}`;
      if (canonical.endsWith("_state") || canonical.includes("license_state")) return pick(states, n);
      if (canonical === "recipient_city") return pick(cities, n);
      if (canonical.startsWith("covered_recipient_specialty"))
        return name.endsWith("_1") ? `"${pick(specialties, n)}"` : "";
      if (canonical === "nature_of_payment_or_transfer_of_value") return pick(natures, n);
      if (canonical.includes("manufacturer_or_applicable_gpo") && canonical.endsWith("name"))
        return `"${pick(makers, n)}"`;
      // Tens of free-text fields per file carry line breaks and quotes, as in CMS's files.
      if (canonical === "contextual_information") return n % 50 === 0 ? `"Dinner talk,\nslides ""v2"""` : "";
      if (type === "decimal") return `${(n % 250_000) / 100 + 0.01}`.replace(/^(\d+\.\d)$/, "$10");
      if (type === "date") return `${pad((n % 12) + 1, 2)}/${pad((n % 28) + 1, 2)}/${programYear}`;
      if (type === "integer") return String((n % 3) + 1);
      if (type === "boolean") return n % 9 === 0 ? "Yes" : "No";
      return n % 4 === 0 ? "" : `"${name.slice(0, 12)} ${n % 1000}"`;
    })
    .join(",");
}

/** Writes a General Payments CSV (modern 91-column layout) of at least `targetBytes`; returns bytes and records. */
export async function writeGeneralCsv(
  path: string,
  targetBytes: number,
  programYear = 2023,
): Promise<{ bytes: number; records: number }> {
  const out = createWriteStream(path, { highWaterMark: 1024 * 1024 });
  let bytes = 0;
  let records = 0;
  let batch = `${layout?.columns.map((c) => c.name).join(",")}\n`;
  while (bytes + batch.length < targetBytes) {
    for (let i = 0; i < 1000; i++) batch += `${row(records++, programYear)}\n`;
    bytes += Buffer.byteLength(batch);
    if (!out.write(batch)) await once(out, "drain");
    batch = "";
  }
  out.end();
  await once(out, "finish");
  return { bytes, records };
}
