import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { glueJobs, lockedJars, scopedJobs, scopeOf, sparkEnv } from "../../tools/local-lake/glue-driver";

// The local Glue driver's S3A jars come from jars.lock (fetched by `make setup`), not from a Maven resolution
// at run time.
describe("lockedJars", () => {
  it("gives the S3A jars at the versions jars.lock pins, hadoop-aws matching the Hadoop Spark is built on", () => {
    const jars = lockedJars(["hadoop-aws", "aws-java-sdk-bundle", "wildfly-openssl"]);
    expect(jars.map((jar) => basename(jar))).toEqual([
      "hadoop-aws-3.3.4.jar",
      "aws-java-sdk-bundle-1.12.262.jar",
      "wildfly-openssl-1.0.7.Final.jar",
    ]);
    const sparkJars = readdirSync(join(sparkEnv().SPARK_HOME ?? "", "jars"));
    const hadoop = sparkJars.find((jar) => jar.startsWith("hadoop-client-api-"));
    expect(hadoop).toBe("hadoop-client-api-3.3.4.jar");
  });

  const root = mkdtempSync(join(tmpdir(), "locked-jars-"));
  mkdirSync(join(root, ".build", "jars"), { recursive: true });
  writeFileSync(join(root, "jars.lock"), "# a comment\n\ng:fetched:1.0 abc\ng:absent:2.0 def\n");
  writeFileSync(join(root, ".build", "jars", "fetched-1.0.jar"), "");

  it("reads the artifact's version from the lock", () => {
    expect(lockedJars(["fetched"], root)).toEqual([join(root, ".build", "jars", "fetched-1.0.jar")]);
  });

  it("names an artifact the lock does not pin", () => {
    expect(() => lockedJars(["fetched", "unpinned"], root)).toThrow(
      `unpinned is not pinned in ${join(root, "jars.lock")}`,
    );
  });

  it("names a pinned jar that is not fetched, and says how to fetch it", () => {
    expect(() => lockedJars(["absent"], root)).toThrow(
      `${join(root, ".build", "jars", "absent-2.0.jar")} is missing: run 'make setup'`,
    );
  });
});

// `local-lake run --files` runs the jobs over the partitions the new files went into (the integration test proves
// the jobs leave the others untouched); these are the selections it passes.
describe("the jobs' scope on run", () => {
  const jobs = glueJobs({ rawBucket: "raw", cleanedBucket: "cleaned", curatedBucket: "curated" });
  const selections = (scope: Parameters<typeof scopedJobs>[1]) =>
    Object.fromEntries(
      scopedJobs(jobs, scope).map((job) => [
        job.id,
        [job.arguments["--datasets"], job.arguments["--program_years"]],
      ]),
    );

  it("is the ingested files' datasets and program years, each once and in order", () => {
    expect(
      scopeOf([
        { dataset: "ownership", programYear: 2021 },
        { dataset: "general", programYear: 2020 },
        { dataset: "ownership", programYear: 2020 },
      ]),
    ).toEqual({ datasets: ["general", "ownership"], programYears: [2020, 2021] });
  });

  it("is no scope (every partition) when no file was new", () => {
    expect(scopeOf([])).toBeUndefined();
  });

  it("limits both jobs to the scope's datasets and program years, and changes nothing else", () => {
    expect(jobs.map((job) => [job.arguments["--datasets"], job.arguments["--program_years"]])).toEqual([
      ["all", "all"],
      ["all", "all"],
    ]);
    const scoped = scopedJobs(jobs, { datasets: ["general", "ownership"], programYears: [2020, 2021] });
    expect(selections({ datasets: ["general", "ownership"], programYears: [2020, 2021] })).toEqual({
      clean: ["general,ownership", "2020,2021"],
      curate: ["general,ownership", "2020,2021"],
    });
    scoped.forEach((job, i) => {
      expect({ ...job.arguments, "--datasets": "all", "--program_years": "all" }).toEqual(jobs[i].arguments);
    });
  });

  it("curates every curated dataset of the years when removed/deleted records came in", () => {
    expect(selections({ datasets: ["ownership", "removed_deleted"], programYears: [2022] })).toEqual({
      clean: ["ownership,removed_deleted", "2022"],
      curate: ["all", "2022"],
    });
  });

  it("adds no selection to a job that takes none", () => {
    const maintain = { id: "maintain", script: "maintain_job.py", arguments: { "--retain_last": "5" } };
    expect(scopedJobs([maintain], { datasets: ["general"], programYears: [2023] })).toEqual([maintain]);
  });
});
