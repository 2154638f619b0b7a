import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { basename, join, relative } from "node:path";

/** A failed step: names the step and the log that holds the child's full output (kept on failure). */
export class StepError extends Error {
  constructor(
    readonly step: string,
    readonly logFile: string,
    message: string,
    /** The child's exit code, when a child failed. */
    readonly exitCode?: number,
  ) {
    super(`step "${step}" failed: ${message}\n  log: ${logFile}`);
  }
}

/** Prints each step's name, then its duration; a failure names the step and where its log is. */
export class Steps {
  /** In the order the steps finished (background steps overlap others). */
  readonly timings: { step: string; seconds: number }[] = [];
  private count = 0;

  constructor(
    readonly logDir: string,
    private readonly print: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  logFile(step: string): string {
    return join(this.logDir, `${step}.log`);
  }

  async run<T>(step: string, title: string, body: (log: string) => Promise<T>): Promise<T> {
    const started = Date.now();
    const n = ++this.count;
    this.print(`[${n}] ${title} ...`);
    try {
      const result = await body(this.logFile(step));
      const seconds = (Date.now() - started) / 1000;
      this.timings.push({ step, seconds });
      this.print(`[${n}] ${title}: done in ${seconds.toFixed(1)} s`);
      return result;
    } catch (error) {
      const err =
        error instanceof StepError
          ? error
          : new StepError(step, this.logFile(step), error instanceof Error ? error.message : String(error));
      this.print(`[${n}] ${title}: FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      throw err;
    }
  }
}

export interface ExecOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Appends stdout and stderr here. */
  readonly log: string;
  /** Also returned (stdout only), besides going to the log. */
  readonly captureStdout?: boolean;
  readonly step: string;
  /** Text written to stdin (otherwise stdin is closed: nothing may wait for input). */
  readonly input?: string;
}

const INFO_LINE = /^(\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) INFO /;

/** The log's last lines that say something: JVM and py4j INFO chatter after a Python traceback would hide it. */
function logTail(log: string): string {
  return readFileSync(log, "utf8")
    .trimEnd()
    .split("\n")
    .filter((line) => !INFO_LINE.test(line))
    .slice(-15)
    .join("\n    ");
}

function exitError(command: string, args: readonly string[], code: number, options: ExecOptions): StepError {
  return new StepError(
    options.step,
    options.log,
    `${relative(options.cwd, command) || command} ${args.join(" ")} exited with ${code}\n    ${logTail(options.log)}`,
    code,
  );
}

/** Runs a command to completion; rejects with a StepError quoting the log's last lines on a non-zero exit. */
export async function exec(command: string, args: readonly string[], options: ExecOptions): Promise<string> {
  const fd = openSync(options.log, "a");
  const chunks: Buffer[] = [];
  const started = performance.now();
  try {
    const code = await new Promise<number>((ok, fail) => {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env,
        stdio: [options.input === undefined ? "ignore" : "pipe", options.captureStdout ? "pipe" : fd, fd],
      });
      child.stdout?.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        writeSync(fd, chunk); // the log holds everything, captured output included
      });
      if (options.input !== undefined) child.stdin?.end(options.input);
      child.once("error", fail);
      child.once("close", (c, signal) => ok(c ?? (signal ? 128 : 1)));
    });
    // Each command's duration in the log: where a step's time goes.
    writeSync(
      fd,
      `\n# ${basename(command)} ${args.slice(0, 2).join(" ")}: exit ${code} after ${seconds(started)} s\n`,
    );
    if (code !== 0) throw exitError(command, args, code, options);
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

/** A JSON object a child printed on a line of its stdout. */
export type ChildEvent = Record<string, unknown>;

/** A running child that reports progress as JSON lines on stdout (everything also goes to its log). */
export interface EventProcess {
  /** Resolves with the next event `matches` accepts; rejects with a StepError if the child exits first. */
  next(matches: (event: ChildEvent) => boolean): Promise<ChildEvent>;
  /** Resolves when the child exited with 0; rejects with a StepError quoting its log otherwise. */
  readonly exited: Promise<void>;
  /** Ends the child if it is still running (nothing is left behind when a caller gives up on it). */
  stop(): Promise<void>;
}

export function startWithEvents(
  command: string,
  args: readonly string[],
  options: ExecOptions,
): EventProcess {
  const fd = openSync(options.log, "a");
  const events: ChildEvent[] = [];
  const waiters: (() => void)[] = [];
  let failure: StepError | undefined;
  let ended = false;
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", fd] });
  let pending = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    writeSync(fd, chunk);
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      try {
        events.push(JSON.parse(line) as ChildEvent);
      } catch {
        // not an event: output of the child's own, kept in the log only
      }
    }
    wake();
  });
  const exited = new Promise<void>((ok, fail) => {
    child.once("error", (error) => {
      failure = new StepError(options.step, options.log, error.message);
      ended = true;
      wake();
      closeSync(fd);
      fail(failure);
    });
    child.once("close", (c, signal) => {
      const code = c ?? (signal ? 128 : 1);
      ended = true;
      if (code !== 0) failure = exitError(command, args, code, options);
      wake();
      closeSync(fd);
      if (failure) fail(failure);
      else ok();
    });
  });
  exited.catch(() => undefined); // observed through next() or by the caller awaiting `exited`
  return {
    exited,
    async stop() {
      if (ended) return;
      child.kill("SIGTERM");
      await exited.catch(() => undefined);
    },
    async next(matches) {
      for (;;) {
        const index = events.findIndex(matches);
        if (index >= 0) return events.splice(0, index + 1)[index];
        if (ended) {
          throw (
            failure ??
            new StepError(
              options.step,
              options.log,
              `${basename(command)} ended without the expected progress`,
            )
          );
        }
        await new Promise<void>((ok) => waiters.push(ok));
      }
    },
  };
}
