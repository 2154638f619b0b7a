import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import openPayments from "../../datasets/open-payments.json";
import { createIngestionTarget } from "../../tools/ingest/bench/local-lake";
import { localAwsEnv, type MotoServer, startMotoServer } from "../../tools/local-aws/moto-server";
import { openPaymentsDir } from "../helpers/shared-data";

export const repoRoot = join(__dirname, "..", "..");
export const realDir = join(openPaymentsDir, "real");
export const realOwnership = (year: number) =>
  join(realDir, `OP_DTL_OWNRSHP_PGYR${year}_P01302025_01212025.csv`);
export const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

/** The exact CMS header line of a layout, from the shared layouts file. */
export function headerOf(layoutId: string): string {
  const layout = openPayments.layouts.find((l) => l.id === layoutId);
  if (!layout) throw new Error(`no layout ${layoutId}`);
  return layout.columns.map((c) => c.name).join(",");
}

/** A small CSV in a layout: quoted values, embedded newlines and doubled quotes in some rows. */
export function csvFor(layoutId: string, rows: number, eol = "\n"): Buffer {
  const header = headerOf(layoutId);
  const width = header.split(",").length;
  const lines = [header];
  for (let r = 0; r < rows; r++) {
    const cells = Array.from({ length: width }, (_, c) => {
      if (c === 0) return "NEW";
      if (c === 1 && r % 7 === 3) return `"line one${eol}line two, with ""quotes"""`;
      return c % 3 === 0 ? `"${r}-${c}"` : `${r}.${c}`;
    });
    lines.push(cells.join(","));
  }
  return Buffer.from(lines.join(eol) + eol);
}

/** The local lake: moto with a versioned raw bucket and the ingestion table (contract 6 keys and gsi1). */
export interface LocalLake {
  readonly moto: MotoServer;
  readonly bucket: string;
  readonly table: string;
  readonly s3: S3Client;
  readonly ddb: DynamoDBDocumentClient;
  readonly target: { rawBucket: string; table: string; region: string; endpoint: string };
  stop(): Promise<void>;
}

export async function startLocalLake(): Promise<LocalLake> {
  Object.assign(process.env, localAwsEnv);
  const moto = await startMotoServer();
  const region = localAwsEnv.AWS_REGION;
  const bucket = "lake-local-raw";
  const table = "lake-local-ingestion";
  const s3 = new S3Client({ region, endpoint: moto.endpoint, forcePathStyle: true });
  const ddbClient = new DynamoDBClient({ region, endpoint: moto.endpoint });
  await createIngestionTarget(s3, ddbClient, bucket, table);
  return {
    moto,
    bucket,
    table,
    s3,
    ddb: DynamoDBDocumentClient.from(ddbClient),
    target: { rawBucket: bucket, table, region, endpoint: moto.endpoint },
    async stop() {
      s3.destroy();
      ddbClient.destroy();
      await moto.stop();
    },
  };
}

/** How the stand-in CMS server answers one path. */
export interface Route {
  readonly body: Buffer;
  readonly contentType?: string;
  readonly etag?: string;
  /** Send this many bytes, then destroy the connection. */
  readonly cutAfter?: number;
  /** Send in slices of this size with a pause between them. */
  readonly slow?: { readonly chunk: number; readonly delayMs: number };
  /** Stop sending after this many bytes without closing (a stalled download). */
  readonly stallAfter?: number;
  readonly status?: number;
}

/** A local HTTP server standing in for CMS (download.cms.gov and the DKAN API), with byte ranges and faults. */
export class FakeCms {
  readonly routes = new Map<string, Route>();
  readonly requests: { method: string; path: string; range?: string }[] = [];
  private server?: Server;
  private readonly sockets = new Set<import("node:net").Socket>();
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    this.requests.push({ method: req.method ?? "GET", path: req.url ?? "/", range: req.headers.range });
    const route = this.routes.get(req.url ?? path) ?? this.routes.get(path);
    if (!route) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const headers: Record<string, string | number> = {
      "content-type": route.contentType ?? "text/csv",
      "accept-ranges": "bytes",
      etag: route.etag ?? `"${sha256(route.body).slice(0, 16)}"`,
    };
    let body = route.body;
    let status = route.status ?? 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Number(range[2]) : body.length - 1;
      headers["content-range"] = `bytes ${start}-${end}/${body.length}`;
      body = body.subarray(start, end + 1);
      status = 206;
    }
    headers["content-length"] = body.length;
    res.writeHead(status, headers);
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const limit = route.cutAfter ?? route.stallAfter;
    const sendable = limit === undefined ? body : body.subarray(0, limit);
    const step = route.slow?.chunk ?? 64 * 1024;
    for (let offset = 0; offset < sendable.length; offset += step) {
      if (!res.write(sendable.subarray(offset, offset + step)))
        await new Promise((r) => res.once("drain", r));
      if (route.slow) await new Promise((r) => setTimeout(r, route.slow?.delayMs));
    }
    if (route.cutAfter !== undefined) {
      // Let the bytes leave, then drop the connection mid-body.
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    if (route.stallAfter !== undefined) return;
    res.end();
  }
}

/**
 * A ZIP holding the given files (Python's zipfile: a well-kept writer, already in the project's venv).
 * `method: "deflate64"` rewrites the compression method fields to 9, as in some large CMS archives.
 */
export function makeZip(files: Record<string, Buffer>, method: "deflate" | "deflate64" = "deflate"): Buffer {
  const script = [
    "import io, json, sys, zipfile, base64",
    "files = json.load(sys.stdin)",
    "buf = io.BytesIO()",
    "with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:",
    "    for name, data in files.items(): z.writestr(name, base64.b64decode(data))",
    "sys.stdout.buffer.write(buf.getvalue())",
  ].join("\n");
  const input = JSON.stringify(
    Object.fromEntries(Object.entries(files).map(([n, b]) => [n, b.toString("base64")])),
  );
  const zip = execFileSync(join(repoRoot, ".venv", "bin", "python"), ["-c", script], {
    input,
    maxBuffer: 1 << 28,
  });
  if (method === "deflate64") {
    // Local file headers (PK\3\4, method at +8) and central directory entries (PK\1\2, method at +10).
    for (let i = 0; i < zip.length - 4; i++) {
      if (zip.readUInt32LE(i) === 0x04034b50) zip.writeUInt16LE(9, i + 8);
      else if (zip.readUInt32LE(i) === 0x02014b50) zip.writeUInt16LE(9, i + 10);
    }
  }
  return zip;
}
