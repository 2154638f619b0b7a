import { parse } from "csv-parse/sync";
import { BadInputError } from "./errors";

const bom = Buffer.from([0xef, 0xbb, 0xbf]);

export function stripBom(bytes: Buffer): Buffer {
  return bytes.subarray(0, 3).equals(bom) ? bytes.subarray(3) : bytes;
}

/**
 * Column names of a CSV header line. Refuses what is evidently not a CSV header (an HTML error page served with
 * status 200, binary data) with a message saying so, rather than letting the layout check report odd columns.
 */
export function parseHeaderColumns(fileName: string, headerLine: Buffer): string[] {
  const text = stripBom(headerLine).toString("utf8");
  const start = text.trimStart().slice(0, 200).toLowerCase();
  if (start.startsWith("<!doctype") || start.startsWith("<html") || start.startsWith("<?xml")) {
    throw new BadInputError(
      `${fileName}: got an HTML/XML page instead of CSV (the server probably answered with an error page)`,
    );
  }
  if (text.includes("\u0000"))
    throw new BadInputError(`${fileName}: binary data where a CSV header was expected`);
  try {
    const rows = parse(text, { relax_column_count: true }) as string[][];
    return (rows[0] ?? []).map((c) => c.trim());
  } catch (error) {
    throw new BadInputError(`${fileName}: unreadable CSV header: ${(error as Error).message}`);
  }
}
