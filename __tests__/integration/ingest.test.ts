import { createHash, Hash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { parse } from "csv-parse/sync";
import { awsClients } from "../../tools/ingest/aws";
import { runCli } from "../../tools/ingest/cli";
import { ingestFile } from "../../tools/ingest/ingest-file";
import { IngestionLedger } from "../../tools/ingest/ledger";
import { JsonLinesReporter } from "../../tools/ingest/progress";
import { RawStore, sameS3Checksum, uploadChunkBytes } from "../../tools/ingest/raw-store";
import {
  csvFor,
  FakeCms,
  headerOf,
  type LocalLake,
  makeZip,
  realOwnership,
  sha256,
  startLocalLake,
} from "../ingest/fixtures";

jest.setTimeout(60_000);

let lake: LocalLake;
let cms: FakeCms;
let work: string;

beforeAll(async () => {
  [lake, cms] = await Promise.all([startLocalLake(), new FakeCms().start()]);
  work = mkdtempSync(join(tmpdir(), "ingest-test-"));
});

afterAll(async () => {
  await Promise.all([lake?.stop(), cms?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
  logs: Record<string, unknown>[];
}

async function cli(...args: string[]): Promise<Run> {
  let out = "";
  let err = "";
  const logs: Record<string, unknown>[] = [];
  const code = await runCli(args, {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    reporter: () => new JsonLinesReporter((line) => logs.push(JSON.parse(line))),
  });
  return { code, out, err, logs };
}

const targetArgs = () => [
  "--bucket",
  lake.bucket,
  "--table",
  lake.table,
  "--region",
  "us-east-1",
  "--endpoint",
  lake.moto.endpoint,
];
const ingest = (...args: string[]) => cli("ingest", ...targetArgs(), ...args);

async function versionsUnder(prefix: string) {
  const out = await lake.s3.send(new ListObjectVersionsCommand({ Bucket: lake.bucket, Prefix: prefix }));
  return [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])];
}

/** The ingestion folders under a file's folder (`…/<stem>/ingestion=<id>/`), oldest first, with their keys. */
async function ingestionsUnder(fileFolder: string) {
  const folders = new Map<string, string[]>();
  for (const v of await versionsUnder(fileFolder)) {
    const rest = (v.Key ?? "").slice(fileFolder.length);
    const m = /^(ingestion=[^/]+\/)(.+)$/.exec(rest);
    if (!m) throw new Error(`${v.Key}: not inside an ingestion folder of ${fileFolder}`);
    folders.set(fileFolder + m[1], [...(folders.get(fileFolder + m[1]) ?? []), m[2]].sort());
  }
  return [...folders.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** Folders sealed by a manifest.json, oldest first. */
const sealedUnder = async (fileFolder: string) =>
  (await ingestionsUnder(fileFolder)).filter(([, keys]) => keys.includes("manifest.json")).map(([f]) => f);

/** Raw is write-once: no key under the prefix was ever written twice or deleted (no delete markers). */
async function expectWrittenOnce(prefix: string) {
  const out = await lake.s3.send(new ListObjectVersionsCommand({ Bucket: lake.bucket, Prefix: prefix }));
  const keys = (out.Versions ?? []).map((v) => v.Key);
  expect(keys.length).toBeGreaterThan(0);
  expect(new Set(keys).size).toBe(keys.length);
  expect(out.DeleteMarkers ?? []).toEqual([]);
}

async function openMultipartUploads() {
  return (await lake.s3.send(new ListMultipartUploadsCommand({ Bucket: lake.bucket }))).Uploads ?? [];
}

async function records(pk: string) {
  const out = await lake.ddb.send(
    new QueryCommand({
      TableName: lake.table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
    }),
  );
  // The per-file lease item stays (released leases are expired, not deleted): not an ingestion record.
  return (out.Items ?? []).filter((i) => i.sk !== "LEASE");
}

async function lease(pk: string) {
  const out = await lake.ddb.send(
    new QueryCommand({
      TableName: lake.table,
      KeyConditionExpression: "pk = :pk AND sk = :lease",
      ExpressionAttributeValues: { ":pk": pk, ":lease": "LEASE" },
    }),
  );
  return out.Items?.[0];
}

async function getObject(key: string): Promise<Buffer> {
  const out = await lake.s3.send(new GetObjectCommand({ Bucket: lake.bucket, Key: key }));
  return Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

const csvRecordCount = (data: Buffer) =>
  (parse(data, { bom: true, skip_empty_lines: true, relax_column_count: true }) as string[][]).length - 1;

function localCopy(name: string, data: Buffer | string): string {
  const path = join(work, name);
  writeFileSync(path, data);
  return path;
}

describe("ingest a real CMS Ownership file from a local path", () => {
  const source = realOwnership(2022);
  const original = readFileSync(source);
  const fileFolder =
    "raw/ownership/program_year=2022/publication=P01302025_01212025/OP_DTL_OWNRSHP_PGYR2022_P01302025_01212025/";
  const pk = "FILE#ownership#2022#OP_DTL_OWNRSHP_PGYR2022_P01302025_01212025";
  let prefix = "";

  it("stores record-aligned parts and, last, a manifest in a folder of its own; a verified record", async () => {
    const run = await ingest("--part-size", "512KiB", source);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^verified /);
    const [folder, ...more] = await sealedUnder(fileFolder);
    expect(more).toEqual([]);
    prefix = folder;

    const manifest = JSON.parse((await getObject(`${prefix}manifest.json`)).toString());
    expect(manifest).toMatchObject({
      version: 1,
      dataset: "ownership",
      programYear: 2022,
      publication: "P01302025_01212025",
      layout: "ownership.modern-30",
      source,
      original: {
        fileName: "OP_DTL_OWNRSHP_PGYR2022_P01302025_01212025.csv",
        sha256: sha256(original),
        bytes: original.length,
        records: csvRecordCount(original),
      },
    });
    expect(manifest.parts).toHaveLength(Math.ceil(original.length / (512 * 1024)));
    const header = original.subarray(0, original.indexOf(0x0a) + 1);
    const rebuilt: Buffer[] = [];
    for (const [i, part] of manifest.parts.entries()) {
      expect(part.key).toBe(`part-${String(i).padStart(5, "0")}.csv`);
      const bytes = await getObject(prefix + part.key);
      expect(bytes.subarray(0, header.length).equals(header)).toBe(true);
      expect(sha256(bytes)).toBe(part.sha256);
      expect(csvRecordCount(bytes)).toBe(part.records);
      rebuilt.push(i === 0 ? bytes : bytes.subarray(header.length));
      const head = await lake.s3.send(
        new HeadObjectCommand({ Bucket: lake.bucket, Key: prefix + part.key, ChecksumMode: "ENABLED" }),
      );
      expect(head.Metadata).toMatchObject({
        "original-sha256": sha256(original),
        "ingestion-id": manifest.ingestionId,
        source,
        publication: "P01302025_01212025",
        layout: "ownership.modern-30",
      });
      expect(head.ChecksumSHA256).toBe(Buffer.from(part.sha256, "hex").toString("base64"));
    }
    expect(Buffer.concat(rebuilt).equals(original)).toBe(true);
    // The folder is named after the ingestion (a sortable id) and holds exactly its parts and manifest.
    expect(prefix).toBe(`${fileFolder}ingestion=${manifest.ingestionId}/`);
    expect(manifest.ingestionId).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/);
    expect((await ingestionsUnder(fileFolder))[0][1]).toEqual(
      [...manifest.parts.map((p: { key: string }) => p.key), "manifest.json"].sort(),
    );
    await expectWrittenOnce(fileFolder);
    // manifest.json, which seals the folder, is written after every part.
    const written = await versionsUnder(prefix);
    const at = (key: string) => written.find((v) => v.Key === prefix + key)?.LastModified?.getTime() ?? 0;
    for (const part of manifest.parts) expect(at(part.key)).toBeLessThanOrEqual(at("manifest.json"));

    const items = await records(pk);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      sk: `V#${sha256(original)}`,
      gsi1pk: "DATASET#ownership",
      gsi1sk: "PY#2022#P01302025_01212025#OP_DTL_OWNRSHP_PGYR2022_P01302025_01212025",
      status: "verified",
      bytes: original.length,
      records: manifest.original.records,
      sha256: sha256(original),
      s3Prefix: prefix,
      s3Key: `${prefix}manifest.json`,
      layout: "ownership.modern-30",
      source,
      publication: "P01302025_01212025",
      ingestionId: manifest.ingestionId,
    });
    expect(items[0].s3VersionId).toEqual(expect.any(String));
    expect(items[0].timings).toMatchObject({ uploadMs: expect.any(Number), verifyMs: expect.any(Number) });
    expect(run.logs.map((l) => l.event)).toEqual(expect.arrayContaining(["started", "verified"]));
    expect(await lease(pk)).toMatchObject({ ingestionId: manifest.ingestionId, leaseExpiresAt: 0 });
  });

  it("is a no-op when the identical file is ingested again", async () => {
    const before = await versionsUnder(fileFolder);
    const run = await ingest("--part-size", "512KiB", source);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^unchanged .*identical content already verified/);
    expect(await versionsUnder(fileFolder)).toHaveLength(before.length);
    expect(await records(pk)).toHaveLength(1);
  });

  it("a corrected file under the same name is a new ingestion folder; nothing of the old one changes", async () => {
    const name = "OP_DTL_OWNRSHP_PGYR2022_P06302023.csv";
    const stem = name.replace(".csv", "");
    const at = `raw/ownership/program_year=2022/publication=P06302023/${stem}/`;
    const first = csvFor("ownership.modern-30", 300);
    const corrected = csvFor("ownership.modern-30", 280);
    expect((await ingest("--part-size", "8KiB", localCopy(name, first))).code).toBe(0);
    const [old] = await ingestionsUnder(at);
    expect((await ingest("--part-size", "8KiB", localCopy(name, corrected))).code).toBe(0);
    const items = await records(`FILE#ownership#2022#${stem}`);
    expect(items.map((i) => [i.sk, i.status]).sort()).toEqual(
      [
        [`V#${sha256(first)}`, "verified"],
        [`V#${sha256(corrected)}`, "verified"],
      ].sort(),
    );
    const folders = await ingestionsUnder(at);
    expect(folders).toHaveLength(2);
    expect(folders[0]).toEqual(old);
    const latest = JSON.parse((await getObject(`${folders[1][0]}manifest.json`)).toString());
    expect(latest.original.sha256).toBe(sha256(corrected));
    expect(folders[1][1]).toEqual(
      [...latest.parts.map((p: { key: string }) => p.key), "manifest.json"].sort(),
    );
    await expectWrittenOnce(at);

    // The first content coming back is not "unchanged": the current version is the corrected one, so it is
    // ingested again, into a third folder, under a record of its own (the first record stays as it was).
    const back = await ingest("--part-size", "8KiB", localCopy(name, first));
    expect(back.out).toMatch(/^verified /);
    const third = await sealedUnder(at);
    expect(third).toHaveLength(3);
    const again = JSON.parse((await getObject(`${third[2]}manifest.json`)).toString());
    expect(again.original.sha256).toBe(sha256(first));
    const after = await records(`FILE#ownership#2022#${stem}`);
    expect(after.find((i) => i.sk === `V#${sha256(first)}#${again.ingestionId}`)).toMatchObject({
      status: "verified",
      s3Key: `${third[2]}manifest.json`,
    });
    expect(after.find((i) => i.sk === `V#${sha256(first)}`)).toEqual(
      items.find((i) => i.sk === `V#${sha256(first)}`),
    );
  });

  it("shows the ingestion in the history (gsi1)", async () => {
    const run = await cli(
      "history",
      ...targetArgs(),
      "--dataset",
      "ownership",
      "--program-year",
      "2022",
      "--json",
    );
    expect(run.code).toBe(0);
    const history: { publication: string; fileStem: string; status: string }[] = JSON.parse(run.out);
    // Ordered by gsi1sk: year, then publication stamp, then file.
    expect(history.map((h) => [h.publication, h.status])).toEqual([
      ["P01302025_01212025", "verified"],
      ["P06302023", "verified"],
      ["P06302023", "verified"],
      ["P06302023", "verified"],
    ]);
    expect(history[0]).toMatchObject({
      status: "verified",
      fileStem: "OP_DTL_OWNRSHP_PGYR2022_P01302025_01212025",
    });
  });

  it("rebuilds the original byte for byte from its parts (a file's folder: its newest sealed ingestion)", async () => {
    const out = join(work, "rebuilt.csv");
    const run = await cli("rebuild", ...targetArgs(), fileFolder, "--out", out);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^OK /);
    expect(readFileSync(out).equals(original)).toBe(true);
    const json = await cli("rebuild", ...targetArgs(), fileFolder, "--json");
    expect(JSON.parse(json.out)).toMatchObject({ folder: prefix, matches: true, sha256: sha256(original) });
  });

  it("the ingestion's writes cannot replace an object: S3 refuses them (412) on the real moto server", async () => {
    const { s3 } = awsClients(lake.target);
    try {
      const store = new RawStore(s3, lake.bucket);
      const part = `${prefix}part-00001.csv`;
      const before = await getObject(part);
      await expect(
        store.putSmall(`${prefix}manifest.json`, Buffer.from("{}"), {}, "application/json"),
      ).rejects.toThrow(/manifest\.json already exists: raw objects are never overwritten/);
      const single = store.startObject(part, {});
      await single.write(Buffer.from("replaced"));
      await expect(single.finish()).rejects.toThrow(/part-00001\.csv already exists/);
      // A multipart upload is refused at completion (If-None-Match on CompleteMultipartUpload).
      const multipart = store.startObject(part, {});
      await multipart.write(Buffer.alloc(uploadChunkBytes + 1024, "x"));
      await expect(multipart.finish()).rejects.toThrow(/part-00001\.csv already exists/);
      expect((await getObject(part)).equals(before)).toBe(true);
      await expectWrittenOnce(fileFolder);
      expect(await openMultipartUploads()).toEqual([]);
    } finally {
      s3.destroy();
    }
  });

  it("detects a part altered in S3 after ingestion (by a writer that ignores the write-once rule)", async () => {
    const key = `${prefix}part-00001.csv`;
    const altered = Buffer.from((await getObject(key)).toString().replace(/\d/, "9"));
    await lake.s3.send(
      new PutObjectCommand({ Bucket: lake.bucket, Key: key, Body: altered, ChecksumAlgorithm: "SHA256" }),
    );
    const run = await cli("rebuild", ...targetArgs(), prefix);
    expect(run.code).toBe(1);
    expect(run.out).toBe("");
    expect(run.err).toContain(`${key}: S3 SHA-256 `);
    expect(run.err).toContain("written by another ingestion than the manifest's");
    expect(run.err).not.toMatch(/\n\s+at /); // an expected error: no stack trace
  });
});

describe("a part larger than one upload chunk (multipart, S3's checksum of checksums)", () => {
  it("is verified against the checksum computed while streaming, and rebuilds", async () => {
    const data = csvFor("general.modern-91", 14_000);
    expect(data.length).toBeGreaterThan(8 * 1024 * 1024);
    const stem = "OP_DTL_GNRL_PGYR2022_P01302025_01212025";
    const run = await ingest(localCopy(`${stem}.csv`, data));
    expect(run.code).toBe(0);
    const [at] = await sealedUnder(`raw/general/program_year=2022/publication=P01302025_01212025/${stem}/`);
    const head = await lake.s3.send(
      new HeadObjectCommand({ Bucket: lake.bucket, Key: `${at}part-00000.csv`, ChecksumMode: "ENABLED" }),
    );
    // The part is the whole file: two 8 MiB upload parts, so S3 reports the SHA-256 of their SHA-256s.
    const chunk = 8 * 1024 * 1024;
    const partHashes = [data.subarray(0, chunk), data.subarray(chunk)].map((c) =>
      Buffer.from(sha256(c), "hex"),
    );
    const composite = Buffer.from(sha256(Buffer.concat(partHashes)), "hex").toString("base64");
    expect(data.length).toBeLessThan(2 * chunk);
    expect(head.ChecksumSHA256?.replace(/-\d+$/, "")).toBe(composite);
    expect(await openMultipartUploads()).toEqual([]);
    const rebuilt = join(work, "general.csv");
    const check = await cli("rebuild", ...targetArgs(), at, "--out", rebuilt);
    expect(check.code).toBe(0);
    expect(sha256(readFileSync(rebuilt))).toBe(sha256(data));
  });

  it("each upload part carries the hash computed while streaming: the SDK hashes no byte a second time", async () => {
    const { s3 } = awsClients(lake.target);
    const sent: { part?: number; checksum?: string }[] = [];
    // At the start of the build step, before the SDK's flexible-checksums middleware would compute a checksum.
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "UploadPartCommand") {
          const input = args.input as { PartNumber?: number };
          const headers = (args.request as { headers: Record<string, string> }).headers;
          sent.push({ part: input.PartNumber, checksum: headers["x-amz-checksum-sha256"] });
        }
        return next(args);
      },
      { step: "build", priority: "high", name: "captureUploadPartChecksum" },
    );
    const data = Buffer.alloc(2 * uploadChunkBytes + 12_345, "payment,");
    const update = jest.spyOn(Hash.prototype, "update");
    try {
      const object = new RawStore(s3, lake.bucket).startObject("raw/test/hash-once.csv", {});
      for (let offset = 0; offset < data.length; offset += 1_000_003)
        await object.write(data.subarray(offset, offset + 1_000_003));
      const done = await object.finish();
      const hashed = update.mock.calls.reduce(
        (n, [chunk]: unknown[]) =>
          n + (typeof chunk === "string" ? Buffer.byteLength(chunk) : (chunk as Buffer).byteLength),
        0,
      );
      const slices = [0, 1, 2].map((i) => data.subarray(i * uploadChunkBytes, (i + 1) * uploadChunkBytes));
      expect(sent.sort((a, b) => (a.part ?? 0) - (b.part ?? 0))).toEqual(
        slices.map((slice, i) => ({
          part: i + 1,
          checksum: createHash("sha256").update(slice).digest("base64"),
        })),
      );
      // Node's Hash saw each byte once (the object's own SHA-256); the part hashes ran in WebCrypto.
      expect(hashed).toBeGreaterThanOrEqual(data.length);
      expect(hashed).toBeLessThan(data.length + 64 * 1024);
      expect(done.sha256).toBe(sha256(data));
      const head = await s3.send(
        new HeadObjectCommand({
          Bucket: lake.bucket,
          Key: "raw/test/hash-once.csv",
          ChecksumMode: "ENABLED",
        }),
      );
      expect(sameS3Checksum(head.ChecksumSHA256, done.s3Checksum)).toBe(true);
    } finally {
      update.mockRestore();
      s3.destroy();
    }
  });

  it("a failure after more than one upload part aborts the multipart upload: nothing stays in raw", async () => {
    const data = Buffer.concat([csvFor("general.modern-91", 14_000), Buffer.from('NEW,"never closed\n')]);
    const run = await ingest(localCopy("OP_DTL_GNRL_PGYR2021_P01302025_01212025.csv", data));
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/unbalanced quote/);
    expect(await versionsUnder("raw/general/program_year=2021/")).toEqual([]);
    expect(await openMultipartUploads()).toEqual([]);
  });
});

describe("bad input: clear error, failed record, nothing in raw", () => {
  const modern = headerOf("ownership.modern-30");

  it.each([
    ["truncated CSV with an unbalanced quote", `${modern}\nNEW,"1\nNEW,2\n`, /unbalanced quote/],
    [
      "a delivery cut mid-record, outside quotes",
      `${modern}\nNEW,1,2\nNEW,"3",4`,
      /OP_DTL_OWNRSHP_PGYR2019_P06302020\.csv: truncated CSV: the file ends in the middle of a record .*download it again/,
    ],
    ["empty file", "", /empty file/],
    ["HTML error page", "<!DOCTYPE html><html><body>Service unavailable</body></html>\n", /HTML/],
    [
      "wrong header",
      `${modern},Extra_Column\nNEW,1\n`,
      /OP_DTL_OWNRSHP_PGYR2019_P06302020\.csv: unknown header layout with 31 columns; nearest known layout is ownership\.modern-30 \(30 columns\): unexpected Extra_Column/,
    ],
  ])("%s", async (_name, content, message) => {
    const path = localCopy("OP_DTL_OWNRSHP_PGYR2019_P06302020.csv", content);
    const run = await ingest(path);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(message);
    expect(await versionsUnder("raw/ownership/program_year=2019/")).toEqual([]);
    const failed = (await records("FILE#ownership#2019#OP_DTL_OWNRSHP_PGYR2019_P06302020")).find(
      (r) => r.sk === `V#${sha256(content)}`,
    );
    expect(failed).toMatchObject({ status: "failed", reason: expect.stringMatching(message) });
  });

  it.each([
    ["ending inside quotes", 'NEW,"never closed\n', /unbalanced quote/, "P06302019"],
    ["cut mid-record outside quotes", "NEW,1,2,3", /ends in the middle of a record/, "P07302019"],
  ])(
    "a truncated file larger than a part (%s): its parts stay unsealed, never current",
    async (_case, tail, message, stamp) => {
      const data = Buffer.concat([csvFor("ownership.modern-30", 400), Buffer.from(tail)]);
      const stem = `OP_DTL_OWNRSHP_PGYR2018_${stamp}`;
      const run = await ingest("--part-size", "4KiB", localCopy(`${stem}.csv`, data));
      expect(run.code).toBe(1);
      expect(run.out).toMatch(message);
      const folder = `raw/ownership/program_year=2018/publication=${stamp}/${stem}/`;
      const [[unsealed, keys], ...others] = await ingestionsUnder(folder);
      expect(others).toEqual([]);
      // Nothing is deleted from raw: the parts written before the end was read stay, without a manifest.
      expect(keys.length).toBeGreaterThan(1);
      expect(keys).not.toContain("manifest.json");
      expect(run.out).toContain(
        `its folder stays unsealed (no manifest.json; readers ignore it): s3://${lake.bucket}/${unsealed}`,
      );
      expect(await openMultipartUploads()).toEqual([]);
      const [failed] = await records(`FILE#ownership#2018#${stem}`);
      expect(failed).toMatchObject({
        status: "failed",
        s3Prefix: unsealed,
        reason: expect.stringMatching(message),
      });
      expect(failed.s3Key).toBeUndefined();
    },
  );

  it("a local file written to between its hash and the end of its upload", async () => {
    const data = csvFor("ownership.modern-30", 50);
    const path = localCopy("OP_DTL_OWNRSHP_PGYR2017_P06302018.csv", data);
    // Same size, one digit changed, as soon as the file is hashed (before the upload reads it).
    const altered = Buffer.from(data);
    const at = altered.lastIndexOf("1");
    altered[at] = "2".charCodeAt(0);
    let out = "";
    const code = await runCli(["ingest", ...targetArgs(), path], {
      out: (text) => {
        out += text;
      },
      err: () => undefined,
      reporter: () =>
        new JsonLinesReporter((line) => {
          if (JSON.parse(line).event === "hashed") writeFileSync(path, altered);
        }),
    });
    expect(code).toBe(1);
    expect(out).toMatch(
      /OP_DTL_OWNRSHP_PGYR2017_P06302018\.csv: the file changed while it was being uploaded/,
    );
    expect(
      await sealedUnder(
        "raw/ownership/program_year=2017/publication=P06302018/OP_DTL_OWNRSHP_PGYR2017_P06302018/",
      ),
    ).toEqual([]);
    const [failed] = await records("FILE#ownership#2017#OP_DTL_OWNRSHP_PGYR2017_P06302018");
    expect(failed).toMatchObject({ status: "failed", sk: `V#${sha256(data)}` });
  });

  it("a corrupt ZIP", async () => {
    const path = localCopy(
      "PGYR2020_P01302025_01212025.zip",
      Buffer.from("PK\u0003\u0004 this is not really a zip"),
    );
    const run = await ingest(path);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/PGYR2020_P01302025_01212025\.zip: .*(ZIP|zip)/);
  });

  it("a ZIP using Deflate64 names the method and the way out", async () => {
    cms.routes.set("/PGYR2021_P01302025_01212025.zip", {
      body: makeZip(
        { "OP_DTL_OWNRSHP_PGYR2021_P01302025_01212025.csv": readFileSync(realOwnership(2021)) },
        "deflate64",
      ),
      contentType: "application/zip",
    });
    const run = await ingest(`${cms.url}/PGYR2021_P01302025_01212025.zip`);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/Deflate64, which cannot be streamed; ingest the per-file CSV URLs/);
    expect(await versionsUnder("raw/ownership/program_year=2021/")).toEqual([]);
  });

  it("an HTML page served instead of a CSV URL", async () => {
    cms.routes.set("/missing/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv", {
      body: Buffer.from("<html><body>Sorry</body></html>"),
      contentType: "text/html; charset=utf-8",
    });
    const run = await ingest(`${cms.url}/missing/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv`);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/answered with an HTML page/);
  });
});

describe("remote sources", () => {
  const name = "OP_DTL_OWNRSHP_PGYR2020_P01302025_01212025.csv";
  const body = readFileSync(realOwnership(2020));
  const fileFolder = `raw/ownership/program_year=2020/publication=P01302025_01212025/${name.replace(".csv", "")}/`;
  const pk = `FILE#ownership#2020#${name.replace(".csv", "")}`;
  const url = () => `${cms.url}/PGYR2020_P01302025_01212025/${name}`;

  it("a download cut mid-stream seals nothing and leaves a failed record; the next run resumes", async () => {
    cms.routes.set(`/PGYR2020_P01302025_01212025/${name}`, { body, cutAfter: 700_000 });
    const cut = await ingest("--part-size", "256KiB", url());
    expect(cut.code).toBe(1);
    expect(cut.out).toMatch(/cut|terminated|closed/i);
    expect(await sealedUnder(fileFolder)).toEqual([]);
    expect(await openMultipartUploads()).toEqual([]);
    const failed = await records(pk);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status: "failed", sk: expect.stringMatching(/^ATTEMPT#/) });

    cms.routes.set(`/PGYR2020_P01302025_01212025/${name}`, {
      body,
      slow: { chunk: 256 * 1024, delayMs: 20 },
    });
    const resumed = await ingest("--part-size", "256KiB", url());
    expect(resumed.code).toBe(0);
    const items = await records(pk);
    expect(items.find((i) => i.sk === `V#${sha256(body)}`)).toMatchObject({
      status: "verified",
      source: url(),
    });
    // The attempt that became this version stays in the table, out of the history index.
    const continued = items.find((i) => i.continuedAs === `V#${sha256(body)}`);
    expect(continued).toMatchObject({ sk: expect.stringMatching(/^ATTEMPT#/) });
    expect(continued?.gsi1pk).toBeUndefined();
    const [sealed] = await sealedUnder(fileFolder);
    expect(sealed).toBe(items.find((i) => i.sk === `V#${sha256(body)}`)?.s3Prefix);
    expect(await getObject(`${sealed}part-00000.csv`)).toEqual(expect.any(Buffer));
  });

  it("retries a server error, and gives up on a stalled download", async () => {
    const stalled = "OP_DTL_OWNRSHP_PGYR2018_P01302025_01212025.csv";
    cms.routes.set(`/s/${stalled}`, { body: readFileSync(realOwnership(2018)), stallAfter: 100_000 });
    const run = await ingest("--stall-seconds", "1", `${cms.url}/s/${stalled}`);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/was cut: no data for 1000 ms/);
    expect(await sealedUnder("raw/ownership/program_year=2018/publication=P01302025_01212025/")).toEqual([]);

    let calls = 0;
    cms.routes.set(`/s/${stalled}`, {
      body: readFileSync(realOwnership(2018)),
      get status() {
        calls += 1;
        return calls <= 2 ? 503 : 200; // the first two requests fail
      },
    });
    const retried = await ingest(`${cms.url}/s/${stalled}`);
    expect(retried.out).toMatch(/^verified /);
    expect(retried.code).toBe(0);
  });

  it("a re-run of an unchanged URL does not download it again", async () => {
    const gets = () => cms.requests.filter((r) => r.method === "GET" && r.path.endsWith(name)).length;
    const before = gets();
    const run = await ingest("--part-size", "256KiB", url());
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^unchanged .*same URL, ETag and size/);
    expect(gets()).toBe(before);
  });

  it("the same bytes under a new ETag: downloaded, found identical, nothing new sealed", async () => {
    const before = await sealedUnder(fileFolder);
    cms.routes.set(`/PGYR2020_P01302025_01212025/${name}`, { body, etag: '"republished"' });
    const run = await ingest("--part-size", "256KiB", url());
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^unchanged .*identical content already verified/);
    expect(await sealedUnder(fileFolder)).toEqual(before);
    const items = await records(pk);
    expect(items.filter((i) => i.status === "verified" && i.gsi1pk)).toHaveLength(1);
    const continued = items.filter((i) => i.continuedAs === `V#${sha256(body)}`);
    expect(continued).toHaveLength(2);
    // Its own folder stays unsealed (raw is never deleted from), named on its attempt record.
    const leftover = (await ingestionsUnder(fileFolder)).filter(([f]) => !before.includes(f));
    expect(leftover.map(([f]) => f)).toEqual(
      expect.arrayContaining([continued.find((i) => i.sourceEtag === '"republished"')?.s3Prefix]),
    );
    expect(run.logs.find((l) => l.event === "unsealed")).toMatchObject({ prefix: expect.any(String) });
  });

  it("concurrent runs of the same file: one ingests, the other exits clean saying so", async () => {
    const other = "OP_DTL_OWNRSHP_PGYR2017_P01302025_01212025.csv";
    cms.routes.set(`/c/${other}`, {
      body: readFileSync(realOwnership(2017)),
      slow: { chunk: 128 * 1024, delayMs: 50 },
    });
    const [a, b] = await Promise.all([ingest(`${cms.url}/c/${other}`), ingest(`${cms.url}/c/${other}`)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const outs = [a.out, b.out].sort();
    expect(outs[0]).toMatch(/^busy .*another run .* is ingesting it; nothing done/);
    expect(outs[1]).toMatch(/^verified /);
  });

  it("a stale lease of a dead run is taken over; a live one is respected", async () => {
    const file = {
      dataset: "ownership" as const,
      programYear: 2021,
      publication: "P01302025_01212025",
      fileStem: "OP_DTL_OWNRSHP_PGYR2021_P01302025_01212025",
    };
    const ledger = new IngestionLedger(lake.ddb, lake.table);
    const path = realOwnership(2021);
    expect(await ledger.claimLease(file, "live-run", "elsewhere", 60_000)).toEqual({ claimed: true });
    expect((await ingest(path)).out).toMatch(/^busy .*live-run/);
    await ledger.releaseLease(file, "live-run");
    expect(await ledger.claimLease(file, "dead-run", "elsewhere", 1)).toEqual({ claimed: true });
    await new Promise((r) => setTimeout(r, 20));
    const run = await ingest(path);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^verified /);
  });

  it("a year ZIP read through byte ranges, legacy layout inside, README skipped", async () => {
    const legacy = csvFor("general.legacy-75", 120, "\r\n");
    cms.routes.set("/PGYR16_P06302017.ZIP", {
      body: makeZip({
        "OP_DTL_GNRL_PGYR2016_P06302017.csv": legacy,
        "OP_PGYR2016_README_P06302017.txt": Buffer.from("readme"),
        "OP_PH_PRFL_SPLMTL_P06302017.csv": Buffer.from("Physician_Profile_ID\n1\n"),
      }),
      contentType: "application/zip",
    });
    const run = await ingest("--part-size", "16KiB", `${cms.url}/PGYR16_P06302017.ZIP`);
    expect(run.code).toBe(0);
    expect(run.logs.filter((l) => l.event === "skipped").map((l) => l.reason)).toEqual([
      expect.stringMatching(/not a CSV/),
      expect.stringMatching(/not a CMS detail file name/),
    ]);
    const [prefix16] = await sealedUnder(
      "raw/general/program_year=2016/publication=P06302017/OP_DTL_GNRL_PGYR2016_P06302017/",
    );
    const manifest = JSON.parse((await getObject(`${prefix16}manifest.json`)).toString());
    expect(manifest).toMatchObject({
      layout: "general.legacy-75",
      original: { sha256: sha256(legacy), records: 120 },
    });
    expect(manifest.parts.length).toBeGreaterThan(1);
    expect(cms.requests.some((r) => r.path === "/PGYR16_P06302017.ZIP" && r.range)).toBe(true);
  });
});

describe("nothing unverified becomes current", () => {
  it("a part altered before it is verified: no manifest, the parts stay unsealed, the record says why", async () => {
    const stem = "OP_DTL_OWNRSHP_PGYR2015_P01302025_01212025";
    const data = csvFor("ownership.modern-30", 200);
    const { s3, ddb } = awsClients(lake.target);
    // Between the upload and its verification, another writer replaces a part (S3 then holds other bytes).
    class TamperedStore extends RawStore {
      tampered = "";
      async head(key: string, versionId?: string) {
        if (!this.tampered && key.endsWith("/part-00001.csv")) {
          this.tampered = key;
          await lake.s3.send(new PutObjectCommand({ Bucket: lake.bucket, Key: key, Body: "x\n" }));
        }
        return super.head(key, versionId);
      }
    }
    const store = new TamperedStore(s3, lake.bucket);
    try {
      const outcome = await ingestFile(
        {
          name: `${stem}.csv`,
          source: `test:${stem}.csv`,
          size: data.length,
          open: async () => Readable.from([data]),
        },
        {
          partSize: 8 * 1024,
          dryRun: false,
          move: false,
          force: false,
          maxShrink: 0.5,
          allowShrink: false,
          leaseMs: 60_000,
        },
        {
          store,
          ledger: new IngestionLedger(ddb, lake.table),
          reporter: new JsonLinesReporter(() => undefined),
        },
      );
      expect(outcome).toMatchObject({ status: "failed", unsealed: expect.stringMatching(/ingestion=/) });
      const unsealed = outcome.status === "failed" ? (outcome.unsealed ?? "") : "";
      expect(store.tampered).toBe(`${unsealed}part-00001.csv`);
      expect(outcome.status === "failed" && outcome.error.message).toMatch(
        /part-00001\.csv: size 2 instead of/,
      );
      const [[folder, keys], ...others] = await ingestionsUnder(
        `raw/ownership/program_year=2015/publication=P01302025_01212025/${stem}/`,
      );
      expect(others).toEqual([]);
      expect(folder).toBe(unsealed);
      expect(keys).not.toContain("manifest.json");
      expect(keys.filter((k) => k.startsWith("part-")).length).toBeGreaterThan(1);
      const [record] = (await records(`FILE#ownership#2015#${stem}`)).filter((r) => r.sk.startsWith("V#"));
      expect(record).toMatchObject({
        status: "failed",
        s3Prefix: unsealed,
        reason: expect.stringMatching(/size 2/),
      });
    } finally {
      s3.destroy();
      ddb.destroy();
    }
  });
});

describe("the shrink guard: far fewer records than the previous verified version is refused", () => {
  const pk = (stem: string) => `FILE#general#2019#${stem}`;

  it("a second version of the same file with 60% fewer records: refused, recorded, nothing current", async () => {
    const stem = "OP_DTL_GNRL_PGYR2019_P01302025_01212025";
    const folder = `raw/general/program_year=2019/publication=P01302025_01212025/${stem}/`;
    expect((await ingest(localCopy(`${stem}.csv`, csvFor("general.modern-91", 100)))).code).toBe(0);
    const [good] = await sealedUnder(folder);
    const shrunk = csvFor("general.modern-91", 40);
    const run = await ingest("--part-size", "4KiB", localCopy(`${stem}.csv`, shrunk));
    expect(run.code).toBe(1);
    expect(run.out).toContain(
      `FAILED     ${join(work, `${stem}.csv`)}: ${stem}.csv: 40 records, 60.0% fewer than the previous verified version (${stem}, 100 records, verified `,
    );
    expect(run.out).toMatch(
      /more than --max-shrink 0\.5 allows, so nothing was made current.*--allow-shrink/,
    );
    expect(await sealedUnder(folder)).toEqual([good]);
    const refused = (await records(pk(stem))).find((r) => r.sk === `V#${sha256(shrunk)}`);
    expect(refused).toMatchObject({ status: "failed", reason: expect.stringMatching(/60\.0% fewer/) });
    expect(refused?.s3Key).toBeUndefined();

    // A looser ratio accepts it; so does --allow-shrink (each a new ingestion with a record of its own).
    const loose = await ingest("--max-shrink", "0.7", localCopy(`${stem}.csv`, shrunk));
    expect(loose.out).toMatch(/^verified /);
    const tighter = csvFor("general.modern-91", 4);
    const refusedAgain = await ingest("--max-shrink", "0.7", localCopy(`${stem}.csv`, tighter));
    expect(refusedAgain.code).toBe(1);
    expect(refusedAgain.out).toMatch(
      /4 records, 90\.0% fewer than the previous verified version \(\S+, 40 records/,
    );
    const allowed = await ingest("--allow-shrink", localCopy(`${stem}.csv`, tighter));
    expect(allowed.code).toBe(0);
    expect(allowed.out).toMatch(/^verified .* 4 records/);
    // Ingesting the accepted content again (--force) compares it with itself: no --allow-shrink needed.
    const again = await ingest("--force", localCopy(`${stem}.csv`, tighter));
    expect(again.out).toMatch(/^verified .* 4 records/);
    expect(await sealedUnder(folder)).toHaveLength(4);
  });

  it("the first file of a new publication is compared with the year's previous publication", async () => {
    const stem = "OP_DTL_GNRL_PGYR2019_P06302025_06202025";
    const run = await ingest(localCopy(`${stem}.csv`, csvFor("general.modern-91", 1)));
    expect(run.code).toBe(1);
    expect(run.out).toMatch(
      /1 records, 75\.0% fewer than the previous verified version \(OP_DTL_GNRL_PGYR2019_P01302025_01212025, 4 records/,
    );
    expect(
      await sealedUnder(`raw/general/program_year=2019/publication=P06302025_06202025/${stem}/`),
    ).toEqual([]);
    const [refused] = await records(pk(stem));
    expect(refused).toMatchObject({ status: "failed", reason: expect.stringMatching(/--allow-shrink/) });
  });
});

describe("--force and a verified file whose objects are gone (a rebuilt bucket)", () => {
  const stem = "OP_DTL_RSRCH_PGYR2021_P01302025_01212025";
  const folder = `raw/research/program_year=2021/publication=P01302025_01212025/${stem}/`;
  const pk = `FILE#research#2021#${stem}`;
  const data = csvFor("research.modern-252", 25);

  it("reports the missing objects instead of 'unchanged' (exit 1), and --force ingests the file anew", async () => {
    const path = localCopy(`${stem}.csv`, data);
    expect((await ingest(path)).code).toBe(0);
    const [first] = await sealedUnder(folder);
    // The raw bucket loses the folder (rebuilt from scratch, say); the ingestion table still says verified.
    for (const v of await versionsUnder(first)) {
      await lake.s3.send(
        new DeleteObjectCommand({ Bucket: lake.bucket, Key: v.Key, VersionId: v.VersionId }),
      );
    }
    const missing = await ingest(path);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain(
      `MISSING    ${stem}: the ingestion table says this content is verified (s3://${lake.bucket}/${first}manifest.json), but raw does not hold it:`,
    );
    expect(missing.out).toContain(`s3://${lake.bucket}/${first}manifest.json is gone`);
    expect(missing.out).toMatch(/run again with --force to ingest it anew/);
    const json = await ingest("--json", path);
    expect(JSON.parse(json.out)).toEqual([
      expect.objectContaining({ status: "missing", sha256: sha256(data) }),
    ]);

    const forced = await ingest("--force", path);
    expect(forced.code).toBe(0);
    expect(forced.out).toMatch(/^verified /);
    const [again] = await sealedUnder(folder);
    const manifest = JSON.parse((await getObject(`${again}manifest.json`)).toString());
    const items = await records(pk);
    // The first record stays as written; the forced run has a record of its own.
    expect(items.find((i) => i.sk === `V#${sha256(data)}`)).toMatchObject({
      status: "verified",
      s3Key: `${first}manifest.json`,
    });
    expect(items.find((i) => i.sk === `V#${sha256(data)}#${manifest.ingestionId}`)).toMatchObject({
      status: "verified",
      forced: true,
      s3Key: `${again}manifest.json`,
    });
    expect((await ingest(path)).out).toMatch(/^unchanged /);
  });

  it("--force re-ingests even when the verified objects are all there", async () => {
    const before = await sealedUnder(folder);
    const run = await ingest("--force", localCopy(`${stem}.csv`, data));
    expect(run.out).toMatch(/^verified /);
    expect(await sealedUnder(folder)).toEqual([...before, expect.stringMatching(/ingestion=/)]);
    await expectWrittenOnce(folder);
  });

  it("a missing part of a verified ingestion is named too", async () => {
    const [, latest] = (await sealedUnder(folder)).slice(-2);
    const part = (await versionsUnder(`${latest}part-00000.csv`))[0];
    await lake.s3.send(
      new DeleteObjectCommand({ Bucket: lake.bucket, Key: part.Key, VersionId: part.VersionId }),
    );
    const run = await ingest(localCopy(`${stem}.csv`, data));
    expect(run.code).toBe(1);
    expect(run.out).toContain(
      `s3://${lake.bucket}/${latest}part-00000.csv: part listed in the manifest is missing`,
    );
  });
});

describe("local folders (the seed's flow)", () => {
  it("ingests every CMS file of a year folder and skips the rest", async () => {
    const folder = join(work, "2024");
    mkdirSync(folder);
    const general = csvFor("general.modern-91", 50, "\r\n");
    const removed = csvFor("removed-deleted-4", 10);
    writeFileSync(join(folder, "OP_DTL_GNRL_PGYR2024_P06302025_06202025.csv"), general);
    writeFileSync(join(folder, "OP_REMOVED_DELETED_PGYR2024_P06302025_06202025.csv"), removed);
    writeFileSync(join(folder, "notes.csv"), "a,b\n");
    const run = await ingest(folder);
    expect(run.code).toBe(0);
    expect(run.out.match(/^verified /gm)).toHaveLength(2);
    expect(run.logs.find((l) => l.event === "skipped")).toMatchObject({ source: join(folder, "notes.csv") });
    const [removedFolder] = await sealedUnder(
      "raw/removed_deleted/program_year=2024/publication=P06302025_06202025/OP_REMOVED_DELETED_PGYR2024_P06302025_06202025/",
    );
    const manifest = JSON.parse((await getObject(`${removedFolder}manifest.json`)).toString());
    expect(manifest).toMatchObject({
      dataset: "removed_deleted",
      layout: "removed-deleted-4",
      original: { records: 10 },
    });
  });
});

describe("dry run and move", () => {
  it("--dry-run prints every key with its size and touches nothing", async () => {
    const data = csvFor("research.modern-252", 30);
    const path = localCopy("OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv", data);
    const run = await ingest("--dry-run", "--part-size", "8KiB", path);
    expect(run.code).toBe(0);
    expect(run.out).toContain(
      `would upload OP_DTL_RSRCH_PGYR2023_P01302025_01212025 (research.modern-252, ${data.length} bytes, 30 records`,
    );
    expect(run.out).toMatch(
      new RegExp(
        `s3://${lake.bucket}/raw/research/program_year=2023/publication=P01302025_01212025/OP_DTL_RSRCH_PGYR2023_P01302025_01212025/ingestion=\\d{8}T\\d{9}Z-[0-9a-f]{6}/part-00000\\.csv`,
      ),
    );
    expect(run.out).toMatch(/manifest\.json/);
    expect(await versionsUnder("raw/research/program_year=2023/")).toEqual([]);
    const scan = await lake.ddb.send(new ScanCommand({ TableName: lake.table }));
    expect((scan.Items ?? []).filter((i) => String(i.pk).startsWith("FILE#research#2023#"))).toEqual([]);
  });

  it("--move deletes a local file only after its upload is verified", async () => {
    const good = localCopy(
      "OP_DTL_OWNRSHP_PGYR2019_P01302025_01212025.csv",
      readFileSync(realOwnership(2019)),
    );
    const bad = localCopy(
      "OP_DTL_OWNRSHP_PGYR2016_P01302025_01212025.csv",
      `${headerOf("ownership.modern-30")}\nNEW,"x\n`,
    );
    const run = await ingest("--move", good, bad);
    expect(run.code).toBe(1);
    expect(existsSync(good)).toBe(false);
    expect(existsSync(bad)).toBe(true);
    const items = await records("FILE#ownership#2019#OP_DTL_OWNRSHP_PGYR2019_P01302025_01212025");
    expect(items[0]).toMatchObject({ status: "verified" });
  });
});

describe("discovery, totals and the command line", () => {
  beforeAll(() => {
    const dist = (path: string) => ({
      "@type": "dcat:Distribution",
      downloadURL: `${cms.url}${path}`,
      mediaType: "text/csv",
    });
    cms.routes.set("/api/1/metastore/schemas/dataset/items", {
      contentType: "application/json",
      body: Buffer.from(
        JSON.stringify([
          {
            identifier: "a1b2-c3d4",
            title: "2023 General Payment Data",
            modified: "2025-01-30",
            distribution: [dist("/PGYR2023_P01302025_01212025/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv")],
          },
          {
            identifier: "e5f6-g7h8",
            title: "2023 Research Payment Data",
            modified: "2025-01-30",
            distribution: [dist("/PGYR2023_P01302025_01212025/OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv")],
          },
          {
            identifier: "i9j0-k1l2",
            title: "2022 General Payment Data",
            modified: "2025-01-30",
            distribution: [dist("/PGYR2022_P01302025_01212025/OP_DTL_GNRL_PGYR2022_P01302025_01212025.csv")],
          },
          {
            identifier: "m3n4-o5p6",
            title: "2023 Payments by Reporting Entity",
            modified: "2025-01-30",
            distribution: [],
          },
        ]),
      ),
    });
    const rows = Array.from({ length: 620 }, (_, i) => ({
      company: `Company ${i}`,
      total_amount: `${i}.00`,
    }));
    for (const offset of [0, 500]) {
      cms.routes.set(`/api/1/datastore/query/m3n4-o5p6/0?limit=500&offset=${offset}&count=true`, {
        contentType: "application/json",
        body: Buffer.from(JSON.stringify({ results: rows.slice(offset, offset + 500), count: rows.length })),
      });
    }
  });

  it("discover resolves the year's datasets by title", async () => {
    const run = await cli("discover", "--program-year", "2023", "--api", `${cms.url}/api/1`, "--json");
    expect(run.code).toBe(0);
    expect(
      JSON.parse(run.out).map((f: { dataset: string; identifier: string }) => [f.dataset, f.identifier]),
    ).toEqual([
      ["general", "a1b2-c3d4"],
      ["research", "e5f6-g7h8"],
    ]);
  });

  it("totals pages through CMS's per-company summary into raw/reference/company_totals/", async () => {
    const run = await cli("totals", ...targetArgs(), "--program-year", "2023", "--api", `${cms.url}/api/1`);
    expect(run.code).toBe(0);
    // Each capture is an object of its own (raw is written once), named by a sortable capture id.
    const [key, ...more] = (
      await versionsUnder("raw/reference/company_totals/program_year=2023/m3n4-o5p6/")
    ).map((v) => v.Key ?? "");
    expect(more).toEqual([]);
    expect(key).toMatch(/\/\d{8}T\d{9}Z-[0-9a-f]{6}\.json$/);
    expect(run.out).toContain(key);
    const stored = JSON.parse((await getObject(key)).toString());
    expect(stored).toMatchObject({ programYear: 2023, title: "2023 Payments by Reporting Entity" });
    expect(stored.rows).toHaveLength(620);
    expect(stored.rows[619]).toEqual({ company: "Company 619", total_amount: "619.00" });
  });

  it("--help teaches with examples and exit codes; bad arguments exit 2", async () => {
    const help = await cli("--help");
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Examples:[\s\S]*--dry-run[\s\S]*Exit codes: 0 ok/);
    expect((await cli("ingest", ...targetArgs(), "--part-size", "lots", "x.csv")).code).toBe(2);
    expect((await cli("ingest", "x.csv")).code).toBe(2);
    expect((await cli("history", ...targetArgs(), "--dataset", "payments")).code).toBe(2);
  });

  it("a source that cannot be read is the environment: exit 3, like AWS (the shared exit codes)", async () => {
    const run = await ingest(`${cms.url}/nowhere/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv`);
    expect(run.code).toBe(3);
    expect(run.out).toMatch(/^FAILED .*nowhere.*404/m);
    const empty = await cli("discover", "--program-year", "2014", "--api", `${cms.url}/api/1`);
    expect(empty.code).toBe(3);
    expect(empty.err).toMatch(/^ingest: error: CMS lists no files for program year 2014\n$/);
  });

  it("an unreachable AWS endpoint exits 3", async () => {
    const run = await cli(
      "history",
      "--bucket",
      "b",
      "--table",
      "t",
      "--region",
      "us-east-1",
      "--endpoint",
      "http://127.0.0.1:9",
      "--dataset",
      "general",
    );
    expect(run.code).toBe(3);
    expect(run.err).toMatch(/DynamoDB query history on t: ECONNREFUSED/);
  });
});
