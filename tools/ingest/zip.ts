import { PassThrough, type Readable } from "node:stream";
import yauzl from "yauzl";
import { BadInputError } from "./errors";
import { type HttpOptions, openRemote } from "./http";

export interface ZipEntry {
  readonly fileName: string;
  readonly uncompressedSize: number;
  open(): Promise<Readable>;
}

export interface OpenZip {
  readonly entries: readonly ZipEntry[];
  close(): void;
}

const methodNames: Record<number, string> = { 9: "Deflate64", 12: "BZIP2", 14: "LZMA", 93: "Zstandard" };

/** Reads a remote ZIP through HTTP byte ranges, so a multi-GB archive is never downloaded whole or to disk. */
class HttpRangeReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly url: string,
    private readonly options: HttpOptions,
  ) {
    super();
  }

  _readStreamForRange(start: number, end: number): Readable {
    const out = new PassThrough();
    openRemote(this.url, { ...this.options, range: { start, end } }).then(
      ({ stream }) => {
        stream.on("error", (error) => out.destroy(error));
        stream.pipe(out);
      },
      (error) => out.destroy(error),
    );
    return out;
  }
}

function readEntries(name: string, zip: yauzl.ZipFile): Promise<OpenZip> {
  return new Promise((resolve, reject) => {
    const entries: ZipEntry[] = [];
    zip.on("error", (error: Error) => reject(new BadInputError(`${name}: corrupt ZIP: ${error.message}`)));
    zip.on("entry", (entry: yauzl.Entry) => {
      entries.push({
        fileName: entry.fileName,
        uncompressedSize: entry.uncompressedSize,
        open: () => openEntry(name, zip, entry),
      });
      zip.readEntry();
    });
    zip.on("end", () => resolve({ entries, close: () => zip.close() }));
    zip.readEntry();
  });
}

function openEntry(name: string, zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  // yauzl only inflates Stored and Deflate; CMS's largest archives have used Deflate64.
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    const method = methodNames[entry.compressionMethod] ?? `method ${entry.compressionMethod}`;
    return Promise.reject(
      new BadInputError(
        `${name}: entry ${entry.fileName} is compressed with ${method}, which cannot be streamed; ` +
          "ingest the per-file CSV URLs (or an unpacked copy) instead",
      ),
    );
  }
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) reject(new BadInputError(`${name}: cannot read entry ${entry.fileName}: ${error.message}`));
      else resolve(stream);
    });
  });
}

export function openLocalZip(path: string, name: string): Promise<OpenZip> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, zip) => {
      if (error) reject(new BadInputError(`${name}: not a readable ZIP: ${error.message}`));
      else readEntries(name, zip).then(resolve, reject);
    });
  });
}

export function openRemoteZip(
  url: string,
  name: string,
  size: number,
  options: HttpOptions,
): Promise<OpenZip> {
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      new HttpRangeReader(url, options),
      size,
      { lazyEntries: true, autoClose: false },
      (error, zip) => {
        if (error) reject(new BadInputError(`${name}: not a readable ZIP: ${error.message}`));
        else readEntries(name, zip).then(resolve, reject);
      },
    );
  });
}
