import { MultiBar, Presets, type SingleBar } from "cli-progress";

/** Progress of one file's bytes. */
export interface FileProgress {
  update(bytes: number): void;
  stop(): void;
}

/** Where the tool tells what it is doing: bars on a terminal, JSON lines otherwise (CI, logs). */
export interface Reporter {
  event(event: string, fields?: Record<string, unknown>): void;
  startFile(name: string, totalBytes?: number): FileProgress;
  close(): void;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** cli-progress bars (bytes, rate, ETA) on stderr; events are printed above the bars. */
export class TerminalReporter implements Reporter {
  private readonly bars = new MultiBar(
    {
      format: "{name} |{bar}| {percentage}% {done}/{size} MB {rate} MB/s ETA {eta_formatted}",
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );

  event(event: string, fields: Record<string, unknown> = {}): void {
    const details = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
    this.bars.log(`${event} ${details}\n`);
  }

  startFile(name: string, totalBytes?: number): FileProgress {
    const started = Date.now();
    const total = totalBytes ?? 0;
    const payload = {
      name: name.padEnd(48).slice(0, 48),
      done: "0.0",
      size: total ? mb(total) : "?",
      rate: "0",
    };
    const bar: SingleBar = this.bars.create(total || 1, 0, payload);
    return {
      update: (bytes) => {
        const seconds = Math.max((Date.now() - started) / 1000, 0.001);
        bar.update(total ? bytes : 0, { done: mb(bytes), rate: mb(bytes / seconds) });
      },
      stop: () => {
        bar.stop();
        this.bars.remove(bar); // one bar per file in flight, not per file ever seen
      },
    };
  }

  close(): void {
    this.bars.stop();
  }
}

/** Structured JSON lines on stderr; progress at most every `intervalMs` per file. */
export class JsonLinesReporter implements Reporter {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
    private readonly intervalMs = 5_000,
  ) {}

  event(event: string, fields: Record<string, unknown> = {}): void {
    this.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
  }

  startFile(name: string, totalBytes?: number): FileProgress {
    const started = Date.now();
    let last = started;
    return {
      update: (bytes) => {
        const now = Date.now();
        if (now - last < this.intervalMs) return;
        last = now;
        const rate = bytes / Math.max((now - started) / 1000, 0.001);
        this.event("progress", {
          file: name,
          bytes,
          totalBytes,
          mbPerSecond: Number(mb(rate)),
          etaSeconds: totalBytes ? Math.round((totalBytes - bytes) / rate) : undefined,
        });
      },
      stop: () => undefined,
    };
  }

  close(): void {}
}

export function defaultReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
  return stream.isTTY ? new TerminalReporter() : new JsonLinesReporter();
}
