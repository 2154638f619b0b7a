// Demo benchmark: wall time of `make demo DEMO_ARGS="--then destroy"` after set-up, step by step, as a newcomer
// runs it (each step's seconds as the CLI prints them; `destroy` = from the first destroy step until the lake and
// its state bootstrap are destroyed; `demo` = the rest of `make demo`, including the refresh demo that runs after
// the lake is destroyed). Several checkouts can be compared under the same conditions: runs alternate between
// them and each figure is the median of its runs.
//
//   npx tsx scripts/bench-demo.ts [--runs 3] [--checkout DIR ...]   (default: this checkout)
//
// Each run uses a free port for local AWS, so nothing else's local lake is disturbed.
import { spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { freePort } from "../tools/local-aws/moto-server";

interface Run {
  /** Step title -> seconds, in the order printed. */
  readonly steps: Map<string, number>;
  readonly demo: number;
  /** Of `demo`: from `make` to the first step (make's set-up check, the CLI's start) and after the destroy. */
  readonly beforeSteps: number;
  readonly afterDestroy: number;
  readonly destroy: number;
  readonly total: number;
}

const STEP_START = /^\[\d+\] .+ \.\.\.$/;
const STEP_DONE = /^\[\d+\] (.+): done in (\d+\.\d) s$/;
const STEP_FAILED = /^\[\d+\] (.+): FAILED after/;
const DESTROY_STEP = /^\[\d+\] terraform destroy /;
const DESTROYED = /^Destroyed the lake and its state bootstrap/;

async function runOnce(checkout: string): Promise<Run> {
  const port = await freePort();
  const started = performance.now();
  let firstStep: number | undefined;
  let destroyStarted: number | undefined;
  let destroyEnded: number | undefined;
  const steps = new Map<string, number>();
  const output: string[] = [];
  const code = await new Promise<number>((ok, fail) => {
    const child = spawn("make", ["demo", `DEMO_ARGS=--then destroy --port ${port}`], {
      cwd: checkout,
      env: { ...process.env, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let pending = "";
    const onData = (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        output.push(line);
        if (firstStep === undefined && STEP_START.test(line)) firstStep = performance.now();
        if (destroyStarted === undefined && DESTROY_STEP.test(line)) destroyStarted = performance.now();
        if (DESTROYED.test(line)) destroyEnded = performance.now();
        const done = STEP_DONE.exec(line);
        // The same step in every run: moto's title names its port.
        if (done) steps.set(done[1].replace(/127\.0\.0\.1:\d+/, "127.0.0.1"), Number(done[2]));
        const failed = STEP_FAILED.exec(line);
        if (failed) process.stderr.write(`${line}\n`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", fail);
    child.once("close", (c) => ok(c ?? 1));
  });
  const ended = performance.now();
  if (code !== 0 || firstStep === undefined || destroyStarted === undefined || destroyEnded === undefined) {
    throw new Error(`make demo in ${checkout} exited with ${code}:\n${output.slice(-30).join("\n")}`);
  }
  return {
    steps,
    demo: (ended - started - (destroyEnded - destroyStarted)) / 1000,
    beforeSteps: (firstStep - started) / 1000,
    afterDestroy: (ended - destroyEnded) / 1000,
    destroy: (destroyEnded - destroyStarted) / 1000,
    total: (ended - started) / 1000,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive integer, got "${text}"`);
  return n;
}

async function main(): Promise<void> {
  const opts = new Command("bench-demo")
    .option("--runs <n>", "runs per checkout", positiveInt, 3)
    .option("--checkout <dir...>", "checkouts to compare (each set up with `make setup`)", [
      resolve(__dirname, ".."),
    ])
    .parse()
    .opts<{ runs: number; checkout: string[] }>();
  const checkouts = opts.checkout.map((dir) => resolve(dir));
  process.stdout.write(
    `bench-demo: ${opts.runs} run(s) per checkout, alternating; ${cpus().length} cores, ` +
      `load average ${loadavg()[0].toFixed(2)} at the start\n`,
  );
  const runs = new Map<string, Run[]>(checkouts.map((c) => [c, []]));
  for (let i = 0; i < opts.runs; i++) {
    for (const checkout of checkouts) {
      const run = await runOnce(checkout);
      runs.get(checkout)?.push(run);
      const steps = [...run.steps].map(([title, s]) => `${title.split(" (")[0]} ${s.toFixed(1)}`).join(", ");
      process.stdout.write(
        `run ${i + 1} ${checkout}: demo ${run.demo.toFixed(1)} s (before the first step ` +
          `${run.beforeSteps.toFixed(1)}, after the destroy ${run.afterDestroy.toFixed(1)}), destroy ` +
          `${run.destroy.toFixed(1)} s (${steps}); load ${loadavg()[0].toFixed(2)}\n`,
      );
    }
  }
  // One table: a row per step (union over the checkouts, in first-seen order), a column per checkout.
  const titles: string[] = [];
  for (const list of runs.values())
    for (const run of list)
      for (const title of run.steps.keys()) if (!titles.includes(title)) titles.push(title);
  const cell = (values: number[]) => (values.length ? median(values).toFixed(1) : "-");
  const rows = [
    ["step (seconds, median)", ...checkouts],
    ...titles.map((title) => [
      title,
      ...checkouts.map((c) => cell((runs.get(c) ?? []).flatMap((r) => r.steps.get(title) ?? []))),
    ]),
    [
      "before the first step (make's set-up check, the CLI's start)",
      ...checkouts.map((c) => cell((runs.get(c) ?? []).map((r) => r.beforeSteps))),
    ],
    [
      "after the destroy (the refresh demo)",
      ...checkouts.map((c) => cell((runs.get(c) ?? []).map((r) => r.afterDestroy))),
    ],
    [
      "demo total (make demo without the destroy)",
      ...checkouts.map((c) => cell((runs.get(c) ?? []).map((r) => r.demo))),
    ],
    ["destroy total", ...checkouts.map((c) => cell((runs.get(c) ?? []).map((r) => r.destroy)))],
    ["wall total", ...checkouts.map((c) => cell((runs.get(c) ?? []).map((r) => r.total)))],
  ];
  process.stdout.write(`\n${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
