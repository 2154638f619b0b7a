import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import { BadInputError } from "../../tools/ingest/errors";
import { type SplitEvent, splitRecords } from "../../tools/ingest/record-splitter";
import { openPaymentsDir } from "../helpers/shared-data";

interface Part {
  bytes: Buffer;
  records: number;
}

async function* chunked(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const size = sizes[i++ % sizes.length];
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

async function split(data: Buffer, partSize: number, chunkSizes = [7, 1, 64, 3]) {
  const parts: Part[] = [];
  let header: Buffer | undefined;
  let current: Buffer[] = [];
  for await (const event of splitRecords(chunked(data, chunkSizes), {
    partSize,
    fileName: "t.csv",
  }) as AsyncGenerator<SplitEvent>) {
    if (event.kind === "header") header = event.bytes;
    else if (event.kind === "part-start") current = [];
    else if (event.kind === "data") current.push(event.chunk);
    else parts.push({ bytes: Buffer.concat(current), records: event.records });
  }
  return { header, parts };
}

function csvRecords(data: Buffer | string): number {
  return (
    (parse(data, { bom: true, skip_empty_lines: true, relax_column_count: true }) as string[][]).length - 1
  );
}

function rebuild(header: Buffer, parts: Part[]): Buffer {
  const later = header[0] === 0xef ? header.subarray(3) : header;
  return Buffer.concat(parts.map((p, i) => (i === 0 ? p.bytes : p.bytes.subarray(later.length))));
}

const tricky = [
  'a,b,c\n1,"x\ny",3\n2,"he said ""hi""",4\n',
  'a,b,c\r\n1,"multi\r\nline\r\n",3\r\n"",,\r\n3,"""",x\r\n',
  'a,b\n\n1,2\n\n\n3,"\n\n"\n',
  '\ufeffChange_Type,Record_ID\nNEW,1\nNEW,"2\n"\n',
  'a,b\n"x,y","z"""\n',
  "a\n",
  "a,b\n1,2\n\n\n",
];

describe("splitRecords", () => {
  it.each(tricky.map((t) => [JSON.stringify(t).slice(0, 40), t]))(
    "counts records like csv-parse and rebuilds the bytes exactly: %s",
    async (_name, text) => {
      const data = Buffer.from(text);
      for (const partSize of [1, 5, 10_000]) {
        const { header, parts } = await split(data, partSize);
        if (!header) throw new Error("no header");
        expect(parts.reduce((n, p) => n + p.records, 0)).toBe(csvRecords(data));
        expect(rebuild(header, parts).equals(data)).toBe(true);
        const later = header[0] === 0xef ? header.subarray(3) : header;
        for (const [i, part] of parts.entries()) {
          expect(part.bytes.subarray(0, (i === 0 ? header : later).length)).toEqual(i === 0 ? header : later);
          // Record-aligned: every part is a valid CSV on its own with the records it claims.
          expect(csvRecords(part.bytes)).toBe(part.records);
        }
      }
    },
  );

  it("cuts parts at the first record boundary after the part size, never inside quotes", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},"line one\nline two ${i}",${"x".repeat(i)}\n`);
    const data = Buffer.from(`id,text,pad\n${rows.join("")}`);
    const { header, parts } = await split(data, 200, [13]);
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts.slice(0, -1)) expect(part.bytes.length).toBeGreaterThanOrEqual(200);
    expect(parts.map((p) => p.records).reduce((a, b) => a + b)).toBe(50);
    expect(rebuild(header as Buffer, parts).equals(data)).toBe(true);
  });

  it("splits a real CMS Ownership file with embedded newlines into valid parts", async () => {
    const file = join(openPaymentsDir, "real", "OP_DTL_OWNRSHP_PGYR2022_P01302025_01212025.csv");
    const data = readFileSync(file);
    const { header, parts } = await split(data, 256 * 1024, [65536]);
    expect(parts.length).toBe(Math.ceil(data.length / (256 * 1024)));
    expect(parts.reduce((n, p) => n + p.records, 0)).toBe(csvRecords(data));
    expect(rebuild(header as Buffer, parts).equals(data)).toBe(true);
  });

  it("refuses a truncated file ending inside a quoted field", async () => {
    await expect(split(Buffer.from('a,b\n1,"open\n2,3\n'), 100)).rejects.toThrow(/unbalanced quote/);
  });

  it.each([
    ["a record cut outside quotes", 'a,b,c\n1,"x\ny",3\n2,he said'],
    ["a record cut right after a closing quote", 'a,b,c\n1,2,3\n4,"five"'],
    ["a last record without its final line break", "a,b\n1,2\n3,4"],
    ["a header line without a line break", "a,b,c"],
  ])("refuses a delivery that ends mid-line: %s", async (_name, text) => {
    for (const partSize of [1, 10_000]) {
      const run = split(Buffer.from(text), partSize);
      await expect(run).rejects.toThrow(BadInputError);
      await expect(split(Buffer.from(text), partSize)).rejects.toThrow(
        /t\.csv: truncated CSV: the file ends in the middle of a (record|header line) .*download it again/,
      );
    }
  });

  it("refuses an empty file", async () => {
    await expect(split(Buffer.alloc(0), 100)).rejects.toThrow(BadInputError);
    await expect(split(Buffer.alloc(0), 100)).rejects.toThrow(/empty file/);
  });

  it("refuses a file without a header line in its first bytes", async () => {
    const run = async () => {
      for await (const _ of splitRecords(chunked(Buffer.alloc(5000, 0x41), [100]), {
        partSize: 10,
        fileName: "blob.csv",
        maxHeaderBytes: 1000,
      })) {
        // drain
      }
    };
    await expect(run()).rejects.toThrow(/blob.csv: no header line within the first 1000 bytes/);
  });
});

describe("splitRecords on random CSV", () => {
  // A small deterministic generator (no dependency): fields with quotes, commas, CR/LF inside quotes, empty values.
  function random(seed: number) {
    let state = seed;
    return () => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state / 0x7fffffff;
    };
  }

  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])(
    "seed %i: same record count as csv-parse, exact bytes, aligned parts",
    async (seed) => {
      const rnd = random(seed);
      const eol = rnd() < 0.5 ? "\n" : "\r\n";
      const field = () => {
        const r = rnd();
        if (r < 0.2) return "";
        if (r < 0.5)
          return `"${["a,b", 'say ""x""', `two${eol}lines`, "\r\n\n", '""'][Math.floor(rnd() * 5)]}"`;
        return `v${Math.floor(rnd() * 1000)}`;
      };
      // Narrow and wide rows: wide ones are scanned mostly a word at a time, narrow ones byte by byte.
      const width = 3 + Math.floor(rnd() * 40);
      const columns = Array.from({ length: width }, (_, c) => c);
      const rows = [columns.map((c) => `h${c}`).join(",")];
      for (let i = 0; i < 200; i++) rows.push(columns.map(field).join(","));
      const data = Buffer.from(rows.join(eol) + eol);
      const partSize = 50 + Math.floor(rnd() * 500 * width);
      const { header, parts } = await split(data, partSize, [1 + Math.floor(rnd() * 40), 3, 17, 4093]);
      expect(parts.reduce((n, p) => n + p.records, 0)).toBe(csvRecords(data));
      expect(rebuild(header as Buffer, parts).equals(data)).toBe(true);
      for (const part of parts) expect(csvRecords(part.bytes)).toBe(part.records);
    },
  );
});
