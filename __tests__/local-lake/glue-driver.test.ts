import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { lockedJars, sparkEnv } from "../../tools/local-lake/glue-driver";

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
