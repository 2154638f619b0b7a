// Synthesis benchmark: wall time to synthesize every stack of every environment, warm (one discarded warm-up
// run, then the median of several), for the app run directly (cdktf.json's app: `tsx main.ts`) and through the
// `cdktf synth` CLI, which wraps the same app.
//
//   npx tsx scripts/bench-synth.ts [runs=5]
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repoRoot = resolve(__dirname, "..");
const bin = (name: string) => join(repoRoot, "node_modules", ".bin", name);

interface Subject {
  readonly label: string;
  /** Runs one synthesis into `outdir`. */
  readonly synth: (outdir: string) => void;
}

const quietEnv = { ...process.env, CHECKPOINT_DISABLE: "1", CI: "true" };

const subjects: Subject[] = [
  {
    label: "tsx main.ts (the app)",
    synth: (outdir) =>
      execFileSync(bin("tsx"), ["main.ts"], {
        cwd: repoRoot,
        env: { ...quietEnv, CDKTF_OUTDIR: outdir },
        stdio: "pipe",
      }),
  },
  {
    label: "cdktf synth (CLI)",
    synth: (outdir) =>
      execFileSync(bin("cdktf"), ["synth", "--output", outdir], {
        cwd: repoRoot,
        env: quietEnv,
        stdio: "pipe",
      }),
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * CPU seconds (user + system) of this process's finished children, from /proc/self/stat (Linux; fields
 * cutime and cstime in clock ticks of 1/100 s): unlike wall time, barely affected by other load on the machine.
 */
function childCpuSeconds(): number | undefined {
  if (!existsSync("/proc/self/stat")) return undefined;
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function timeOnce(subject: Subject): { seconds: number; cpu?: number; stacks: number } {
  const outdir = mkdtempSync(join(tmpdir(), "bench-synth-"));
  try {
    const cpuBefore = childCpuSeconds();
    const start = process.hrtime.bigint();
    subject.synth(outdir);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpuAfter = childCpuSeconds();
    const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { stacks: object };
    return { seconds, cpu, stacks: Object.keys(manifest.stacks).length };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function main(): void {
  const runs = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`runs must be a positive integer, got "${process.argv[2]}"`);
  // The load average says how much the figures are worth on a shared machine.
  const load = loadavg()[0]?.toFixed(1);
  console.log(
    `synthesis benchmark: ${runs} warm run(s) each after one warm-up, ${cpus().length} CPU(s), load ${load}`,
  );
  for (const subject of subjects) {
    process.stdout.write(`${subject.label}: warm-up`);
    const { stacks } = timeOnce(subject);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const run = timeOnce(subject);
      times.push(run.seconds);
      if (run.cpu !== undefined) cpu.push(run.cpu);
      process.stdout.write(` ${run.seconds.toFixed(2)}s`);
    }
    const spread = `min ${Math.min(...times).toFixed(2)} s, max ${Math.max(...times).toFixed(2)} s`;
    const cpuFigure = cpu.length ? `, CPU median ${median(cpu).toFixed(2)} s` : "";
    console.log(`\n  ${stacks} stacks: wall median ${median(times).toFixed(2)} s (${spread})${cpuFigure}`);
  }
}

main();
