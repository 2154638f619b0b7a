import { stripBom } from "./csv-header";
import { BadInputError } from "./errors";

/** Whether bytes [from, to) hold anything but carriage returns (a blank line is not a record). */
function hasContent(chunk: Buffer, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (chunk[k] !== CR) return true;
  return false;
}

/**
 * Events of a record-aligned split: the header line once, then for each part its bytes (the header line first,
 * then whole records) and its end with the number of data records it holds. Concatenating part 0 with every
 * later part minus its leading header reproduces the original bytes exactly.
 */
export type SplitEvent =
  | { readonly kind: "header"; readonly bytes: Buffer }
  | { readonly kind: "part-start"; readonly index: number }
  | { readonly kind: "data"; readonly chunk: Buffer }
  | { readonly kind: "part-end"; readonly index: number; readonly records: number };

export interface SplitOptions {
  /** A new part starts at the first record boundary once a part holds at least this many bytes. */
  readonly partSize: number;
  /** Named in error messages. */
  readonly fileName: string;
  /** Longest header line accepted; anything longer is not a CMS CSV. */
  readonly maxHeaderBytes?: number;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Streams CSV bytes into record-aligned parts without parsing fields: a byte-level state machine that only tracks
 * whether it is inside a quoted field (RFC 4180: a doubled quote toggles twice), so a newline inside quotes never
 * ends a record. Records are counted as non-blank lines ended outside quotes (or by the end of the file).
 * Memory use is one input chunk at a time.
 */
export async function* splitRecords(
  source: AsyncIterable<Buffer | Uint8Array>,
  options: SplitOptions,
): AsyncGenerator<SplitEvent> {
  const { partSize, fileName } = options;
  const maxHeaderBytes = options.maxHeaderBytes ?? 1024 * 1024;
  let inQuotes = false;
  let lineHasContent = false;
  let header: Buffer | undefined;
  let laterHeader: Buffer = Buffer.alloc(0);
  const headerChunks: Buffer[] = [];
  let headerLength = 0;
  let partIndex = 0;
  let partBytes = 0;
  let partRecords = 0;
  let cutPending = false;
  let totalBytes = 0;

  for await (const input of source) {
    let chunk = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    totalBytes += chunk.length;
    if (!header) {
      // The header line: bytes up to the first newline outside quotes.
      let end = -1;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i];
        if (b === QUOTE) inQuotes = !inQuotes;
        else if (b === LF && !inQuotes) {
          end = i + 1;
          break;
        }
      }
      if (end < 0) {
        headerChunks.push(chunk);
        headerLength += chunk.length;
        if (headerLength > maxHeaderBytes) {
          throw new BadInputError(
            `${fileName}: no header line within the first ${maxHeaderBytes} bytes: not a CSV`,
          );
        }
        continue;
      }
      headerChunks.push(chunk.subarray(0, end));
      header = Buffer.concat(headerChunks);
      // Later parts repeat the header without a byte-order mark, so each part is a clean CSV on its own.
      laterHeader = stripBom(header);
      chunk = chunk.subarray(end);
      yield { kind: "header", bytes: header };
      yield { kind: "part-start", index: 0 };
      yield { kind: "data", chunk: header };
      partBytes = header.length;
    }

    // Jumps between quotes and newlines with indexOf (native) instead of visiting every byte.
    let segmentStart = 0;
    const n = chunk.length;
    let i = 0;
    let q = chunk.indexOf(QUOTE, 0);
    let l = chunk.indexOf(LF, 0);
    while (i < n) {
      if (cutPending) {
        // The previous record ended a full part and more data follows: start the next part here.
        if (i > segmentStart) yield { kind: "data", chunk: chunk.subarray(segmentStart, i) };
        yield { kind: "part-end", index: partIndex, records: partRecords };
        partIndex += 1;
        partRecords = 0;
        yield { kind: "part-start", index: partIndex };
        yield { kind: "data", chunk: laterHeader };
        partBytes = laterHeader.length;
        segmentStart = i;
        cutPending = false;
      }
      if (inQuotes) {
        if (q < 0) break; // the rest of the chunk is inside the quoted field
        inQuotes = false;
        i = q + 1;
        q = chunk.indexOf(QUOTE, i);
        continue;
      }
      if (l >= 0 && l < i) l = chunk.indexOf(LF, i); // that newline was inside quotes
      const nextQuote = q < 0 ? n : q;
      const nextNewline = l < 0 ? n : l;
      if (nextNewline < nextQuote) {
        if (lineHasContent || hasContent(chunk, i, nextNewline)) partRecords += 1;
        lineHasContent = false;
        i = nextNewline + 1;
        l = chunk.indexOf(LF, i);
        if (partBytes + (i - segmentStart) >= partSize) cutPending = true;
      } else if (nextQuote < n) {
        lineHasContent = true;
        inQuotes = true;
        i = nextQuote + 1;
        q = chunk.indexOf(QUOTE, i);
      } else {
        if (!lineHasContent) lineHasContent = hasContent(chunk, i, n);
        i = n;
      }
    }
    if (n > segmentStart) yield { kind: "data", chunk: chunk.subarray(segmentStart) };
    partBytes += n - segmentStart;
  }

  if (totalBytes === 0) throw new BadInputError(`${fileName}: empty file (0 bytes)`);
  if (inQuotes) {
    throw new BadInputError(
      `${fileName}: truncated CSV: the file ends inside a quoted field (unbalanced quote after ` +
        `${totalBytes} bytes)`,
    );
  }
  if (!header) {
    // A header line without a final newline and nothing else.
    header = Buffer.concat(headerChunks);
    yield { kind: "header", bytes: header };
    yield { kind: "part-start", index: 0 };
    yield { kind: "data", chunk: header };
  } else if (lineHasContent) {
    partRecords += 1; // last record without a final newline
  }
  yield { kind: "part-end", index: partIndex, records: partRecords };
}
