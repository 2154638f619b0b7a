import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join, relative } from "node:path";

/** A failed step: names the step and the log that holds the child's full output (kept on failure). */
export class StepError extends Error {
  constructor(
    readonly step: string,
    readonly logFile: string,
    message: string,
  ) {
    super(`step "${step}" failed: ${message}\n  log: ${logFile}`);
  }
}

/** Prints each step's name, then its duration; a failure names the step and where its log is. */
export class Steps {
  readonly timings: { step: string; seconds: number }[] = [];

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
    const n = this.timings.length + 1;
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

/** Runs a command to completion; rejects with a StepError quoting the log's last lines on a non-zero exit. */
export async function exec(command: string, args: readonly string[], options: ExecOptions): Promise<string> {
  const fd = openSync(options.log, "a");
  const chunks: Buffer[] = [];
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
    if (code !== 0) {
      // The last lines that say something: JVM and py4j INFO chatter after a Python traceback would hide it.
      const tail = readFileSync(options.log, "utf8")
        .trimEnd()
        .split("\n")
        .filter((line) => !INFO_LINE.test(line))
        .slice(-15)
        .join("\n    ");
      throw new StepError(
        options.step,
        options.log,
        `${relative(options.cwd, command) || command} ${args.join(" ")} exited with ${code}\n    ${tail}`,
      );
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
