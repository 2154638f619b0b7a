import { Readable, Transform } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { BadInputError, SourceUnreachableError } from "./errors";
import { defaultRetryPolicy, type RetryPolicy, transient, withRetry } from "./retry";

export interface HttpOptions {
  readonly retry?: RetryPolicy;
  /** A body that delivers no byte for this long is abandoned (a stalled download); default 60 s. */
  readonly idleTimeoutMs?: number;
}

export interface RemoteInfo {
  readonly size?: number;
  readonly etag?: string;
  readonly lastModified?: string;
  readonly contentType?: string;
  readonly acceptsRanges: boolean;
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

async function request(url: string, init: RequestInit, options: HttpOptions): Promise<Response> {
  return withRetry(async () => {
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (error) {
      throw transient(`GET ${url} failed`, new Error(describeCause(error)));
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      throw transient(`${url}`, new Error(`HTTP ${res.status}`));
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new SourceUnreachableError(`${url}: HTTP ${res.status} ${res.statusText}`);
    }
    return res;
  }, options.retry ?? defaultRetryPolicy).catch((error) => {
    if (error instanceof SourceUnreachableError) throw error;
    throw new SourceUnreachableError(`could not download ${url}: ${(error as Error).message}`);
  });
}

export async function headRemote(url: string, options: HttpOptions = {}): Promise<RemoteInfo> {
  const res = await request(url, { method: "HEAD" }, options);
  const length = res.headers.get("content-length");
  return {
    size: length === null ? undefined : Number(length),
    etag: res.headers.get("etag") ?? undefined,
    lastModified: res.headers.get("last-modified") ?? undefined,
    contentType: res.headers.get("content-type") ?? undefined,
    acceptsRanges: res.headers.get("accept-ranges") === "bytes",
  };
}

/** Refuses an HTML answer (CMS's error pages come with status 200) before a byte is read as CSV. */
export function refuseHtml(url: string, contentType: string | null | undefined): void {
  if (contentType && /text\/html|application\/xhtml/i.test(contentType)) {
    throw new BadInputError(
      `${url}: the server answered with an HTML page (${contentType}), not a CSV or ZIP`,
    );
  }
}

/**
 * The response body as a Node stream that fails when the connection stalls for longer than the idle timeout,
 * so a hung download becomes a failed ingestion instead of a process waiting forever.
 */
function bodyStream(
  url: string,
  res: Response,
  controller: AbortController,
  idleTimeoutMs: number,
): Readable {
  if (!res.body) throw new SourceUnreachableError(`${url}: empty response body`);
  const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
  };
  const watchdog = new Transform({
    transform(chunk, _enc, done) {
      arm();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
  });
  arm();
  body.on("error", (error) => {
    clearTimeout(timer);
    // A cut mid-body fails this file's ingestion (exit 1); the next run starts it again.
    watchdog.destroy(new BadInputError(`download of ${url} was cut: ${describeCause(error)}`));
  });
  watchdog.on("close", () => clearTimeout(timer));
  return body.pipe(watchdog);
}

export async function openRemote(
  url: string,
  options: HttpOptions & { readonly range?: { start: number; end: number } } = {},
): Promise<{ stream: Readable; contentType: string | null }> {
  const controller = new AbortController();
  const headers: Record<string, string> = {};
  if (options.range) headers.range = `bytes=${options.range.start}-${options.range.end - 1}`;
  const res = await request(url, { headers, signal: controller.signal }, options);
  if (options.range && res.status !== 206) {
    await res.body?.cancel();
    throw new SourceUnreachableError(`${url}: the server ignored a byte-range request (HTTP ${res.status})`);
  }
  return {
    stream: bodyStream(url, res, controller, options.idleTimeoutMs ?? 60_000),
    contentType: res.headers.get("content-type"),
  };
}

/** A small JSON document (DKAN metastore and datastore answers), with the same retries as downloads. */
export async function fetchJson(url: string, options: HttpOptions = {}): Promise<unknown> {
  const { stream } = await openRemote(url, options);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new BadInputError(`${url}: not JSON (${(error as Error).message})`);
  }
}
