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

/** The chunk's 4-byte-aligned middle as 32-bit words (a view, no copy), and where it starts in the chunk. */
function alignedWords(chunk: Buffer): { readonly view: Int32Array; readonly start: number } {
  const start = (4 - (chunk.byteOffset % 4)) % 4;
  const count = Math.floor((chunk.length - start) / 4);
  if (count <= 0) return { view: new Int32Array(0), start };
  return { view: new Int32Array(chunk.buffer, chunk.byteOffset + start, count), start };
}

/**
 * Whether bytes [from, to) hold an odd number of quotes. The aligned middle is read 4 bytes at a time: XOR with
 * four quotes turns each quote byte into 0x00, the exact zero-byte test marks those with 0x80, and XOR-folding
 * the marks gives the parity, so a fully quoted CMS line costs a quarter of the loop turns of a byte scan.
 */
function quoteParity(
  chunk: Buffer,
  words: { readonly view: Int32Array; readonly start: number },
  from: number,
  to: number,
): number {
  let odd = 0;
  const first = Math.max(from, words.start + Math.ceil((from - words.start) / 4) * 4);
  const wordFrom = (first - words.start) / 4;
  const wordTo = Math.min(words.view.length, Math.floor((to - words.start) / 4));
  if (wordTo <= wordFrom) {
    for (let k = from; k < to; k++) if (chunk[k] === QUOTE) odd ^= 1;
    return odd;
  }
  for (let k = from; k < first; k++) if (chunk[k] === QUOTE) odd ^= 1;
  let marks = 0;
  const view = words.view;
  for (let w = wordFrom; w < wordTo; w++) {
    const v = view[w] ^ 0x22222222;
    marks ^= ~(((v & 0x7f7f7f7f) + 0x7f7f7f7f) | v | 0x7f7f7f7f);
  }
  marks ^= marks >>> 16;
  marks ^= marks >>> 8;
  odd ^= (marks >>> 7) & 1;
  for (let k = words.start + wordTo * 4; k < to; k++) if (chunk[k] === QUOTE) odd ^= 1;
  return odd;
}

/**
 * Streams CSV bytes into record-aligned parts without parsing fields: it only tracks whether it is inside a quoted
 * field, from the parity of the quotes before each newline (RFC 4180: a doubled quote toggles twice), so a newline
 * inside quotes never ends a record. Records are counted as non-blank lines ended outside quotes. A file must end
 * with a line break outside quotes (as every CMS file does): one that ends inside quotes or inside its last line
 * was cut, and is refused. Memory use is one input chunk at a time.
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

    // Line by line: the native indexOf finds each newline, and the parity of the quotes before it (counted a word
    // at a time, see quoteParity) says whether that newline is inside a quoted field.
    const words = alignedWords(chunk);
    let segmentStart = 0;
    const n = chunk.length;
    let i = 0;
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
      const newline = chunk.indexOf(LF, i);
      const end = newline < 0 ? n : newline;
      if (!lineHasContent) lineHasContent = hasContent(chunk, i, end);
      if (quoteParity(chunk, words, i, end)) inQuotes = !inQuotes;
      if (newline < 0) break;
      i = newline + 1;
      if (inQuotes) continue; // a newline inside a quoted field
      if (lineHasContent) partRecords += 1;
      lineHasContent = false;
      if (partBytes + (i - segmentStart) >= partSize) cutPending = true;
    }
    if (n > segmentStart) yield { kind: "data", chunk: chunk.subarray(segmentStart) };
    partBytes += n - segmentStart;
  }

  if (totalBytes === 0) throw new BadInputError(`${fileName}: empty file (0 bytes)`);
  if (inQuotes) {
    throw new BadInputError(
      `${fileName}: truncated CSV: the file ends inside a quoted field (unbalanced quote after ` +
        `${totalBytes} bytes); download it again`,
    );
  }
  if (!header || lineHasContent) {
    // CMS ends every file with a line break. Without one the delivery stopped inside its last line (outside
    // quotes; inside them is the case above): a cut record, likely with fewer fields, must not become data.
    const what = header ? "record" : "header line";
    throw new BadInputError(
      `${fileName}: truncated CSV: the file ends in the middle of a ${what} (no line break after its last ` +
        `${what}, ${totalBytes} bytes read; CMS files end with one); download it again`,
    );
  }
  yield { kind: "part-end", index: partIndex, records: partRecords };
}
