import { quarantineRatio } from "../../tools/orchestration/quarantine-metric";

const file = (raw_records: number, quarantined: number) => ({
  source_object: "s3://b/raw/x/part-00000.csv",
  dataset: "general",
  program_year: 2023,
  raw_records,
  cleaned: raw_records - quarantined,
  quarantined,
});

describe("quarantineRatio", () => {
  it("is the quarantined rows over the rows read, across the run's files", () => {
    expect(quarantineRatio({ files: [file(100, 5), file(300, 15)] })).toBe(0.05);
  });

  it("is undefined when the run read nothing (no ratio rather than 0/0)", () => {
    expect(quarantineRatio({ files: [] })).toBeUndefined();
    expect(quarantineRatio({ files: [file(0, 0)] })).toBeUndefined();
  });
});
