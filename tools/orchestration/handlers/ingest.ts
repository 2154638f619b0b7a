import { runCli } from "../../ingest/cli";
import { JsonLinesReporter } from "../../ingest/progress";
import type { RefreshFile } from "./discover";
import { captured, targetArgs } from "./environment";

export interface IngestedOutcome {
  readonly status: string;
  readonly file?: string;
  readonly records?: number;
  readonly bytes?: number;
  readonly manifestKey?: string;
  readonly reason?: string;
  readonly error?: string;
}

/** Thrown when the ingest CLI fails: the message names the file; Step Functions records it as the cause. */
export class IngestFailedError extends Error {
  override readonly name = "IngestFailed";
}

interface CliOutcome {
  status: string;
  source?: string;
  file?: { fileStem?: string };
  manifest?: { original?: { records?: number; bytes?: number } };
  manifestKey?: string;
  reason?: string;
  error?: string;
}

/**
 * One file of the refresh, ingested by the ingest CLI itself (`ingest --json <url>`), in-process: the same
 * streaming, manifest, ledger and invariants as a person running it. A file that fails throws, naming the file.
 */
export async function handler(event: RefreshFile): Promise<{ url: string; outcomes: IngestedOutcome[] }> {
  if (!event || typeof event.url !== "string") {
    throw new IngestFailedError(
      `ingest: expected an event {url, ...} from the discover step, got ${JSON.stringify(event)}`,
    );
  }
  const run = await captured((io) =>
    runCli(["ingest", "--json", ...targetArgs(), event.url], {
      ...io,
      reporter: () => new JsonLinesReporter(),
    }),
  );
  let outcomes: CliOutcome[] = [];
  try {
    outcomes = JSON.parse(run.stdout) as CliOutcome[];
  } catch {
    // No JSON: the CLI stopped before any file (usage or environment error); its stderr says why.
  }
  const summary = outcomes.map(
    (o): IngestedOutcome => ({
      status: o.status,
      file: o.file?.fileStem,
      records: o.manifest?.original?.records,
      bytes: o.manifest?.original?.bytes,
      manifestKey: o.manifestKey,
      reason: o.reason,
      error: o.error,
    }),
  );
  if (run.code !== 0) {
    const why = summary.find((o) => o.error)?.error ?? run.stderr.trim().split("\n").pop() ?? "no output";
    throw new IngestFailedError(`${event.url}: ingest exited ${run.code}: ${why}`);
  }
  return { url: event.url, outcomes: summary };
}
